"""The buttons and checkboxes of risk cards, DMs and lists: edit, re-score and close (each opens
a modal), ticking a mitigation action, turning a list's page, and viewing one risk.

A button on a risk that was closed or deleted in the meantime answers politely, to the presser
only, and changes nothing.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core import render
from bot import risks
from bot.core.errors import Invalid, Refusal
from bot.risks import RiskForm, band_ranges, review_date
from bot.risks import RiskView, describe
from bot.core.timeutil import utcnow
from handlers.core import people
from handlers.core.forms import MalformedPayload, field, inline_errors, metadata, refuse_press, refused, view_values

log = logging.getLogger(__name__)


def register(app: App, services) -> None:
    for action_id, modal in (("risk_edit", _edit_modal), ("risk_rescore", _rescore_modal),
                             ("risk_close", _close_modal)):
        app.action(action_id)(_opener(services, modal))

    @app.action("risk_tick")
    def ticked(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        tick(services, ack, body, respond)

    @app.action("risk_page")
    def turned(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        turn_page(services, ack, body, respond)

    @app.action("risk_view")
    def viewed(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        view_risk(services, ack, body, respond)

    @app.view("risk_rescore_form")
    def rescored(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        save_rescore(services, ack, body, view, client)

    @app.view("risk_close_form")
    def closed(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        save_close(services, ack, body, view, client)


# --- edit, re-score, close: a button opens a modal -----------------------------------------------------
Modal = Callable[[Any, Any, Any, str, bool], dict[str, Any]]


def _opener(services, modal: Modal):
    def pressed(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        workspace_id, user_id, value = _pressed(body)
        risk_id, trigger_id = risk_id_of(value), field(body, "trigger_id")  # a forged payload is a 400, not an ack
        ack()
        admin = people.lookup(client, user_id).is_workspace_admin
        try:
            with services.db.transaction() as session:
                risk, team = risks.open_risk(session, workspace_id, risk_id)
                view = modal(session, risk, team, user_id, admin)
        except Refusal as refusal:
            return refuse_press(body, respond, client, refusal, title="Risk register")
        client.views_open(trigger_id=trigger_id, view=view)

    return pressed


def _edit_modal(session, risk, team, user_id: str, admin: bool) -> dict[str, Any]:
    risks.require_editor(session, risk, team, user_id, workspace_admin=admin, action="edit")
    shown = describe(session, risk, team, now=utcnow())
    form = RiskForm(title=shown.title, probability=shown.probability, impact=shown.impact, owner_id=shown.owner_id,
                    category=shown.category, description=shown.description,
                    actions=[a.text for a in shown.actions], review_by=shown.review_by)
    return render.view("risks/form_modal.json.j2", form=form, editing=shown, team=team.name,
                       ranges=band_ranges(risks.bands_of(team)), metadata=json.dumps({"risk_id": risk.id}))


def _rescore_modal(session, risk, team, user_id: str, admin: bool) -> dict[str, Any]:
    risks.require_editor(session, risk, team, user_id, workspace_admin=admin, action="rescore")
    return _risk_modal("risks/rescore_modal.json.j2", describe(session, risk, team, now=utcnow()),
                       ranges=band_ranges(risks.bands_of(team)))


def _close_modal(session, risk, team, user_id: str, admin: bool) -> dict[str, Any]:
    risks.require_closer(session, risk, team, user_id, workspace_admin=admin)
    return _risk_modal("risks/close_modal.json.j2", describe(session, risk, team, now=utcnow()))


def _risk_modal(template: str, shown: RiskView, **context: Any) -> dict[str, Any]:
    return render.view(template, risk=shown, metadata=json.dumps({"risk_id": shown.id}), **context)


def save_rescore(services, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
    workspace_id, user_id = field(body, "team", "id"), field(body, "user", "id")
    risk_id = field(metadata(view), "risk_id", kind=int)
    values = view_values(view)
    admin = people.lookup(client, user_id).is_workspace_admin
    try:
        review_by = review_date(text_value(values, "review_by") or None)
        with services.db.transaction() as session:
            risk, team = risks.open_risk(session, workspace_id, risk_id)
            risks.rescore(session, risk, team, values.get("probability"), values.get("impact"),
                          text_value(values, "note"), actor_id=user_id, now=utcnow(), workspace_admin=admin,
                          review_by=review_by)
    except Invalid as invalid:
        return ack(**inline_errors(invalid))
    except Refusal as refusal:
        return ack(**refused(refusal, title="Re-score risk"))
    ack()
    services.deliver_outbox()


def save_close(services, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
    workspace_id, user_id = field(body, "team", "id"), field(body, "user", "id")
    risk_id = field(metadata(view), "risk_id", kind=int)
    values = view_values(view)
    admin = people.lookup(client, user_id).is_workspace_admin
    try:
        with services.db.transaction() as session:
            risk, team = risks.open_risk(session, workspace_id, risk_id)
            risks.close_risk(session, risk, team, values.get("response"), text_value(values, "note"),
                             actor_id=user_id, now=utcnow(), workspace_admin=admin)
    except Invalid as invalid:
        return ack(**inline_errors(invalid))
    except Refusal as refusal:
        return ack(**refused(refusal, title="Close risk"))
    ack()
    services.deliver_outbox()


# --- ticking the checklist -------------------------------------------------------------------------
def tick(services, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
    """A checkbox of a card (or of a risk's detail, `/qms risk QR-007`) ticked or unticked. Slack
    sends every option ticked in that element; comparing with what the presser's copy showed tells
    which one they changed, so two people ticking different items at once do not undo each other.
    The card is updated in place either way; a detail, which only its reader sees, is redrawn."""
    workspace_id, user_id = field(body, "team", "id"), field(body, "user", "id")
    action = field(body, "actions", 0, kind=dict)
    block_id = field(action, "block_id")
    risk_id, part = _checklist_block(block_id)
    selected = _option_ids(field(action, "selected_options", default=[], kind=list))
    seen = _seen_on_card(body, block_id)
    redraw = _on_a_private_message(body)
    ack()
    now = utcnow()
    try:
        with services.db.transaction() as session:
            risk, team = risks.open_risk(session, workspace_id, risk_id)
            if seen is None:  # no copy of the message in the payload: compare with what is stored
                wanted = {a.id: a.id in selected for a in risks.checklist_part(session, risk, part)}
            else:
                wanted = {action_id: action_id in selected for action_id in seen ^ selected}
            risks.tick(session, risk, team, wanted, actor_id=user_id, now=now)
            detail = risks.risk_detail(session, workspace_id, risk_id=risk.id, now=now) if redraw else None
    except Refusal as refusal:
        return _tell(body, respond, refusal)
    services.deliver_outbox()
    if detail is not None:
        respond(replace_original=True, **render.message("risks/detail.json.j2", **detail))


def _on_a_private_message(body: dict[str, Any]) -> bool:
    """Whether the checkbox was on a message only the presser sees (a detail, an ephemeral
    answer): Slack marks those `is_ephemeral` and may leave the message out of the payload. The
    card is a channel message; the outbox updates it."""
    if not body.get("response_url"):
        return False
    ephemeral = field(body, "container", "is_ephemeral", default=False, kind=bool)
    return ephemeral or field(body, "message", default=None, kind=dict) is None


def _checklist_block(block_id: str) -> tuple[int, int]:
    """(risk id, part) from a checklist's block_id, `risk_actions:{risk id}:{part}`."""
    kind, _, rest = block_id.partition(":")
    risk_id, _, part = rest.partition(":")
    if kind != "risk_actions" or not _is_row_id(risk_id) or not _is_row_id(part):
        raise MalformedPayload(f"not a risk checklist: {block_id!r}")
    return int(risk_id), int(part)


def _option_ids(options: list[Any]) -> set[int]:
    values = [option.get("value") if isinstance(option, dict) else None for option in options]
    if not all(_is_row_id(value) for value in values):
        raise MalformedPayload("a checklist option's value is not an action id")
    return {int(value) for value in values}


def _seen_on_card(body: dict[str, Any], block_id: str) -> set[int] | None:
    """The items the presser's copy of the card showed ticked; None when the payload has no card."""
    blocks = field(body, "message", "blocks", default=None, kind=list)
    block = next((b for b in blocks or [] if isinstance(b, dict) and b.get("block_id") == block_id), None)
    if block is None:
        return None
    element = field(block, "elements", 0, kind=dict)
    return _option_ids(field(element, "initial_options", default=[], kind=list))


# --- lists: pages and views ------------------------------------------------------------------------
def turn_page(services, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
    workspace_id, user_id, value = _pressed(body)
    try:
        wanted = json.loads(value)
        scope, team_id, page = wanted["scope"], wanted["team"], wanted["page"]
    except (ValueError, KeyError, TypeError):
        raise MalformedPayload("a page button's value is not a page") from None
    if scope not in ("open", "mine", "all") or not isinstance(page, int) or not isinstance(team_id, (int, type(None))):
        raise MalformedPayload("a page button's value is not a page")
    ack()
    try:
        with services.db.transaction() as session:
            listing = risks.listing(session, workspace_id, user_id, scope, team_id, page=page, now=utcnow())
    except Refusal as refusal:
        return _tell(body, respond, refusal)
    respond(replace_original=True, **render.message("risks/list.json.j2", **listing))


def view_risk(services, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
    workspace_id, _, value = _pressed(body)
    risk_id = risk_id_of(value)
    ack()
    try:
        with services.db.transaction() as session:
            detail = risks.risk_detail(session, workspace_id, risk_id=risk_id, now=utcnow())
    except Refusal as refusal:
        return _tell(body, respond, refusal)
    respond(replace_original=False, **render.message("risks/detail.json.j2", **detail))


# --- small things ------------------------------------------------------------------------------------
def text_value(values: dict[str, Any], name: str) -> str:
    """A text input's value ("" when empty); anything but text is a malformed payload."""
    value = values.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedPayload(f"{name} is {type(value).__name__}, expected text")
    return value


def risk_id_of(value: Any) -> int:
    """A risk's row id as a button or a modal carries it; anything else was not sent by Slack."""
    if not _is_row_id(value):
        raise MalformedPayload(f"not a risk id: {str(value)[:40]!r}")
    return int(value)


def _is_row_id(value: Any) -> bool:
    """Digits a database id can hold. Not str.isdigit: "²".isdigit() is True but int("²") fails."""
    return isinstance(value, str) and value.isascii() and value.isdecimal() and len(value) <= 9


def _pressed(body: dict[str, Any]) -> tuple[str, str, str]:
    """(workspace, user, the button's value)."""
    return field(body, "team", "id"), field(body, "user", "id"), field(body, "actions", 0, "value", default="")


def _tell(body: dict[str, Any], respond: Respond, refusal: Refusal) -> None:
    """A refusal, to the presser only."""
    text = render.phrase(refusal.phrase.key, **refusal.phrase.params)
    if body.get("response_url"):
        respond(text=text, response_type="ephemeral", replace_original=False)
    else:
        log.info("refused a button without a response_url: %s", refusal.phrase.key)
