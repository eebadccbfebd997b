"""`/qms dor` and `/qms dod`: record a Definition-of-Ready or Definition-of-Done check, by form or at once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import metrics
from bot.core import render
from bot.core.errors import Invalid, Refusal
from bot.core.timeutil import utcnow
from handlers.core.commands import Command, Subcommands
from handlers.core.deps import Services
from handlers.core.payload import MalformedPayload, field, metadata, row_id, view_values
from handlers.core.replies import inline_errors, refused
from handlers.core.routing import team_or_refusal
from storage.teams import Team

RECENT = timedelta(days=7)  # the running figure shown after a check, and on App Home


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    subcommands.add("dor", lambda command: check(services, command, metrics.DOR))
    subcommands.add("dod", lambda command: check(services, command, metrics.DOD))

    @app.view("metrics_check")
    def submit_check(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        saved = record(services, ack, body, view)
        if saved is None:
            return
        ack()
        answer = saved.answer()
        client.chat_postEphemeral(channel=saved.channel_id, user=saved.user_id, text=answer["text"],
                                  blocks=answer["blocks"])


def check(services: Services, command: Command, kind: str) -> None:
    """`/qms dor` opens the form; `/qms dor pass PROJ-123 15m` records at once."""
    if not command.args:
        return open_check_form(services, command, kind)
    if command.args.lower() in ("help", "?"):
        return command.ack(response_type="ephemeral", text=render.phrase("metrics.check_usage", kind=kind))
    form = metrics.parse_quick_check(kind, command.args)
    now = utcnow()
    try:
        with services.transaction() as session:
            team = command.team(session)
            saved = metrics.record_check(session, team, form, actor_id=command.user_id, now=now)
            figure = _pass_rate(session, team, kind, now=now)
    except Invalid as invalid:
        text = " ".join(render.phrase(p.key, **p.params) for p in invalid.problems.values())
        return command.ack(response_type="ephemeral", text=text)
    command.reply("metrics/check_saved.json.j2", check=saved, team_name=team.name, figure=figure)


def open_check_form(services: Services, command: Command, kind: str) -> None:
    command.ack()  # the trigger_id lives 3 s: acknowledge, then open the modal straight away
    with services.transaction() as session:
        team = command.team(session)
    command.client.views_open(trigger_id=command.trigger_id,
                              view=check_form(kind, team, channel_id=command.channel_id))


def check_form(kind: str, team: Team, *, channel_id: str | None, callback_id: str = "metrics_check") -> dict[str, Any]:
    """The form of a check; `callback_id` names the listener that saves it (App Home has its own)."""
    state = json.dumps({"kind": kind, "team_id": team.id, "channel_id": channel_id})
    return render.view("metrics/check_modal.json.j2", kind=kind, team_name=team.name, metadata=state,
                       form=metrics.CheckForm(kind=kind, work_item=None, result=None), callback_id=callback_id)


@dataclass(frozen=True)
class Recorded:
    check: Any  # storage.metrics.ItemCheck
    team_name: str
    figure: metrics.Figure | None  # the team's pass rate over the last week, with this check
    user_id: str
    channel_id: str | None  # where the form was opened; None on App Home

    def answer(self) -> dict[str, Any]:
        return render.message("metrics/check_saved.json.j2", check=self.check, team_name=self.team_name,
                              figure=self.figure)


def record(services: Services, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> Recorded | None:
    """A submitted check form, recorded; None when it was not (the form is answered with why)."""
    workspace_id, user_id = field(body, "team", "id"), field(body, "user", "id")
    state = metadata(view)
    kind = field(state, "kind")
    team_id = row_id(field(state, "team_id", kind=int))
    channel_id = field(state, "channel_id", default=None)
    if kind not in metrics.KINDS:
        raise MalformedPayload(f"unknown check kind {kind!r}")
    values = view_values(view)
    form = metrics.CheckForm(kind=kind, work_item=values.get("work_item"), result=values.get("result"),
                             reason=values.get("reason"), minutes=values.get("minutes"), note=values.get("note"))
    now = utcnow()
    try:
        with services.transaction() as session:
            team = team_or_refusal(session, workspace_id, team_id)
            saved = metrics.record_check(session, team, form, actor_id=user_id, now=now)
            figure = _pass_rate(session, team, kind, now=now)
    except Invalid as invalid:
        ack(**inline_errors(invalid))
        return None
    except Refusal as refusal:
        ack(**refused(refusal, title="Quality check"))
        return None
    return Recorded(saved, team.name, figure, user_id, channel_id)


def _pass_rate(session, team: Team, kind: str, *, now) -> metrics.Figure | None:
    report = metrics.report(session, team, metrics.recent_bounds(now, RECENT))
    return report.figure("dor_pass_rate" if kind == metrics.DOR else "dod_success")
