"""The buttons and checkboxes of risk cards, DMs and lists: edit, re-score and close (each opens
a modal), ticking a mitigation action, turning a list's page, and viewing one risk.

A button on a risk that was closed or deleted in the meantime answers politely, to the presser
only, and changes nothing.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import risks
from bot.core import render
from bot.core.errors import Invalid, Refusal
from bot.core.timeutil import utcnow
from bot.risks import RiskForm, RiskView, band_ranges, describe, review_date
from handlers.core import people
from handlers.core.deps import Services
from handlers.core.payload import MalformedPayload, field, metadata, row_id, text, view_values
from handlers.core.press import Press
from handlers.core.replies import inline_errors, refused


def register(app: App, services: Services) -> None:
    for action_id, modal in (("risk_edit", _edit_modal), ("risk_rescore", _rescore_modal),
                             ("risk_close", _close_modal)):
        app.action(action_id)(_opener(services, modal))

    @app.action("risk_tick")
    def ticked(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        tick(services, ack, body, respond, client)

    @app.action("risk_page")
    def turned(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        turn_page(services, ack, body, respond, client)

    @app.action("risk_view")
    def viewed(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        view_risk(services, ack, body, respond, client)

    @app.view("risk_rescore_form")
    def rescored(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        save_rescore(services, ack, body, view, client)

    @app.view("risk_close_form")
    def closed(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        save_close(services, ack, body, view, client)


# --- edit, re-score, close: a button opens a modal -----------------------------------------------------
Modal = Callable[[Any, Any, Any, str, bool], dict[str, Any]]


def _opener(services: Services, modal: Modal):
    def pressed(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        press = Press.of(body)
        risk_id, trigger_id = press.row_id, press.trigger_id  # a forged payload is a 400, not an ack
        ack()
        admin = people.lookup(client, press.user_id).is_workspace_admin
        try:
            with services.transaction() as session:
                risk, team = risks.open_risk(session, press.workspace_id, risk_id)
                view = modal(session, risk, team, press.user_id, admin)
        except Refusal as refusal:
            return press.refuse(respond, client, refusal, title="Risk register")
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


def save_rescore(services: Services, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
    workspace_id, user_id = field(body, "team", "id"), field(body, "user", "id")
    risk_id = row_id(field(metadata(view), "risk_id", kind=int))
    values = view_values(view)
    admin = people.lookup(client, user_id).is_workspace_admin
    try:
        review_by = review_date(text(values, "review_by") or None)
        with services.transaction() as session:
            risk, team = risks.open_risk(session, workspace_id, risk_id)
            risks.rescore(session, risk, team, values.get("probability"), values.get("impact"),
                          text(values, "note"), actor_id=user_id, now=utcnow(), workspace_admin=admin,
                          review_by=review_by)
    except Invalid as invalid:
        return ack(**inline_errors(invalid))
    except Refusal as refusal:
        return ack(**refused(refusal, title="Re-score risk"))
    ack()


def save_close(services: Services, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
    workspace_id, user_id = field(body, "team", "id"), field(body, "user", "id")
    risk_id = row_id(field(metadata(view), "risk_id", kind=int))
    values = view_values(view)
    admin = people.lookup(client, user_id).is_workspace_admin
    try:
        with services.transaction() as session:
            risk, team = risks.open_risk(session, workspace_id, risk_id)
            risks.close_risk(session, risk, team, values.get("response"), text(values, "note"),
                             actor_id=user_id, now=utcnow(), workspace_admin=admin)
    except Invalid as invalid:
        return ack(**inline_errors(invalid))
    except Refusal as refusal:
        return ack(**refused(refusal, title="Close risk"))
    ack()


# --- ticking the checklist -------------------------------------------------------------------------
def tick(services: Services, ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
    """A checkbox of a card (or of a risk's detail, `/qms risk QR-007`) ticked or unticked. Slack
    sends every option ticked in that element; comparing with what the presser's copy showed tells
    which one they changed, so two people ticking different items at once do not undo each other.
    The card is updated in place either way; a detail, which only its reader sees, is redrawn."""
    press = Press.of(body)
    workspace_id, user_id = press.workspace_id, press.user_id
    action = field(body, "actions", 0, kind=dict)
    block_id = field(action, "block_id")
    risk_id, part = _checklist_block(block_id)
    selected = _option_ids(field(action, "selected_options", default=[], kind=list))
    seen = _seen_on_card(body, block_id)
    redraw = _on_a_private_message(body)
    ack()
    now = utcnow()
    try:
        with services.transaction() as session:
            risk, team = risks.open_risk(session, workspace_id, risk_id)
            if seen is None:  # no copy of the message in the payload: compare with what is stored
                wanted = {a.id: a.id in selected for a in risks.checklist_part(session, risk, part)}
            else:
                wanted = {action_id: action_id in selected for action_id in seen ^ selected}
            risks.tick(session, risk, team, wanted, actor_id=user_id, now=now)
            detail = risks.risk_detail(session, workspace_id, risk_id=risk.id, now=now) if redraw else None
    except Refusal as refusal:
        return press.refuse(respond, client, refusal, title="Risk register")
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
    if kind != "risk_actions" or not (part.isascii() and part.isdecimal() and len(part) <= 4):
        raise MalformedPayload(f"not a risk checklist: {block_id[:60]!r}")
    return row_id(risk_id), int(part)


def _option_ids(options: list[Any]) -> set[int]:
    values = [option.get("value") if isinstance(option, dict) else None for option in options]
    return {row_id(value) for value in values}


def _seen_on_card(body: dict[str, Any], block_id: str) -> set[int] | None:
    """The items the presser's copy of the card showed ticked; None when the payload has no card."""
    blocks = field(body, "message", "blocks", default=None, kind=list)
    block = next((b for b in blocks or [] if isinstance(b, dict) and b.get("block_id") == block_id), None)
    if block is None:
        return None
    element = field(block, "elements", 0, kind=dict)
    return _option_ids(field(element, "initial_options", default=[], kind=list))


# --- lists: pages and views ------------------------------------------------------------------------
def turn_page(services: Services, ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
    press = Press.of(body)
    wanted = press.state()
    try:
        scope, team_id, page = wanted["scope"], wanted["team"], wanted["page"]
    except KeyError:
        raise MalformedPayload("a page button's value is not a page") from None
    if scope not in ("open", "mine", "all") or not isinstance(page, int) or not isinstance(team_id, (int, type(None))):
        raise MalformedPayload("a page button's value is not a page")
    ack()
    try:
        with services.transaction() as session:
            listing = risks.listing(session, press.workspace_id, press.user_id, scope, team_id, page=page,
                                    now=utcnow())
    except Refusal as refusal:
        return press.refuse(respond, client, refusal, title="Risk register")
    respond(replace_original=True, **render.message("risks/list.json.j2", **listing))


def view_risk(services: Services, ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
    press = Press.of(body)
    risk_id = press.row_id
    ack()
    try:
        with services.transaction() as session:
            detail = risks.risk_detail(session, press.workspace_id, risk_id=risk_id, now=utcnow())
    except Refusal as refusal:
        return press.refuse(respond, client, refusal, title="Risk register")
    respond(replace_original=False, **render.message("risks/detail.json.j2", **detail))
