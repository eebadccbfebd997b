"""`/qms link github|gitlab <login> [@person]`: who is who on GitHub and GitLab.

    /qms link                               your links, and how to link
    /qms link github octocat [@person]      you (or, for a lead, @person) are octocat on GitHub
    /qms link github remove octocat
"""

from __future__ import annotations

import re

from slack_bolt import App

from bot import pull_requests
from bot.core import render
from bot.core.errors import Refusal
from bot.core.timeutil import utcnow
from bot.pull_requests import PROVIDERS
from handlers.core import people
from handlers.core.commands import Command, Subcommands
from handlers.core.deps import Services

MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    subcommands.add("link", lambda command: link(services, command))


# --- /qms link -------------------------------------------------------------------------------------------
def link(services: Services, command: Command) -> None:
    words = command.args.split()
    provider = pull_requests.provider_named(words[0]) if words else None
    if not words or words[0].lower() == "help" or provider is None or len(words) < 2:
        with services.transaction() as session:
            mine = pull_requests.links_of(session, command.workspace_id, command.user_id)
        return command.reply("pull_requests/links.json.j2", links=mine, providers=PROVIDERS,
                             unknown=None if not words or words[0].lower() == "help" or provider else words[0])
    admin = people.lookup(command.client, command.user_id).is_workspace_admin
    now = utcnow()
    if words[1].lower() == "remove" and len(words) == 3:
        with services.transaction() as session:
            gone = pull_requests.unlink_login(session, command.workspace_id, provider, words[2],
                                              actor_id=command.user_id, workspace_admin=admin, now=now)
        return command.ack(response_type="ephemeral", text=render.phrase(
            "pull_requests.unlinked", provider=provider, login=gone.login, user=gone.user_id))
    target = _person(words[2:], command.user_id)
    if target is None:
        return command.ack(response_type="ephemeral", text=render.phrase("pull_requests.link_usage"))
    if target != command.user_id and not people.lookup(command.client, target).is_person:
        raise Refusal("pull_requests.not_a_person", user=target)
    with services.transaction() as session:
        linked, moved = pull_requests.link_login(session, command.workspace_id, provider, words[1], target,
                                                 actor_id=command.user_id, workspace_admin=admin, now=now)
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
