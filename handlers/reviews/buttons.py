"""The buttons of review requests and reviewers' DMs: Accept, Decline (asks why first), Done, a rating,
and Withdraw. Each reads its press before the ack (a malformed one is a 400), then changes one thing in
one transaction; a refusal is answered to the presser alone."""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import reviews
from bot.core import render
from bot.core.errors import Invalid, Refusal
from bot.core.timeutil import utcnow
from handlers.core import people
from handlers.core.deps import Services
from handlers.core.payload import field, metadata, row_id, view_values
from handlers.core.press import Press, change
from handlers.core.replies import inline_errors, refused


def register(app: App, services: Services) -> None:
    @app.view("review_decline")
    def submit_decline(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        save_decline(services, ack, body, view)

    @app.action("review_accept")
    def accept_pressed(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        press = Press.of(body)
        assignment_id = press.row_id
        ack()
        change(services, press, respond, client, lambda session, now:
               reviews.accept(session, press.workspace_id, assignment_id, press.user_id, now=now), title="Review")

    @app.action("review_done")
    def done_pressed(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        press = Press.of(body)
        assignment_id = press.row_id
        ack()
        change(services, press, respond, client, lambda session, now:
               reviews.finish(session, press.workspace_id, assignment_id, press.user_id, now=now), title="Review")

    @app.action(re.compile(r"^review_rate_\d+$"))
    def rating_pressed(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        press = Press.of(body)
        assignment, _, score = press.value.partition(":")  # "{assignment}:{score}"
        assignment_id = row_id(assignment)
        ack()
        change(services, press, respond, client, lambda session, now:
               reviews.rate(session, press.workspace_id, assignment_id, press.user_id, score, now=now), title="Review")

    @app.action("review_withdraw")
    def withdraw_pressed(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        press = Press.of(body)
        request_id = press.row_id
        ack()
        admin = people.lookup(client, press.user_id).is_workspace_admin
        change(services, press, respond, client, lambda session, now:
               reviews.withdraw(session, press.workspace_id, request_id, press.user_id, workspace_admin=admin,
                                now=now), title="Review")

    @app.action("review_decline")
    def decline_pressed(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        press = Press.of(body)
        assignment_id, trigger_id = press.row_id, press.trigger_id  # malformed without them: a 400 before the ack
        ack()
        open_decline(services, press, assignment_id, trigger_id, respond, client)

    @app.action("review_open")
    def link_opened(ack: Ack) -> None:
        ack()  # a link button: Slack opens the URL and tells us; nothing to do


# --- Decline asks why first ----------------------------------------------------------------------
def open_decline(services: Services, press: Press, assignment_id: int, trigger_id: str, respond: Respond,
                 client: WebClient) -> None:
    """Decline asks for a reason first; the form opens only on the person's own open review."""
    try:
        with services.transaction() as session:
            request, assignment = reviews.own_open_review(session, press.workspace_id, assignment_id, press.user_id)
    except Refusal as refusal:
        return press.refuse(respond, client, refusal, title="Review")
    client.views_open(trigger_id=trigger_id, view=render.view(
        "reviews/decline_modal.json.j2", request=request, assignment=assignment,
        metadata=json.dumps({"assignment_id": assignment.id})))


def save_decline(services: Services, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    workspace_id, user_id = field(body, "team", "id"), field(body, "user", "id")
    assignment_id = row_id(field(metadata(view), "assignment_id", kind=int))
    reason = view_values(view).get("reason")
    try:
        with services.transaction() as session:
            reviews.decline(session, workspace_id, assignment_id, user_id, reason, now=utcnow())
    except Invalid as invalid:
        return ack(**inline_errors(invalid))
    except Refusal as refusal:
        return ack(**refused(refusal, title="Decline a review"))
    ack()
