"""`/qms review`: request a code review, answer one (Accept / Decline / Done), rate it, list and
stats. The rules are in bot/reviews/; this module reads Slack's payloads and answers."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import reviews, teams
from bot.core import render
from bot.core.errors import Invalid, Refusal
from bot.core.timeutil import utcnow
from handlers.core import people, remembered, routing
from handlers.core.commands import Command, Subcommands
from handlers.core.deps import Services
from handlers.core.payload import MalformedPayload, field, metadata, row_id, view_values
from handlers.core.replies import inline_errors, refused
from storage import reviews as store
from storage import teams as team_store

SIZE_WORD = re.compile(r"^(S|M|L)$", re.IGNORECASE)
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
LABEL = re.compile(r"^cr-?[0-9]{1,9}$", re.IGNORECASE)  # `/qms review CR-007` shows that request


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    subcommands.add("review", lambda command: review(services, command))

    @app.view("review_request")
    def submit_request(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        save_request(services, ack, body, view, client)


# --- /qms review ... ----------------------------------------------------------------------------
def review(services: Services, command: Command) -> None:
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


def file_from_command(services: Services, command: Command) -> None:
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
        with services.transaction() as session:
            team = command.team(session)
            _blame_the_wrong_word(team, rest)
            filed = reviews.file_request(session, team, form, author_id=command.user_id,
                                         channel_id=command.channel_id, now=now)
            answer = _filed_answer(session, team, filed)
    except Invalid as invalid:
        return command.ack(response_type="ephemeral", text=_sentences(invalid))
    command.ack(**answer)


def _blame_the_wrong_word(team, rest: list[str]) -> None:
    """`backend XL`: the specialization is right and the last word is a size that isn't one, so say so
    (rather than call "backend XL" an unknown specialization)."""
    words = [word for word in rest if not SIZE_WORD.match(word)]
    if len(words) < 2 or reviews.match_specialization(team, " ".join(words)) is not None:
        return
    if reviews.match_specialization(team, " ".join(words[:-1])) is not None:
        raise Refusal("reviews.unknown_size_word", word=words[-1], specialization=" ".join(words[:-1]))


def open_request_form(services: Services, command: Command, *, url: str | None, size: str | None) -> None:
    command.ack()  # the trigger_id lives 3 s: acknowledge, then open the modal straight away
    with services.transaction() as session:
        team = command.team(session)
    state = json.dumps({"team_id": team.id, "channel_id": command.channel_id})
    form = reviews.RequestForm(url=url, specialization=None, size=size or "M")
    command.client.views_open(trigger_id=command.trigger_id, view=render.view(
        "reviews/request_modal.json.j2", form=form, specializations=team.specializations, team_name=team.name,
        metadata=state))


def save_request(services: Services, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
    workspace_id, user_id = field(body, "team", "id"), field(body, "user", "id")
    state = metadata(view)
    values = view_values(view)
    form = reviews.RequestForm(url=values.get("link"), specialization=values.get("specialization"),
                               summary=values.get("summary"), size=values.get("size"),
                               needed_by=_date(values.get("needed_by")))
    team_id = row_id(field(state, "team_id", kind=int))
    channel_id = state.get("channel_id")
    if channel_id is not None and not isinstance(channel_id, str):
        raise MalformedPayload("private_metadata's channel_id is not a channel")
    now = utcnow()
    try:
        with services.transaction() as session:
            team = routing.team_or_refusal(session, workspace_id, team_id)
            filed = reviews.file_request(session, team, form, author_id=user_id, channel_id=channel_id, now=now)
            answer = _filed_answer(session, team, filed)
    except Invalid as invalid:
        return ack(**inline_errors(invalid))
    except Refusal as refusal:
        return ack(**refused(refusal, title="Request a review"))
    ack()
    client.chat_postEphemeral(channel=channel_id or filed.request.channel_id, user=user_id, **answer)


def _filed_answer(session, team, filed: reviews.Filed) -> dict[str, Any]:
    """Who reviews the request, or why nobody can yet, and whether the team lacks a team lead."""
    has_lead = teams.has_team_lead(session, team)
    return render.message(
        "reviews/filed.json.j2", request=filed.request, assignments=filed.assignments,
        shortfalls=list(filed.choice.shortfalls), told=filed.told,
        no_team_lead=None if has_lead else render.phrase("teams.no_team_lead", team=team.name))


def show_list(services: Services, command: Command) -> None:
    now = utcnow()

    def compute(session):
        team = routing.team_for_channel(session, command.workspace_id, command.channel_id)
        return render.message("reviews/list.json.j2", listing=reviews.review_list(
            session, command.workspace_id, command.user_id, team, now=now))

    key = ("review list", command.workspace_id, command.channel_id, command.user_id)
    command.ack(**remembered.answer(services, key, now=now, compute=compute))


def show_stats(services: Services, command: Command) -> None:
    with services.transaction() as session:
        team = command.team(session)
    command.ack()  # naming the reviewers takes a users.info each (cached): answer through response_url
    with services.transaction() as session:
        stats = reviews.review_stats(session, team, now=utcnow())
    for row in stats.rows:
        row.name = people.lookup(command.client, row.user_id).name
    command.respond(**render.message("reviews/stats.json.j2", stats=stats))


def show_request(services: Services, command: Command, label: str) -> None:
    """`/qms review CR-007`: the request's card, to the asker alone."""
    with services.transaction() as session:
        request = reviews.find_request(session, command.workspace_id, label)
        team = team_store.get_team(session, command.workspace_id, request.team_id)
        answer = render.message("reviews/card.json.j2", **reviews.card(session, team, request, now=utcnow()))
    command.ack(response_type="ephemeral", **answer)


def rate_command(services: Services, command: Command, args: str) -> None:
    """`/qms review rate CR-007 9 [@reviewer]`."""
    words = args.split()
    mentioned = [m.group(1) for word in words if (m := MENTION.match(word))]
    plain = [word for word in words if not MENTION.match(word)]
    if len(plain) != 2:
        return command.ack(response_type="ephemeral", text=render.phrase("reviews.rate_usage"))
    label, score = plain
    with services.transaction() as session:
        rated = reviews.rate_by_label(session, command.workspace_id, label, command.user_id, score,
                                      reviewer_id=mentioned[0] if mentioned else None, now=utcnow())
        request = store.get_request(session, command.workspace_id, rated.request_id)
    command.ack(response_type="ephemeral", text=render.phrase("reviews.rated", label=request.label, score=rated.rating))


# --- small parsers --------------------------------------------------------------------------------
def _date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise MalformedPayload("needed_by is not a date") from None



def _sentences(invalid: Invalid) -> str:
    return " ".join(render.phrase(p.key, **p.params) for p in invalid.problems.values())
