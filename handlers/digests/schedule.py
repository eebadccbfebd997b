"""`/qms setup digest [HH:MM]`: when the team's digests go out, and changing it."""

from __future__ import annotations

from slack_bolt import App

from bot import digests
from bot.core.timeutil import utcnow
from handlers.core import people
from handlers.core.commands import Command, Subcommands
from handlers.core.deps import Services


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    subcommands.add("setup digest", lambda command: digest_time(services, command))


def digest_time(services: Services, command: Command) -> None:
    """`/qms setup digest` shows when the team's digests go out; `/qms setup digest 08:30` changes it."""
    now = utcnow()
    value = command.args.strip()
    person = people.lookup(command.client, command.user_id) if value else None
    with services.transaction() as session:
        team = command.team(session)
        if value:
            digests.set_digest_time(session, team, value, actor_id=command.user_id,
                                    workspace_admin=person.is_workspace_admin, now=now)
    command.reply("digests/schedule.json.j2", team=team, channel=team.digest_channel_id or team.home_channel_id,
                  upcoming=digests.next_occurrences(team, now=now), changed=bool(value))
