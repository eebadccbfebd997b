"""`/qms risk`: the team's risk register — log (modal or quick add), list, show, export, bands.

The buttons and checkboxes on risk cards (edit, re-score, close, ticks) and the list's pages
are in handlers/risks/buttons.py.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import risks, teams
from bot.core import render
from bot.core.errors import Invalid, Refusal
from bot.core.timeutil import utcnow
from bot.risks import heatmap
from bot.risks import RiskForm, action_lines, band_ranges, parse_label, parse_quick_add, review_date
from handlers.core import people, remembered
from handlers.core.commands import Command, Subcommands
from handlers.core.deps import Services
from handlers.core.payload import field, metadata, row_id, text, view_values
from handlers.core.replies import inline_errors, refused
from handlers.core.routing import team_or_refusal
from storage import risks as store
from storage import teams as team_store

log = logging.getLogger(__name__)

SCOPES = {"": "open", "mine": "mine", "all": "all"}


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    subcommands.add("risk", lambda command: risk_command(services, command))

    @app.view("risk_form")
    def submit_form(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        save_form(services, ack, body, view, client)

    @app.view("risk_bands_form")
    def submit_bands(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        save_bands(services, ack, body, view, client)


def risk_command(services: Services, command: Command) -> None:
    """`/qms risk [list [mine|all] | QR-007 | export | bands | help | "Title" p3 i4 @owner]`."""
    args = command.args.strip()
    word, _, rest = args.partition(" ")
    word, rest = word.lower(), rest.strip()
    if not args:
        return open_new_form(services, command)
    if word == "list" and rest.lower() in SCOPES:
        return list_register(services, command, SCOPES[rest.lower()])
    if word == "list" and parse_quick_add(args, default_owner=command.user_id) is None:
        # `list bogus`; a quick add whose title begins with "list" (`list of vendors p3 i4`) is still one
        return command.ack(response_type="ephemeral", text=render.phrase("risks.list_usage", scope=rest))
    if word in ("export", "bands", "help", "matrix") and not rest:
        return {"export": export, "bands": open_bands, "help": usage, "matrix": matrix}[word](services, command)
    if (number := parse_label(args)) is not None:
        return show(services, command, number)
    return quick_add(services, command)


def usage(services: Services, command: Command, unknown: str | None = None) -> None:
    """The subcommands, and the bands of the team the command is about (the guide's when it
    names none)."""
    with services.transaction() as session:
        try:
            team = command.team(session)
        except Refusal:  # no team here, or several to choose from: help needs none
            team = None
    bands = risks.bands_of(team) if team else risks.DEFAULT_BANDS
    command.reply("risks/usage.json.j2", unknown=unknown, team=team.name if team else None, ranges=band_ranges(bands))


# --- logging a risk --------------------------------------------------------------------------------
def open_new_form(services: Services, command: Command) -> None:
    command.ack()  # the trigger_id lives 3 s: acknowledge, then open the modal straight away
    with services.transaction() as session:
        team = command.team(session)
    form = RiskForm(title="", probability=None, impact=None, owner_id=command.user_id, category=None)
    state = json.dumps({"team_id": team.id, "channel_id": command.channel_id})
    command.client.views_open(trigger_id=command.trigger_id, view=render.view(
        "risks/form_modal.json.j2", form=form, editing=None, team=team.name, ranges=band_ranges(risks.bands_of(team)),
        metadata=state))


def save_form(services: Services, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
    """The risk modal submitted: a new risk, or an edit of one (its metadata names the risk)."""
    workspace_id, user_id = field(body, "team", "id"), field(body, "user", "id")
    state = metadata(view)
    editing = field(state, "risk_id", default=None, kind=int)
    editing = row_id(editing) if editing is not None else None
    values = view_values(view)
    now = utcnow()
    try:
        form = _risk_form(values)
        owner_ok = bool(form.owner_id) and people.lookup(client, form.owner_id).is_person
        admin = people.lookup(client, user_id).is_workspace_admin
        with services.transaction() as session:
            if editing:
                risk, team = risks.open_risk(session, workspace_id, editing)
                risks.edit_risk(session, risk, team, form, actor_id=user_id, now=now, workspace_admin=admin,
                                owner_is_person=owner_ok)
            else:
                team = team_or_refusal(session, workspace_id, row_id(field(state, "team_id", kind=int)))
                shown = risks.log_risk(session, team, form, actor_id=user_id, now=now, owner_is_person=owner_ok).shown
    except Invalid as invalid:
        return ack(**inline_errors(invalid))
    except Refusal as refusal:
        return ack(**refused(refusal, title="Edit risk" if editing else "New risk"))
    ack()
    if not editing:
        _whisper(client, state.get("channel_id") or team.home_channel_id, user_id, "risks/logged.json.j2",
                 risk=shown, channel=team.home_channel_id)


def quick_add(services: Services, command: Command) -> None:
    """`/qms risk "Login outage risk" p3 i4 @owner`: logged at once, with the modal's validation."""
    form = parse_quick_add(command.args, default_owner=command.user_id)
    if form is None:
        return usage(services, command, unknown=command.args)
    owner_ok = bool(form.owner_id) and people.lookup(command.client, form.owner_id).is_person
    now = utcnow()
    try:
        with services.transaction() as session:
            team = command.team(session)
            shown = risks.log_risk(session, team, form, actor_id=command.user_id, now=now,
                                   owner_is_person=owner_ok).shown
    except Invalid as invalid:
        problems = [render.phrase(p.key, **p.params) for p in invalid.problems.values()]
        return command.ack(response_type="ephemeral", text=render.phrase("risks.quick_add_invalid", problems=problems))
    command.reply("risks/logged.json.j2", risk=shown, channel=team.home_channel_id)


def _risk_form(values: dict[str, Any]) -> RiskForm:
    """The modal's values as a form; the edit modal has no probability or impact."""
    return RiskForm(
        title=text(values, "title").strip(),
        description=text(values, "description").strip(),
        category=values.get("category"),
        probability=values.get("probability"),
        impact=values.get("impact"),
        owner_id=text(values, "owner") or None,
        actions=action_lines(text(values, "actions")),
        review_by=review_date(text(values, "review_by") or None),
    )


# --- reading the register --------------------------------------------------------------------------
def list_register(services: Services, command: Command, scope: str) -> None:
    now = utcnow()

    def compute(session):
        team = None if scope == "mine" else command.team(session)
        return render.message("risks/list.json.j2", **risks.listing(
            session, command.workspace_id, command.user_id, scope, team.id if team else None, page=1, now=now))

    key = ("risk list", command.workspace_id, command.channel_id, command.user_id, command.chosen_team_id, scope)
    command.ack(**remembered.answer(services, key, now=now, compute=compute))


def show(services: Services, command: Command, number: int) -> None:
    with services.transaction() as session:
        detail = risks.risk_detail(session, command.workspace_id, number=number, now=utcnow())
    command.reply("risks/detail.json.j2", **detail)


# --- the heat map ----------------------------------------------------------------------------------
def matrix(services: Services, command: Command) -> None:
    """`/qms risk matrix`: the team's open risks on a 5 × 5 probability × impact grid, as a PNG posted
    where the command was typed (through the outbox: bot/risks/heatmap.py)."""
    now = utcnow()
    with services.transaction() as session:
        team = command.team(session)
        count = heatmap.queue_png(session, team, command.channel_id,
                                  key=f"risks:matrix:{team.id}:{command.user_id}:{now.isoformat()}", now=now)
    command.ack(response_type="ephemeral", text=render.phrase("risks.matrix_sending", team=team.name, count=count))


# --- export ----------------------------------------------------------------------------------------
def export(services: Services, command: Command) -> None:
    """The team's register as a CSV file, in the asker's DM (through the outbox)."""
    with services.transaction() as session:
        team = command.team(session)
        register = store.team_register(session, team.workspace_id, team.id)
        owners, count = {risk.owner_id for risk in register}, len(register)
    if not count:
        return command.ack(response_type="ephemeral", text=render.phrase("risks.export_empty", team=team.name))
    command.ack(response_type="ephemeral", text=render.phrase("risks.export_sending", team=team.name, count=count))
    names = {owner: _name(command.client, owner) for owner in owners}
    with services.transaction() as session:
        team = team_store.get_team(session, command.workspace_id, team.id)
        risks.queue_csv_for(session, team, command.user_id, now=utcnow(), names=names)


def _name(client: WebClient, user_id: str) -> str:
    try:
        return people.lookup(client, user_id).name
    except SlackApiError:
        return ""  # the export is still useful with IDs only


# --- bands -----------------------------------------------------------------------------------------
def open_bands(services: Services, command: Command) -> None:
    """The bands modal for who may change them; anyone else sees the bands, read-only."""
    command.ack()
    admin = people.lookup(command.client, command.user_id).is_workspace_admin
    with services.transaction() as session:
        team = command.team(session)
        may_change = teams.may_manage(session, team, command.user_id, workspace_admin=admin)
    bands = risks.bands_of(team)
    if not may_change:
        return command.respond(replace_original=False, **render.message(
            "risks/bands.json.j2", team=team.name, ranges=band_ranges(bands), default=bands == risks.DEFAULT_BANDS))
    state = json.dumps({"team_id": team.id, "channel_id": command.channel_id})
    command.client.views_open(trigger_id=command.trigger_id, view=render.view(
        "risks/bands_modal.json.j2", bands=bands, ranges=band_ranges(bands), team=team.name, metadata=state))


def save_bands(services: Services, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
    workspace_id, user_id = field(body, "team", "id"), field(body, "user", "id")
    state = metadata(view)
    values = {name: text(view_values(view), name) for name in risks.DEFAULT_BANDS}
    admin = people.lookup(client, user_id).is_workspace_admin
    try:
        with services.transaction() as session:
            team = team_or_refusal(session, workspace_id, row_id(field(state, "team_id", kind=int)))
            before = risks.bands_of(team)
            bands, cards = risks.set_bands(session, team, values, actor_id=user_id, now=utcnow(),
                                           workspace_admin=admin)
    except Invalid as invalid:
        return ack(**inline_errors(invalid))
    except Refusal as refusal:
        return ack(**refused(refusal, title="Risk bands"))
    ack()
    _whisper(client, state.get("channel_id") or team.home_channel_id, user_id, "risks/bands_saved.json.j2",
             team=team.name, ranges=band_ranges(bands), changed=bands != before, cards=cards)


def _whisper(client: WebClient, where: str, user_id: str, template: str, **context: Any) -> None:
    """An ephemeral confirmation; the change is saved whether or not Slack shows it."""
    payload = render.message(template, **context)
    payload.pop("response_type", None)  # that is for response_url answers, not chat.postEphemeral
    try:
        client.chat_postEphemeral(channel=where, user=user_id, **payload)
    except SlackApiError as error:
        log.warning("could not confirm to %s in %s: %s", user_id, where, error.response.get("error"))
