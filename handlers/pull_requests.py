"""`/qms setup github|gitlab` (connect a team's repositories) and `/qms link github|gitlab <login>`.

    /qms setup github                       the webhook's URL, secret (shown once), events and repositories
    /qms setup github add acme/api [...]    the team's repositories (an address works too)
    /qms setup github remove acme/api
    /qms setup github rotate                a new secret; the old one stops working
    /qms link                               your links, and how to link
    /qms link github octocat [@person]      you (or, for a lead, @person) are octocat on GitHub
    /qms link github remove octocat
"""

from __future__ import annotations

import re

from bot import render, teams
from bot.errors import Refusal
from bot.pull_requests import connections, service
from bot.timeutil import utcnow
from handlers import people
from handlers.commands import Command, Subcommands
from storage import pull_requests as store
from storage.pull_requests import GITHUB, GITLAB, PROVIDERS

MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
SETUP_VERBS = ("", "add", "remove", "rotate", "help")


def register(app, services, subcommands: Subcommands) -> None:
    subcommands.add("setup github", lambda command: setup(services, command, GITHUB))
    subcommands.add("setup gitlab", lambda command: setup(services, command, GITLAB))
    subcommands.add("link", lambda command: link(services, command))


# --- /qms setup github|gitlab ----------------------------------------------------------------------
def setup(services, command: Command, provider: str) -> None:
    verb, _, rest = command.args.strip().partition(" ")
    verb = verb.lower()
    if verb not in SETUP_VERBS or verb == "help" or (verb in ("add", "remove") and not rest.strip()):
        return command.ack(response_type="ephemeral", text=render.phrase(
            "pull_requests.setup_usage", provider=provider, unknown=None if verb in SETUP_VERBS else verb))
    key = services.settings.webhook_key
    if key is None:
        raise Refusal("pull_requests.no_webhook_key")
    admin = people.lookup(command.client, command.user_id).is_workspace_admin  # before the database lock
    now, secret, added, removed = utcnow(), None, [], []
    with services.db.transaction() as session:
        team = command.team(session)
        may_change = teams.may_manage(session, team, command.user_id, workspace_admin=admin)
        if verb == "rotate":
            secret = connections.rotate(session, team, provider, key=key, actor_id=command.user_id,
                                        workspace_admin=admin, now=now)
        elif verb == "remove":
            removed = [connections.remove_repository(session, team, provider, name, actor_id=command.user_id,
                                                     workspace_admin=admin, now=now) for name in rest.split()]
        elif may_change or verb == "add":  # the first look of a lead creates the webhook's secret
            _, secret = connections.connect(session, team, provider, key=key, actor_id=command.user_id,
                                            workspace_admin=admin, now=now)
            added = [connections.add_repository(session, team, provider, name, actor_id=command.user_id,
                                                workspace_admin=admin, now=now)[0].name for name in rest.split()]
        view = {"connection": connections.connection(session, team, provider),
                "repositories": [r.name for r in store.repositories(session, team.workspace_id, team.id)
                                 if r.provider == provider],
                "rules": connections.rules_of(session, team)}
    command.reply("pull_requests/setup.json.j2", provider=provider, team=team, secret=secret, added=added,
                  removed=removed, may_change=may_change, rotated=verb == "rotate",
                  url=f"{services.settings.webhook_url}/webhooks/{provider}",
                  requests_reviewers=provider == GITHUB and bool(services.settings.github_token), **view)


# --- /qms link -------------------------------------------------------------------------------------------
def link(services, command: Command) -> None:
    words = command.args.split()
    provider = connections.provider_named(words[0]) if words else None
    if not words or words[0].lower() == "help" or provider is None or len(words) < 2:
        with services.db.transaction() as session:
            mine = connections.links_of(session, command.workspace_id, command.user_id)
        return command.reply("pull_requests/links.json.j2", links=mine, providers=PROVIDERS,
                             unknown=None if not words or words[0].lower() == "help" or provider else words[0])
    admin = people.lookup(command.client, command.user_id).is_workspace_admin
    now = utcnow()
    if words[1].lower() == "remove" and len(words) == 3:
        with services.db.transaction() as session:
            gone = connections.unlink_login(session, command.workspace_id, provider, words[2],
                                            actor_id=command.user_id, workspace_admin=admin, now=now)
        return command.ack(response_type="ephemeral", text=render.phrase(
            "pull_requests.unlinked", provider=provider, login=gone.login, user=gone.user_id))
    target = _person(words[2:], command.user_id)
    if target is None:
        return command.ack(response_type="ephemeral", text=render.phrase("pull_requests.link_usage"))
    if target != command.user_id and not people.lookup(command.client, target).is_person:
        raise Refusal("pull_requests.not_a_person", user=target)
    with services.db.transaction() as session:
        linked, moved = service.link_login(session, command.workspace_id, provider, words[1], target,
                                           actor_id=command.user_id, workspace_admin=admin, now=now)
    services.deliver_outbox()  # the cards of requests that became the person's
    command.ack(response_type="ephemeral", text=render.phrase(
        "pull_requests.linked", provider=provider, login=linked.login, user=target, yourself=target == command.user_id,
        before=linked.before if linked.changed else None, unchanged=not linked.changed,
        moved=[r.label for r in moved]))


def _person(words: list[str], user_id: str) -> str | None:
    """Who to link: the one @person named, else whoever typed it; None when the rest is not that."""
    if not words:
        return user_id
    match = MENTION.match(words[0]) if len(words) == 1 else None
    return match.group(1) if match else None
