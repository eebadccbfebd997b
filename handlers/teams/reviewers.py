"""`/qms setup reviewers`: a team's reviewer matrix as a table, with buttons to add, edit and
remove reviewers, mark them away or back, and edit the team's specializations.

Everyone may read the matrix. The team leads, engineering managers and workspace admins may change
it; a reviewer may also mark themselves away and back. Every change is audited by the domain.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Callable

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot import reviews, teams
from bot.core import render
from bot.core.errors import Invalid, Phrase, Refusal
from bot.core.timeutil import utcnow
from handlers.core import people
from handlers.core.commands import Command, Subcommands
from handlers.core.deps import Services
from handlers.core.payload import MalformedPayload, field, metadata, view_values
from handlers.core.press import Press
from handlers.core.replies import inline_errors, refused
from handlers.teams.replies import (ephemeral, is_workspace_admin, page, remember_origin, replace_message, team_id,
                                   team_of, text)
from storage import teams as team_store
from storage.teams import Team

ADD, EDIT, AWAY, BACK, REMOVE = "reviewers_add", "reviewers_edit", "reviewers_away", "reviewers_back", "reviewers_remove"
PAGES, SPECIALIZATIONS = ("reviewers_page_previous", "reviewers_page_next"), "reviewers_specializations"
REVIEWER_VIEW, AWAY_VIEW, SPECIALIZATIONS_VIEW = "team_reviewer", "team_reviewer_away", "team_specializations"
REMOVE_VIEW = "team_reviewer_remove"


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    subcommands.add("setup reviewers", lambda command: show(services, command))

    @app.action(PAGES[0])
    @app.action(PAGES[1])
    def page(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        answer_in_place(services, ack, body, respond, client, _no_change)

    @app.action(BACK)
    def back(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        answer_in_place(services, ack, body, respond, client, mark_back, row=True)

    @app.action(REMOVE)
    def remove(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        open_modal(services, ack, body, respond, client, remove_modal, row=True)  # names their open reviews

    @app.action(ADD)
    def add(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        open_modal(services, ack, body, respond, client, reviewer_modal)

    @app.action(EDIT)
    def edit(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        open_modal(services, ack, body, respond, client, reviewer_modal, row=True)

    @app.action(AWAY)
    def away(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        open_modal(services, ack, body, respond, client, away_modal, row=True)

    @app.action(SPECIALIZATIONS)
    def specializations(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        open_modal(services, ack, body, respond, client, specializations_modal)

    @app.view(REVIEWER_VIEW)
    def save_reviewer(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        submit(services, ack, body, view, client, reviewer_change(body, view, client), title="Reviewer")

    @app.view(AWAY_VIEW)
    def save_away(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        submit(services, ack, body, view, client, away_change(view), title="Away until")

    @app.view(REMOVE_VIEW)
    def save_removal(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        submit(services, ack, body, view, client, removal(view), title="Remove reviewer")

    @app.view(SPECIALIZATIONS_VIEW)
    def save_specializations(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        submit(services, ack, body, view, client, specializations_change(view), title="Specializations")


# --- the matrix -----------------------------------------------------------------------------
def show(services: Services, command: Command) -> None:
    command.ack()
    admin = is_workspace_admin(command.client, command.user_id)
    with services.transaction() as session:
        team = command.team(session)
        payload = matrix_message(session, team, viewer=command.user_id, admin=admin, page=0, now=utcnow())
    command.respond(ephemeral(payload, replace=False))


def matrix_message(session: Session, team: Team, *, viewer: str, admin: bool, page: int, now: datetime,
                   notice: Phrase | None = None) -> dict[str, Any]:
    """The matrix as `viewer` sees it: every button for those who may manage the team, and
    "Mark away"/"Mark back" on their own row for a reviewer who may not."""
    matrix = teams.matrix(session, team, today=teams.local_today(team, now))
    rows, page = matrix.page(page)
    warning = teams.no_team_lead_warning(session, team)
    return render.message(
        "teams/reviewers.json.j2", team=team, matrix=matrix, rows=rows, page=page, viewer=viewer,
        can_manage=teams.may_manage(session, team, viewer, workspace_admin=admin),
        notice=_said(notice), warning=_said(warning))


def pressed(body: dict[str, Any], *, row: bool) -> tuple[Press, dict[str, Any]]:
    """A matrix button's press, and its state (team, page, and for a row's button its reviewer).
    Read before the ack, so that a malformed one is answered with HTTP 400."""
    press = Press.of(body)
    state = press.state()
    return press, {"team": team_id(state), "page": page(state), "user": text(state, "user") if row else None}


# --- buttons that change the matrix at once ----------------------------------------------------------
Change = Callable[[Session, Team, str, bool, datetime, dict], Phrase | None]


def answer_in_place(services: Services, ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient,
                    change: Change, *, row: bool = False) -> None:
    """Make the button's change (if any) and replace the message with the matrix as it now is."""
    press, state = pressed(body, row=row)
    user = press.user_id
    ack()
    admin, now = is_workspace_admin(client, user), utcnow()
    try:
        with services.transaction() as session:
            team = team_of(session, press.workspace_id, state)
            notice = change(session, team, user, admin, now, state)
            payload = matrix_message(session, team, viewer=user, admin=admin, page=state["page"], now=now,
                                     notice=notice)
    except Refusal as refusal:
        return press.refuse(respond, client, refusal, title="Reviewer matrix")
    respond(ephemeral(payload, replace=True))


def _no_change(*_args) -> None:
    """Turning a page changes nothing."""
    return None


def mark_back(session: Session, team: Team, user: str, admin: bool, now: datetime, state: dict) -> Phrase:
    reviewer = text(state, "user")
    _require_self_or_manager(session, team, user, admin, reviewer)
    teams.set_away(session, team, reviewer, None, actor_id=user, now=now)
    return Phrase("teams.reviewer_back", {"user": reviewer})


# --- buttons that open a modal ---------------------------------------------------------------------
Modal = Callable[[Session, Team, str, bool, datetime, dict], dict[str, Any]]


def open_modal(services: Services, ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient,
               modal: Modal, *, row: bool = False) -> None:
    press, state = pressed(body, row=row)
    user, trigger_id = press.user_id, press.trigger_id
    ack()
    admin, now = is_workspace_admin(client, user), utcnow()
    try:
        with services.transaction() as session:
            team = team_of(session, press.workspace_id, state)
            remembered = {"team": state["team"], "user": state.get("user"), "page": state["page"],
                          **remember_origin(session, body, now=now)}
            view = modal(session, team, user, admin, now, remembered)
    except Refusal as refusal:
        return press.refuse(respond, client, refusal, title="Reviewer matrix")
    client.views_open(trigger_id=trigger_id, view=view)


def reviewer_modal(session: Session, team: Team, user: str, admin: bool, now: datetime, state: dict) -> dict:
    teams.require_manager(session, team, user, workspace_admin=admin, action="change_reviewers")
    reviewer = None
    if state.get("user"):
        reviewer = team_store.get_reviewer(session, team, text(state, "user"))
        if reviewer is None:
            raise Refusal("teams.not_a_reviewer")
    return render.view("teams/reviewer_modal.json.j2", team=team, reviewer=reviewer, metadata=json.dumps(state))


def away_modal(session: Session, team: Team, user: str, admin: bool, now: datetime, state: dict) -> dict:
    reviewer = team_store.get_reviewer(session, team, text(state, "user"))
    if reviewer is None:
        raise Refusal("teams.not_a_reviewer")
    _require_self_or_manager(session, team, user, admin, reviewer.user_id)
    return render.view("teams/away_modal.json.j2", team=team, reviewer=reviewer, metadata=json.dumps(state),
                       today=teams.local_today(team, now))


def remove_modal(session: Session, team: Team, user: str, admin: bool, now: datetime, state: dict) -> dict:
    """Ask before removing a reviewer, naming the open reviews that will go to others."""
    teams.require_manager(session, team, user, workspace_admin=admin, action="change_reviewers")
    reviewer = team_store.get_reviewer(session, team, text(state, "user"))
    if reviewer is None:
        raise Refusal("teams.not_a_reviewer")
    return render.view("teams/remove_modal.json.j2", team=team, user_id=reviewer.user_id,
                       open=reviews.open_reviews_in_team(session, team, reviewer.user_id), metadata=json.dumps(state))


def specializations_modal(session: Session, team: Team, user: str, admin: bool, now: datetime,
                          state: dict) -> dict:
    teams.require_manager(session, team, user, workspace_admin=admin, action="change_reviewers")
    return render.view("teams/specializations_modal.json.j2", team=team, metadata=json.dumps(state),
                       limit=teams.SPECIALIZATIONS_MAX)


# --- saving the modals -----------------------------------------------------------------------------
Submission = Callable[[Session, Team, str, bool, datetime], Phrase]


def submit(services: Services, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
           change: Submission, *, title: str) -> None:
    """Save a modal opened from the matrix: inline errors or a refusal in the modal, or close it
    and replace the matrix message with its new contents."""
    workspace_id, user, state = field(body, "team", "id"), field(body, "user", "id"), metadata(view)
    admin, now = is_workspace_admin(client, user), utcnow()
    try:
        with services.transaction() as session:
            team = team_of(session, workspace_id, state)
            notice = change(session, team, user, admin, now)
            payload = matrix_message(session, team, viewer=user, admin=admin, page=page(state),
                                     now=now, notice=notice)
    except Invalid as invalid:
        return ack(**inline_errors(invalid))
    except Refusal as refusal:
        return ack(**refused(refusal, title=title))
    except IntegrityError:  # two people added the same reviewer at the same moment
        return ack(**inline_errors(Invalid({"reviewer": Phrase("teams.already_a_reviewer")})))
    ack()
    replace_message(services, client, state, workspace_id, user, payload)


def reviewer_change(body: dict[str, Any], view: dict[str, Any], client: WebClient) -> Submission:
    """Read the Reviewer modal now (a malformed one is a 400), and return the change it asks for."""
    state, values = metadata(view), view_values(view)
    editing = state.get("user")
    form = teams.ReviewerForm(
        user_id=editing or values.get("reviewer"), tier=values.get("tier"),
        specializations=list(values.get("specializations") or []), capacity=values.get("capacity"),
        away_until=_date(values.get("away_until")),
        new_specializations=teams.parse_specializations(values.get("new_specializations")))
    is_bot = not editing and bool(form.user_id) and form.user_id in people.not_people(client, [form.user_id])

    def change(session: Session, team: Team, user: str, admin: bool, now: datetime) -> Phrase:
        teams.require_manager(session, team, user, workspace_admin=admin, action="change_reviewers")
        teams.save_reviewer(session, team, form, actor_id=user, now=now, is_bot=is_bot,
                            today=teams.local_today(team, now), adding=not editing, notify=True)
        return Phrase("teams.reviewer_updated" if editing else "teams.reviewer_added", {"user": form.user_id})

    return change


def away_change(view: dict[str, Any]) -> Submission:
    state, values = metadata(view), view_values(view)
    reviewer, until = text(state, "user"), _date(values.get("away_until"))

    def change(session: Session, team: Team, user: str, admin: bool, now: datetime) -> Phrase:
        _require_self_or_manager(session, team, user, admin, reviewer)
        if until is None:
            raise Invalid({"away_until": Phrase("teams.away_date_required")})
        teams.set_away(session, team, reviewer, until, actor_id=user, now=now, today=teams.local_today(team, now))
        return Phrase("teams.reviewer_away", {"user": reviewer, "until": until})

    return change


def removal(view: dict[str, Any]) -> Submission:
    reviewer = text(metadata(view), "user")

    def change(session: Session, team: Team, user: str, admin: bool, now: datetime) -> Phrase:
        teams.require_manager(session, team, user, workspace_admin=admin, action="change_reviewers")
        handed = reviews.remove_reviewer(session, team, reviewer, actor_id=user, now=now, notify=True)
        went = [render.phrase("teams.handed_over", label=h.request.label, role=h.ended.role,
                              replacement=h.replacement.reviewer_id if h.replacement else None) for h in handed]
        return Phrase("teams.reviewer_removed", {"user": reviewer, "handed": went, "told": reviewer != user})

    return change


def specializations_change(view: dict[str, Any]) -> Submission:
    names = teams.parse_specializations(view_values(view).get("specializations"))

    def change(session: Session, team: Team, user: str, admin: bool, now: datetime) -> Phrase:
        teams.require_manager(session, team, user, workspace_admin=admin, action="change_reviewers")
        teams.save_specializations(session, team, names, actor_id=user, now=now)
        return Phrase("teams.specializations_saved", {"count": len(names)})

    return change


# --- small things ----------------------------------------------------------------------------------
def _require_self_or_manager(session: Session, team: Team, user: str, admin: bool, reviewer: str) -> None:
    """Availability is the one thing reviewers may change about themselves."""
    teams.require_manager(session, team, user, workspace_admin=admin, action="change_availability",
                          also=[reviewer], also_label=render.phrase("teams.the_reviewer_themselves"))


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise MalformedPayload("a date is not YYYY-MM-DD") from None


def _said(phrase: Phrase | None) -> str | None:
    return render.phrase(phrase.key, **phrase.params) if phrase else None
