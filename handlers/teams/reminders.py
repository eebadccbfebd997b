"""A person's reminders: "Remind me later" under each reminder (in 1 h, in 4 h, the next working
morning, or "Pick a time…", a small modal with a day and a time), and `/qms settings quiet 18:00-09:00`
(their own quiet hours, beyond the team's working hours). The rules are in bot/teams/notices.py."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core import render
from bot.core.errors import Invalid, Refusal
from bot.core.timeutil import utcnow
from bot.teams import notices
from handlers.core.commands import Command, Subcommands
from handlers.core.deps import Services
from handlers.core.payload import field, metadata, row_id, view_values
from handlers.core.press import Press
from handlers.core.replies import inline_errors, refused

PICK_VIEW = "remind_later_pick"

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

    @app.action("remind_later_pick")
    def pick_pressed(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        press = Press.of(body)
        item_id, trigger_id = press.row_id, press.trigger_id  # malformed without them: a 400 before the ack
        channel_id = field(body, "channel", "id", default=None)
        ack()
        open_pick(services, press, item_id, trigger_id, channel_id, respond, client)

    @app.view(PICK_VIEW)
    def pick_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        save_pick(services, ack, body, view, client)


def _app_zone(services: Services) -> str:
    return getattr(services.settings.timezone, "key", "UTC")


def open_pick(services: Services, press: Press, item_id: int, trigger_id: str, channel_id: str | None,
              respond: Respond, client: WebClient) -> None:
    """"Pick a time…" opens the day-and-time form, only on the person's own reminder (as the other
    choices refuse anyone else); it starts at this time tomorrow, in the zone the time is read in."""
    now = utcnow()
    try:
        with services.transaction() as session:
            timezone = notices.snooze_zone(session, press.workspace_id, item_id, press.user_id,
                                           default=_app_zone(services))
    except Refusal as refusal:
        return press.refuse(respond, client, refusal, title="Reminders")
    tomorrow = (now + timedelta(days=1)).astimezone(notices.zone(timezone))
    client.views_open(trigger_id=trigger_id, view=render.view(
        "teams/remind_later_modal.json.j2", timezone=timezone, day=tomorrow.date().isoformat(),
        at=tomorrow.strftime("%H:00"), days=notices.PICK_AHEAD_MAX.days,
        metadata=json.dumps({"item_id": item_id, "channel_id": channel_id})))


def save_pick(services: Services, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
    """The picked day and time: the reminder's items wait until then (one transaction, audited), and the
    person is told beside the reminder; a missing, past or too distant time is shown under its field."""
    workspace_id, user_id = field(body, "team", "id"), field(body, "user", "id")
    state = metadata(view)
    item_id = row_id(field(state, "item_id", kind=int))
    channel_id = field(state, "channel_id", default=None)
    values = view_values(view)
    day, at = values.get("date"), values.get("time")
    try:
        with services.transaction() as session:
            snoozed = notices.snooze_at(session, workspace_id, item_id, user_id, day, at,
                                        default_zone=_app_zone(services), now=utcnow())
    except Invalid as invalid:
        return ack(**inline_errors(invalid))
    except Refusal as refusal:
        return ack(**refused(refusal, title="Reminders"))
    ack()
    client.chat_postEphemeral(channel=channel_id or user_id, user=user_id,
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
