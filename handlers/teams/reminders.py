"""A person's reminders: "Remind me later" under each reminder, and `/qms settings quiet 18:00-09:00`
(their own quiet hours, beyond the team's working hours). The rules are in bot/teams/notices.py."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core import render
from bot.core.errors import Refusal
from bot.core.timeutil import utcnow
from bot.teams import notices
from handlers.core.commands import Command, Subcommands
from handlers.core.deps import Services
from handlers.core.press import Press

SETTINGS_WORDS = ("", "quiet", "help")


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    subcommands.add("settings", lambda command: settings(services, command))

    @app.action(re.compile(r"^remind_later_(1h|4h|morning)$"))
    def remind_later(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        press = Press.of(body)
        item_id = press.row_id
        choice = str(body["actions"][0]["action_id"]).removeprefix("remind_later_")
        ack()
        try:
            with services.transaction() as session:
                snoozed = notices.snooze(session, press.workspace_id, item_id, press.user_id, choice, now=utcnow())
        except Refusal as refusal:
            press.refuse(respond, client, refusal, title="Reminders")
            return
        respond(response_type="ephemeral", replace_original=False,
                text=render.phrase("teams.snoozed", until=snoozed.until, count=snoozed.count))


def settings(services: Services, command: Command) -> None:
    word, _, rest = command.args.strip().partition(" ")
    word = word.lower()
    if word not in SETTINGS_WORDS:
        return command.ack(response_type="ephemeral", text=render.phrase("teams.settings_usage"))
    if word == "help":
        return command.ack(response_type="ephemeral", text=render.phrase("teams.settings_usage"))
    now = utcnow()
    with services.transaction() as session:
        if word == "quiet":
            notices.set_quiet_hours(session, command.workspace_id, command.user_id, rest,
                                    timezone=_default_zone(services, command, session), now=now)
        shown = notices.settings_of(session, command.workspace_id, command.user_id)
    command.reply("teams/settings.json.j2", changed=word == "quiet", **shown)


def _default_zone(services: Services, command: Command, session) -> str:
    """The time zone of the person's team (this channel's, or their only one), else the app's."""
    try:
        return command.team(session).timezone
    except Refusal:
        return getattr(services.settings.timezone, "key", "UTC")
