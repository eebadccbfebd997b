"""`/qms setup github|gitlab`: a team's webhook (its URL, its secret shown once, the events to tick)
and its repositories.

    /qms setup github                       the webhook's URL, secret (shown once), events and repositories
    /qms setup github add acme/api [...]    the team's repositories (an address works too)
    /qms setup github remove acme/api
    /qms setup github rotate                a new secret; the old one stops working
"""

from __future__ import annotations

from slack_bolt import App

from bot import pull_requests, teams
from bot.core import render
from bot.core.errors import Refusal
from bot.core.timeutil import utcnow
from bot.pull_requests import GITHUB, GITLAB
from handlers.core import people
from handlers.core.commands import Command, Subcommands
from handlers.core.deps import Services

SETUP_VERBS = ("", "add", "remove", "rotate", "help")


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    subcommands.add("setup github", lambda command: setup(services, command, GITHUB))
    subcommands.add("setup gitlab", lambda command: setup(services, command, GITLAB))


# --- /qms setup github|gitlab ----------------------------------------------------------------------
def setup(services: Services, command: Command, provider: str) -> None:
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
    with services.transaction() as session:
        team = command.team(session)
        may_change = teams.may_manage(session, team, command.user_id, workspace_admin=admin)
        if verb == "rotate":
            secret = pull_requests.rotate(session, team, provider, key=key, actor_id=command.user_id,
                                          workspace_admin=admin, now=now)
        elif verb == "remove":
            removed = [pull_requests.remove_repository(session, team, provider, name, actor_id=command.user_id,
                                                       workspace_admin=admin, now=now) for name in rest.split()]
        elif may_change or verb == "add":  # the first look of a lead creates the webhook's secret
            _, secret = pull_requests.connect(session, team, provider, key=key, actor_id=command.user_id,
                                              workspace_admin=admin, now=now)
            added = [pull_requests.add_repository(session, team, provider, name, actor_id=command.user_id,
                                                  workspace_admin=admin, now=now)[0].name for name in rest.split()]
        view = {"connection": pull_requests.connection(session, team, provider),
                "repositories": [r.name for r in pull_requests.repositories(session, team, provider)],
                "rules": pull_requests.rules_of(session, team)}
    command.reply("pull_requests/setup.json.j2", provider=provider, team=team, secret=secret, added=added,
                  removed=removed, may_change=may_change, rotated=verb == "rotate",
                  url=f"{services.settings.webhook_url}/webhooks/{provider}",
                  requests_reviewers=provider == GITHUB and bool(services.settings.github_token), **view)
