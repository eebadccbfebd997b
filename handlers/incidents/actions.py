"""The incident card's buttons (Acknowledge, Post update, Escalate now, Resolve), its checklist,
and the modals: declaring, posting an update, resolving, and the escalation thresholds.

Every payload is read into plain values first (a malformed one is a 400 before anything is
acknowledged or changed); then the change runs in one transaction; then the outbox is delivered.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import incidents, teams
from bot.core import render
from bot.core.errors import Invalid, Refusal
from bot.core.timeutil import utcnow
from bot.incidents import CHECKLIST, card_context, reference
from handlers.core import people
from handlers.core.deps import Services
from handlers.core.payload import MalformedPayload, field, metadata, row_id, view_values
from handlers.core.press import Press, change
from handlers.core.replies import inline_errors, refused
from handlers.core.routing import team_or_refusal
from storage import incidents as store
from storage import teams as team_store

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    @app.view("incident_declare")
    def declare(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        submit_declaration(services, ack, body, view, client)

    @app.action("incident_ack")
    def press_acknowledge(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        press = Press.of(body)
        incident_id = press.row_id
        ack()
        change(services, press, respond, client, lambda session, now: incidents.acknowledge(
            session, press.workspace_id, incident_id, actor_id=press.user_id, now=now), title="Incident")

    @app.action("incident_escalate")
    def press_escalate(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        press = Press.of(body)
        incident_id, seen_level = press.row_ids(2)  # "{incident}:{the level its card showed}"
        ack()
        change(services, press, respond, client, lambda session, now: incidents.escalate_now(
            session, press.workspace_id, incident_id, actor_id=press.user_id, seen_level=seen_level, now=now),
            title="Incident")

    @app.action("incident_update")
    def press_update(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        press = Press.of(body)
        incident_id, trigger_id = press.row_id, press.trigger_id
        ack()
        with services.transaction() as session:
            incident = store.get(session, press.workspace_id, incident_id)
        if incident is None:
            return press.refuse(respond, client, Refusal("incidents.gone"), title="Incident")
        # What the modal shows is remembered, so that on submit only the fields changed in it count.
        state = {"incident_id": incident_id, "severity": incident.severity, "commander": incident.commander_id}
        client.views_open(trigger_id=trigger_id, view=render.view(
            "incidents/update_modal.json.j2", incident=incident, metadata=json.dumps(state)))

    @app.action("incident_resolve")
    def press_resolve(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        press = Press.of(body)
        incident_id, trigger_id = press.row_id, press.trigger_id
        ack()
        try:
            incident = _resolvable(services, client, press.workspace_id, press.user_id, incident_id)
        except Refusal as refusal:  # say no now, rather than after the summary is written
            return press.refuse(respond, client, refusal, title="Incident")
        client.views_open(trigger_id=trigger_id, view=render.view(
            "incidents/resolve_modal.json.j2", incident=incident, review_days=incidents.REVIEW_DAYS_DEFAULT,
            metadata=json.dumps({"incident_id": incident_id})))

    @app.action("incident_checklist")
    def tick(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        press = Press.of(body)
        incident_id, step, wanted = _ticks(body)
        ack()
        change(services, press, respond, client, lambda session, now: incidents.tick(
            session, press.workspace_id, incident_id, step, wanted, actor_id=press.user_id, now=now), title="Incident")

    @app.view("incident_update")
    def update(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        submit_update(services, ack, body, view, client)

    @app.view("incident_resolve")
    def resolve(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        submit_resolution(services, ack, body, view, client)

    @app.view("incident_escalation_setup")
    def thresholds(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        submit_thresholds(services, ack, body, view, client)


# --- reading payloads -------------------------------------------------------------------------------------------
def _ticks(body: dict[str, Any]) -> tuple[int, int, dict[str, bool]]:
    """A checklist tick: block_id "checklist:{incident}:{step}", and what the presser changed in that
    step ({item: ticked}). Slack sends every option ticked in the element; comparing them with what
    the presser's copy of the checklist showed tells which one they changed, so two people ticking
    items at once do not undo each other's ticks."""
    block_id = field(body, "actions", 0, "block_id")
    kind, _, rest = block_id.partition(":")
    problem = f"block {block_id!r} is not a checklist step"
    numbers = rest.split(":")
    if kind != "checklist" or len(numbers) != 2:
        raise MalformedPayload(problem)
    incident_id, step = row_id(numbers[0]), row_id(numbers[1])
    if step not in CHECKLIST:
        raise MalformedPayload(problem)
    selected = _checklist_values(field(body, "actions", 0, "selected_options", kind=list), step)
    seen = _seen_in_message(body, block_id, step)
    if seen is None:  # no message in the payload: the selection is the whole step
        wanted = {key: key in selected for key in CHECKLIST[step]}
    else:
        wanted = {key: key in selected for key in CHECKLIST[step] if (key in selected) != (key in seen)}
    return incident_id, step, wanted


def _checklist_values(options: list[Any], step: int) -> set[str]:
    values = {field(option, "value") for option in options}
    if not values <= set(CHECKLIST[step]):
        raise MalformedPayload(f"{sorted(values)} are not items of checklist step {step}")
    return values


def _seen_in_message(body: dict[str, Any], block_id: str, step: int) -> set[str] | None:
    """The items the presser's copy of the checklist showed ticked; None when the payload has none."""
    blocks = field(body, "message", "blocks", default=None, kind=list)
    block = next((b for b in blocks or [] if isinstance(b, dict) and b.get("block_id") == block_id), None)
    if block is None:
        return None
    element = field(block, "elements", 0, kind=dict)
    return _checklist_values(field(element, "initial_options", default=[], kind=list), step)


def _incident_id(view: dict[str, Any]) -> int:
    return row_id(field(metadata(view), "incident_id", kind=int))


# --- buttons ---------------------------------------------------------------------------------------------------------
def _resolvable(services: Services, client: WebClient, workspace_id: str, user_id: str, incident_id: int):
    """The incident, if it is open and this person may resolve it; else the refusal resolving would get."""
    admin = people.lookup(client, user_id).is_workspace_admin
    with services.transaction() as session:
        return incidents.check_may_resolve(session, workspace_id, incident_id, actor_id=user_id,
                                           workspace_admin=admin)


# --- modals --------------------------------------------------------------------------------------------------------
def submit_declaration(services: Services, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
    workspace_id, user_id = field(body, "team", "id"), field(body, "user", "id")
    state = metadata(view)
    team_id, asked_id = row_id(field(state, "team_id", kind=int)), field(state, "duplicate_id", default=None, kind=int)
    asked_id = row_id(asked_id) if asked_id is not None else None
    values = view_values(view)
    answer = values.get("duplicate")  # asked "is this INC-004?": "same", "new", or None when not answered
    if answer not in (None, "same", "new"):
        raise MalformedPayload(f"{answer!r} is not an answer to the duplicate question")
    form = incidents.IncidentForm(
        title=(values.get("title") or "").strip(), severity=values.get("severity"),
        commander_id=values.get("commander") or user_id, affected_systems=values.get("affected_systems"),
        description=values.get("description"))
    if answer == "same":  # whatever else they edited, "it is INC-004" never declares
        return _kept_existing(services, ack, workspace_id, team_id, asked_id, form.title)
    commander_is_person = people.lookup(client, form.commander_id).is_person
    now = utcnow()
    incident = duplicate = None
    try:
        with services.transaction() as session:
            team = team_or_refusal(session, workspace_id, team_id)
            incidents.validate(form, commander_is_person=commander_is_person)
            if answer != "new":
                asked = store.get(session, workspace_id, asked_id) if asked_id is not None else None
                duplicate = asked or incidents.possible_duplicate(session, team, form.title, now=now)
            current = incidents.all_thresholds(team)
            if duplicate is None:
                incident = incidents.declare(session, team, form, actor_id=user_id, now=now)
                own_channel = team.incident_channels
                leads = teams.people_in(session, team, "team_lead")
                next_escalation = card_context(session, incident, team).next_escalation
    except Invalid as invalid:
        return ack(**inline_errors(invalid))
    except Refusal as refusal:
        return ack(**refused(refusal, title="Declare an incident"))
    if incident is None:
        return _ask_duplicate(ack, values, form, duplicate, state, current, now)
    ack()
    problem = open_incident_channel(services, client, workspace_id, incident.id) if own_channel else None
    with services.transaction() as session:
        incident = store.get(session, workspace_id, incident.id)
    _tell(client, state.get("channel_id"), user_id, render.message(
        "incidents/declared.json.j2", incident=incident, leads=leads, next_escalation=next_escalation),
        problem=problem)


def _kept_existing(services: Services, ack: Ack, workspace_id: str, team_id: int, asked_id: int | None, title: str) -> None:
    """They said it is the incident they were asked about: declare nothing, and point to that one."""
    with services.transaction() as session:
        duplicate = store.get(session, workspace_id, asked_id) if asked_id is not None else None
        team = team_store.get_team(session, workspace_id, team_id)
        if duplicate is None and team is not None:  # a form asked before the question named its incident
            duplicate = incidents.possible_duplicate(session, team, title, now=utcnow())
    if duplicate is None:
        return ack(**refused(Refusal("incidents.gone"), title="Declare an incident"))
    text = render.phrase("incidents.kept_existing", incident=reference(duplicate), channel=duplicate.channel_id)
    ack(response_action="update", view=render.view("common/notice_modal.json.j2", title="Declare an incident",
                                                      text=text))


def open_incident_channel(services: Services, client: WebClient, workspace_id: str, incident_id: int) -> str | None:
    """Open #inc-001-short-title, invite the responders and place the card there. When Slack says no,
    the card goes to the team's channel instead; returns Slack's reason then, else None."""
    with services.transaction() as session:
        incident = store.get(session, workspace_id, incident_id)
        team = team_store.get_team(session, workspace_id, incident.team_id)
        invitees = list(dict.fromkeys([incident.commander_id, incident.declared_by,
                                       *teams.people_in(session, team, "team_lead")]))
    channel_id, reason = _create_channel(client, incident)
    if channel_id:
        try:
            client.conversations_invite(channel=channel_id, users=",".join(invitees), force=True)
        except SlackApiError as error:  # the channel exists; the pings and DMs still reach everyone
            log.warning("inviting responders to %s failed: %s", channel_id, error.response.get("error"))
    with services.transaction() as session:
        incident = store.get(session, workspace_id, incident_id)
        incidents.place_card(session, incident, team, channel_id=channel_id or team.home_channel_id,
                             own_channel=channel_id is not None, invited=invitees if channel_id else [],
                             now=utcnow())
    return reason


def _create_channel(client: WebClient, incident) -> tuple[str | None, str | None]:
    reason = None
    for attempt in (1, 2, 3):  # inc-001-checkout-down, then …-2, …-3 if the name is taken
        try:
            created = client.conversations_create(name=incidents.channel_name(incident, attempt))
            return created["channel"]["id"], None
        except SlackApiError as error:
            reason = error.response.get("error") or "error"
            if reason != "name_taken":
                break
    log.warning("could not open a channel for incident %s: %s", incident.id, reason)
    return None, reason


def _ask_duplicate(ack: Ack, values, form, duplicate, state, current, now) -> None:
    """Ask "is this INC-004?" with the form kept as typed (the question names its incident in the
    metadata, so the answer holds even if the title is edited); asked already and left unanswered,
    an error on the question."""
    if "duplicate" in values:
        return ack(response_action="errors", errors={"duplicate": render.phrase(
            "incidents.duplicate_answer_required", incident=reference(duplicate))})
    ack(response_action="update", view=render.view(
        "incidents/declare_modal.json.j2", form=form, metadata=json.dumps({**state, "duplicate_id": duplicate.id}),
        duplicate=duplicate, thresholds=current, now=now))


def _tell(client: WebClient, channel_id: str | None, user_id: str, message: dict[str, Any], *,
          problem: str | None) -> None:
    """The declarer's confirmation, where they typed the command (only they see it)."""
    if problem:
        message["blocks"].append({"type": "context", "elements": [{"type": "mrkdwn", "text": render.phrase(
            "incidents.channel_failed", reason=problem)}]})
    try:
        client.chat_postEphemeral(channel=channel_id or user_id, user=user_id, text=message["text"],
                                  blocks=message["blocks"])
    except SlackApiError as error:  # e.g. typed in a channel the bot is not in; the card says it all
        log.info("could not confirm the declaration to %s: %s", user_id, error.response.get("error"))


def submit_update(services: Services, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
    workspace_id, user_id, incident_id = field(body, "team", "id"), field(body, "user", "id"), _incident_id(view)
    state = metadata(view)
    opened_severity, opened_commander = state.get("severity"), state.get("commander")
    if not all(isinstance(value, (str, type(None))) for value in (opened_severity, opened_commander)):
        raise MalformedPayload("the update modal's opened-with values are not text")
    values = view_values(view)
    form = incidents.UpdateForm(text=values.get("update"), severity=values.get("severity"),
                                commander_id=values.get("commander"), opened_severity=opened_severity,
                                opened_commander_id=opened_commander)
    commander_is_person = people.lookup(client, form.commander_id).is_person if form.commander_id else True
    admin = people.lookup(client, user_id).is_workspace_admin
    try:
        with services.transaction() as session:
            incidents.post_update(session, workspace_id, incident_id, form, actor_id=user_id, workspace_admin=admin,
                                  now=utcnow(), commander_is_person=commander_is_person)
    except Invalid as invalid:
        return ack(**inline_errors(invalid))
    except Refusal as refusal:
        return ack(**refused(refusal, title="Post an update"))
    ack()


def submit_resolution(services: Services, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
    workspace_id, user_id, incident_id = field(body, "team", "id"), field(body, "user", "id"), _incident_id(view)
    values = view_values(view)
    raw_days = values.get("review_days") or str(incidents.REVIEW_DAYS_DEFAULT)
    # A select offers whole numbers of days: anything else was not sent by Slack. Out of range is
    # refused by the domain, on the field.
    if not (raw_days.isascii() and raw_days.isdecimal() and len(raw_days) <= 4):
        raise MalformedPayload(f"review_days {raw_days[:40]!r} is not a number of days")
    days = int(raw_days)
    admin = people.lookup(client, user_id).is_workspace_admin
    try:
        with services.transaction() as session:
            incidents.resolve(session, workspace_id, incident_id, summary=values.get("summary"), actor_id=user_id,
                              workspace_admin=admin, review_days=days, now=utcnow())
    except Invalid as invalid:
        return ack(**inline_errors(invalid))
    except Refusal as refusal:
        return ack(**refused(refusal, title="Resolve an incident"))
    ack()


def submit_thresholds(services: Services, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
    workspace_id, user_id = field(body, "team", "id"), field(body, "user", "id")
    state = metadata(view)
    team_id = row_id(field(state, "team_id", kind=int))
    values = {severity: view_values(view).get(severity.lower()) for severity in incidents.SEVERITIES}
    admin = people.lookup(client, user_id).is_workspace_admin
    try:
        with services.transaction() as session:
            team = team_or_refusal(session, workspace_id, team_id)
            if not teams.may_manage(session, team, user_id, workspace_admin=admin):
                raise Refusal("incidents.only_managers_may_change_escalation", team=team.name)
            current = incidents.save_thresholds(session, team, values, actor_id=user_id, now=utcnow())
    except Invalid as invalid:
        return ack(**inline_errors(invalid))
    except Refusal as refusal:
        return ack(**refused(refusal, title="Escalation thresholds"))
    ack()
    message = render.message("incidents/escalation_saved.json.j2", team_name=team.name, current=current)
    _tell(client, state.get("channel_id"), user_id, message, problem=None)
