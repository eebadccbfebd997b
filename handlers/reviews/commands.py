"""`/qms review`: request a code review, answer one (Accept / Decline / Done), rate it, list and
stats. The rules are in bot/reviews.py; this module reads Slack's payloads and answers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core import render
from bot import reviews
from bot import teams
from bot.core.errors import Invalid, Refusal
from bot.core.timeutil import utcnow
from handlers.core import people, routing
from handlers.core.commands import Command, Subcommands
from handlers.core.forms import MalformedPayload, field, inline_errors, metadata, refuse_press, refused, view_values
from storage import reviews as store
from storage import teams as team_store

SIZE_WORD = re.compile(r"^(S|M|L)$", re.IGNORECASE)
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
LABEL = re.compile(r"^cr-?[0-9]{1,9}$", re.IGNORECASE)  # `/qms review CR-007` shows that request


def register(app: App, services, subcommands: Subcommands) -> None:
    subcommands.add("review", lambda command: review(services, command))

    @app.view("review_request")
    def submit_request(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        save_request(services, ack, body, view, client)

    @app.view("review_decline")
    def submit_decline(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        save_decline(services, ack, body, view)

    @app.action("review_accept")
    def accept_pressed(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        pressed = Pressed.parse(body)
        ack()
        _answer(services, pressed, respond, lambda session, now:
                reviews.accept(session, pressed.workspace_id, pressed.number, pressed.user_id, now=now))

    @app.action("review_done")
    def done_pressed(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        pressed = Pressed.parse(body)
        ack()
        _answer(services, pressed, respond, lambda session, now:
                reviews.finish(session, pressed.workspace_id, pressed.number, pressed.user_id, now=now))

    @app.action(re.compile(r"^review_rate_\d+$"))
    def rating_pressed(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        pressed = Pressed.parse(body, rating=True)
        ack()
        _answer(services, pressed, respond, lambda session, now:
                reviews.rate(session, pressed.workspace_id, pressed.number, pressed.user_id, pressed.score, now=now))

    @app.action("review_withdraw")
    def withdraw_pressed(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        pressed = Pressed.parse(body)
        ack()
        admin = people.lookup(client, pressed.user_id).is_workspace_admin
        _answer(services, pressed, respond, lambda session, now:
                reviews.withdraw(session, pressed.workspace_id, pressed.number, pressed.user_id,
                                 workspace_admin=admin, now=now))

    @app.action("review_decline")
    def decline_pressed(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        pressed = Pressed.parse(body)
        field(body, "trigger_id")  # a press without one is malformed: refuse it before the ack
        ack()
        open_decline(services, pressed, body, respond, client)

    @app.action("review_open")
    def link_opened(ack: Ack) -> None:
        ack()  # a link button: Slack opens the URL and tells us; nothing to do


# --- /qms review ... ----------------------------------------------------------------------------
def review(services, command: Command) -> None:
    words = command.args.split(None, 1)
    first = words[0].lower() if words else ""
    if not words:
        return open_request_form(services, command, url=None, size=None)
    if first == "help":
        return command.reply("reviews/usage.json.j2")
    if first == "list":
        return show_list(services, command)
    if first == "stats":
        return show_stats(services, command)
    if first == "rate":
        return rate_command(services, command, words[1] if len(words) > 1 else "")
    if LABEL.match(first):
        return show_request(services, command, words[0])
    return file_from_command(services, command)


def file_from_command(services, command: Command) -> None:
    """`/qms review <link> [specialization] [S|M|L]`; without a specialization, the form opens
    with the link filled in."""
    link, *rest = command.args.split()
    if reviews.clean_url(link) is None:
        if not link.startswith(("<", "http", "www.")) and "." not in link and "/" not in link:
            return command.ack(response_type="ephemeral", text=render.phrase("reviews.unknown_word", word=link))
        return command.ack(response_type="ephemeral", text=render.phrase("reviews.not_a_link", text=link))
    sizes = [word.upper() for word in rest if SIZE_WORD.match(word)]
    specialization = " ".join(word for word in rest if not SIZE_WORD.match(word))
    if not specialization:
        return open_request_form(services, command, url=reviews.clean_url(link), size=sizes[-1] if sizes else None)
    form = reviews.RequestForm(url=link, specialization=specialization, size=sizes[-1] if sizes else "M")
    now = utcnow()
    try:
        with services.db.transaction() as session:
            team = command.team(session)
            filed = reviews.file_request(session, team, form, author_id=command.user_id,
                                         channel_id=command.channel_id, now=now)
            answer = _filed_answer(session, team, filed)
    except Invalid as invalid:
        return command.ack(response_type="ephemeral", text=_sentences(invalid))
    command.ack(**answer)
    services.deliver_outbox()


def open_request_form(services, command: Command, *, url: str | None, size: str | None) -> None:
    command.ack()  # the trigger_id lives 3 s: acknowledge, then open the modal straight away
    with services.db.transaction() as session:
        team = command.team(session)
    state = json.dumps({"team_id": team.id, "channel_id": command.channel_id})
    form = reviews.RequestForm(url=url, specialization=None, size=size or "M")
    command.client.views_open(trigger_id=command.trigger_id, view=render.view(
        "reviews/request_modal.json.j2", form=form, specializations=team.specializations, team_name=team.name,
        metadata=state))


def save_request(services, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
    workspace_id, user_id = field(body, "team", "id"), field(body, "user", "id")
    state = metadata(view)
    values = view_values(view)
    form = reviews.RequestForm(url=values.get("link"), specialization=values.get("specialization"),
                               summary=values.get("summary"), size=values.get("size"),
                               needed_by=_date(values.get("needed_by")))
    team_id = _metadata_id(state, "team_id")
    channel_id = state.get("channel_id")
    if channel_id is not None and not isinstance(channel_id, str):
        raise MalformedPayload("private_metadata's channel_id is not a channel")
    now = utcnow()
    try:
        with services.db.transaction() as session:
            team = team_store.get_team(session, workspace_id, team_id)
            if team is None:
                raise Refusal("teams.no_team_yet")
            filed = reviews.file_request(session, team, form, author_id=user_id, channel_id=channel_id, now=now)
            answer = _filed_answer(session, team, filed)
    except Invalid as invalid:
        return ack(**inline_errors(invalid))
    except Refusal as refusal:
        return ack(**refused(refusal, title="Request a review"))
    ack()
    client.chat_postEphemeral(channel=channel_id or filed.request.channel_id, user=user_id, **answer)
    services.deliver_outbox()


def _filed_answer(session, team, filed: reviews.Filed) -> dict[str, Any]:
    """Who reviews the request, or why nobody can yet, and whether the team lacks a team lead."""
    has_lead = teams.has_team_lead(session, team)
    return render.message(
        "reviews/filed.json.j2", request=filed.request, assignments=filed.assignments,
        shortfalls=list(filed.choice.shortfalls), told=filed.told,
        no_team_lead=None if has_lead else render.phrase("teams.no_team_lead", team=team.name))


def show_list(services, command: Command) -> None:
    with services.db.transaction() as session:
        team = routing.team_for_channel(session, command.workspace_id, command.channel_id)
        listing = reviews.review_list(session, command.workspace_id, command.user_id, team, now=utcnow())
        command.reply("reviews/list.json.j2", listing=listing)


def show_stats(services, command: Command) -> None:
    with services.db.transaction() as session:
        team = command.team(session)
    command.ack()  # naming the reviewers takes a users.info each (cached): answer through response_url
    with services.db.transaction() as session:
        stats = reviews.review_stats(session, team, now=utcnow())
    for row in stats.rows:
        row.name = people.lookup(command.client, row.user_id).name
    command.respond(**render.message("reviews/stats.json.j2", stats=stats))


def show_request(services, command: Command, label: str) -> None:
    """`/qms review CR-007`: the request's card, to the asker alone."""
    with services.db.transaction() as session:
        request = reviews.find_request(session, command.workspace_id, label)
        team = team_store.get_team(session, command.workspace_id, request.team_id)
        answer = render.message("reviews/card.json.j2", **reviews.card(session, team, request, now=utcnow()))
    command.ack(response_type="ephemeral", **answer)


def rate_command(services, command: Command, args: str) -> None:
    """`/qms review rate CR-007 9 [@reviewer]`."""
    words = args.split()
    mentioned = [m.group(1) for word in words if (m := MENTION.match(word))]
    plain = [word for word in words if not MENTION.match(word)]
    if len(plain) != 2:
        return command.ack(response_type="ephemeral", text=render.phrase("reviews.rate_usage"))
    label, score = plain
    with services.db.transaction() as session:
        rated = reviews.rate_by_label(session, command.workspace_id, label, command.user_id, score,
                                      reviewer_id=mentioned[0] if mentioned else None, now=utcnow())
        request = store.get_request(session, command.workspace_id, rated.request_id)
    command.ack(response_type="ephemeral", text=render.phrase("reviews.rated", label=request.label, score=rated.rating))
    services.deliver_outbox()


# --- buttons ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pressed:
    """A pressed button as plain values. Its value is an ID (an assignment or a request), or
    `{assignment}:{score}` for a rating; anything else is a malformed payload."""

    workspace_id: str
    user_id: str
    number: int
    score: str = ""

    @classmethod
    def parse(cls, body: dict[str, Any], *, rating: bool = False) -> "Pressed":
        value = field(body, "actions", 0, "value")
        number, _, score = value.partition(":") if rating else (value, "", "")
        return cls(workspace_id=field(body, "team", "id"), user_id=field(body, "user", "id"),
                   number=_number(number), score=score)


def _answer(services, pressed: Pressed, respond: Respond, change) -> None:
    """Run one change for a pressed button; a refusal is answered to the presser alone. What the
    change queued (DM and card updates) is delivered at once."""
    try:
        with services.db.transaction() as session:
            change(session, utcnow())
    except Refusal as refusal:
        _refuse(respond, refusal)
        return
    services.deliver_outbox()


def _refuse(respond: Respond, refusal: Refusal) -> None:
    respond(response_type="ephemeral", replace_original=False,
            text=render.phrase(refusal.phrase.key, **refusal.phrase.params))


def open_decline(services, pressed: Pressed, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
    """Decline asks for a reason first; the form opens only on the person's own open review."""
    try:
        with services.db.transaction() as session:
            request, assignment = reviews.own_open_review(session, pressed.workspace_id, pressed.number,
                                                          pressed.user_id)
    except Refusal as refusal:
        return refuse_press(body, respond, client, refusal, title="Review")
    client.views_open(trigger_id=body["trigger_id"], view=render.view(
        "reviews/decline_modal.json.j2", request=request, assignment=assignment,
        metadata=json.dumps({"assignment_id": assignment.id})))


def save_decline(services, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    workspace_id, user_id = field(body, "team", "id"), field(body, "user", "id")
    assignment_id = _metadata_id(metadata(view), "assignment_id")
    reason = view_values(view).get("reason")
    try:
        with services.db.transaction() as session:
            reviews.decline(session, workspace_id, assignment_id, user_id, reason, now=utcnow())
    except Invalid as invalid:
        return ack(**inline_errors(invalid))
    except Refusal as refusal:
        return ack(**refused(refusal, title="Decline a review"))
    ack()
    services.deliver_outbox()


# --- small parsers --------------------------------------------------------------------------------
def _number(value: Any) -> int:
    """An ID of ours: ASCII digits ("²".isdigit() is True, but int("²") raises), and no more than
    nine of them (a forged huge number would overflow the database's integer)."""
    if not isinstance(value, str) or not (value.isascii() and value.isdecimal()) or len(value) > 9:
        raise MalformedPayload("button value is not an ID")
    return int(value)


def _metadata_id(state: dict[str, Any], name: str) -> int:
    """An ID we wrote into a modal's private_metadata: a whole number the database can hold."""
    value = state.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise MalformedPayload(f"private_metadata has no {name}")
    return value


def _date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise MalformedPayload("needed_by is not a date") from None



def _sentences(invalid: Invalid) -> str:
    return " ".join(render.phrase(p.key, **p.params) for p in invalid.problems.values())
