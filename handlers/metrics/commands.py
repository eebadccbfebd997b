"""`/qms dor`, `/qms dod`, `/qms metrics`, `/qms setup token` and `/qms setup digest`."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import metrics
from bot import digests
from bot.core import render
from bot.core.errors import Invalid, Refusal
from bot.core.timeutil import utcnow
from handlers.core import people
from handlers.core.commands import Command, Subcommands
from handlers.core.forms import MalformedPayload, field, inline_errors, metadata, refused, view_values
from storage import metrics as metric_store
from storage import teams as team_store

PERIODS = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}
PERIOD_WORDS = {"": "week", "day": "day", "today": "day", "daily": "day", "24h": "day", "week": "week",
                "weekly": "week", "7d": "week", "month": "month", "monthly": "month", "30d": "month"}
RECENT = timedelta(days=7)  # the running figure shown after a check, and on App Home


def register(app: App, services, subcommands: Subcommands) -> None:
    subcommands.add("dor", lambda command: check(services, command, metrics.DOR))
    subcommands.add("dod", lambda command: check(services, command, metrics.DOD))
    subcommands.add("metrics", lambda command: show_metrics(services, command))
    subcommands.add("setup token", lambda command: ci_token(services, command))
    subcommands.add("setup digest", lambda command: digest_time(services, command))

    @app.view("metrics_check")
    def submit_check(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        save_check(services, ack, body, view, client)


# --- DoR and DoD checks ---------------------------------------------------------------------------
def check(services, command: Command, kind: str) -> None:
    """`/qms dor` opens the form; `/qms dor pass PROJ-123 15m` records at once."""
    if not command.args:
        return open_check_form(services, command, kind)
    if command.args.lower() in ("help", "?"):
        return command.ack(response_type="ephemeral", text=render.phrase("metrics.check_usage", kind=kind))
    form = metrics.parse_quick_check(kind, command.args)
    now = utcnow()
    try:
        with services.db.transaction() as session:
            team = command.team(session)
            saved = metrics.record_check(session, team, form, actor_id=command.user_id, now=now)
            figure = _pass_rate(session, team, kind, now=now)
    except Invalid as invalid:
        text = " ".join(render.phrase(p.key, **p.params) for p in invalid.problems.values())
        return command.ack(response_type="ephemeral", text=text)
    command.reply("metrics/check_saved.json.j2", check=saved, team_name=team.name, figure=figure)


def open_check_form(services, command: Command, kind: str) -> None:
    command.ack()  # the trigger_id lives 3 s: acknowledge, then open the modal straight away
    with services.db.transaction() as session:
        team = command.team(session)
    command.client.views_open(trigger_id=command.trigger_id,
                              view=check_form(kind, team, channel_id=command.channel_id))


def check_form(kind: str, team, *, channel_id: str | None) -> dict[str, Any]:
    state = json.dumps({"kind": kind, "team_id": team.id, "channel_id": channel_id})
    return render.view("metrics/check_modal.json.j2", kind=kind, team_name=team.name, metadata=state,
                       form=metrics.CheckForm(kind=kind, work_item=None, result=None))


def save_check(services, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
    workspace_id, user_id = field(body, "team", "id"), field(body, "user", "id")
    state = metadata(view)
    kind = field(state, "kind")
    team_id = field(state, "team_id", kind=int)
    channel_id = field(state, "channel_id", default=None)
    if kind not in metrics.KINDS:
        raise MalformedPayload(f"unknown check kind {kind!r}")
    if isinstance(team_id, bool) or not 0 < team_id < 10**9:  # an id the database's integer holds
        raise MalformedPayload(f"team id {team_id} is out of range")
    values = view_values(view)
    form = metrics.CheckForm(kind=kind, work_item=values.get("work_item"), result=values.get("result"),
                             reason=values.get("reason"), minutes=values.get("minutes"), note=values.get("note"))
    now = utcnow()
    try:
        with services.db.transaction() as session:
            team = team_store.get_team(session, workspace_id, team_id)
            if team is None:
                raise Refusal("metrics.team_gone")
            saved = metrics.record_check(session, team, form, actor_id=user_id, now=now)
            figure = _pass_rate(session, team, kind, now=now)
    except Invalid as invalid:
        return ack(**inline_errors(invalid))
    except Refusal as refusal:
        return ack(**refused(refusal, title="Quality check"))
    answer = render.message("metrics/check_saved.json.j2", check=saved, team_name=team.name, figure=figure)
    if channel_id:
        ack()
        client.chat_postEphemeral(channel=channel_id, user=user_id, text=answer["text"], blocks=answer["blocks"])
        return
    # Opened from App Home: say so in the modal, and refresh the Home tab's figures.
    ack(response_action="update", view=render.view("common/notice_modal.json.j2", title="Quality check",
                                                  text=answer["blocks"][0]["text"]["text"]))
    from handlers.home import tab as home  # imported here: home imports this module for its buttons

    home.publish(services, client, workspace_id=workspace_id, user_id=user_id)


def _pass_rate(session, team, kind: str, *, now) -> metrics.Figure | None:
    report = metrics.report(session, team, metrics.recent_bounds(now, RECENT))
    return report.figure("dor_pass_rate" if kind == metrics.DOR else "dod_success")


# --- /qms metrics ---------------------------------------------------------------------------------
def show_metrics(services, command: Command) -> None:
    word = command.args.strip().lower()
    period = PERIOD_WORDS.get(word)
    if period is None:
        return command.ack(response_type="ephemeral", text=render.phrase("metrics.metrics_usage", word=word))
    now = utcnow()
    with services.db.transaction() as session:
        team = command.team(session)
        report, sections = digests.figures(session, team, metrics.recent_bounds(now, PERIODS[period]))
    command.reply("metrics/report.json.j2", report=report, sections=sections, period=period)


# --- /qms setup token -------------------------------------------------------------------------------
def ci_token(services, command: Command) -> None:
    """`/qms setup token` creates a token (shown once, in this ephemeral answer only);
    `list` shows the live ones; `revoke <prefix>` or `revoke all` revokes."""
    verb, _, rest = command.args.partition(" ")
    verb = verb.lower()
    if verb not in ("", "new", "create", "list", "revoke"):
        return command.ack(response_type="ephemeral", text=render.phrase("metrics.token_usage"))
    person = people.lookup(command.client, command.user_id)
    now = utcnow()
    with services.db.transaction() as session:
        team = command.team(session)
        metrics.require_token_manager(session, team, command.user_id, workspace_admin=person.is_workspace_admin,
                                 verb=verb if verb in metrics.TOKEN_VERBS else "create")
        if verb == "list":
            tokens, revoked, token = _live(session, team), [], None
        elif verb == "revoke":
            revoked = metrics.revoke_tokens(session, team, rest, actor_id=command.user_id, now=now)
            tokens, token = _live(session, team), None
        else:
            token, _row = metrics.create_token(session, team, actor_id=command.user_id, now=now)
    if token is not None:
        return command.reply("metrics/token_created.json.j2", token=token, team_name=team.name)
    command.reply("metrics/tokens.json.j2", team_name=team.name, tokens=tokens, revoked=revoked)


def _live(session, team):
    return metric_store.live_tokens(session, team.workspace_id, team.id)


# --- /qms setup digest --------------------------------------------------------------------------------
def digest_time(services, command: Command) -> None:
    """`/qms setup digest` shows when the team's digests go out; `/qms setup digest 08:30` changes it."""
    now = utcnow()
    value = command.args.strip()
    person = people.lookup(command.client, command.user_id) if value else None
    with services.db.transaction() as session:
        team = command.team(session)
        if value:
            digests.set_digest_time(session, team, value, actor_id=command.user_id,
                                            workspace_admin=person.is_workspace_admin, now=now)
    command.reply("digests/schedule.json.j2", team=team, channel=team.digest_channel_id or team.home_channel_id,
                  upcoming=digests.next_occurrences(team, now=now), changed=bool(value))
