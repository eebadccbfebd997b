"""What a pull request (or GitLab merge request) does to the review request that follows it.

The reviews domain's own rules stay the rules: reviewers come from the team's matrix and count
against their capacity, turnaround is counted in the team's working hours, every change locks the
request, bumps its version, is audited and updates the card and DMs through the outbox. What is
new is who acts: a person named as reviewer on GitHub becomes one (`name_reviewer`), an approval
finishes that reviewer's review at the moment it was given (`approve`), a merge closes the request
(`close_merged`), closing unmerged withdraws it (`close_unmerged`), reopening opens it again
(`reopen`), and a draft pauses its reminders (`pause`, `resume`).

Actors from the code host are written "github:login" (or the linked Slack user); the card shows them.
Every function takes the caller's session and `now`; none reads the clock or sees Slack.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlmodel import Session

from bot import teams
from bot.reviews import messages as notify
from bot.reviews import rules as rule
from bot.reviews import service as reviews
from bot.reviews.rules import Candidate, RequestForm
from bot.reviews.service import Filed
from storage import audit
from storage import reviews as store
from storage.reviews import (
    ACCEPTED,
    ASSIGNED,
    CLOSED,
    DONE,
    FINISHED,
    MERGED,
    PRIMARY,
    REMOVED,
    SECONDARY,
    WITHDRAWN,
    ReviewAssignment,
    ReviewRequest,
)
from storage.teams import Team

# Why someone named on the code host did not become a reviewer.
ALREADY, NOT_IN_MATRIX, AUTHOR, AWAY, FULL, NO_FREE_ROLE = (
    "already", "not_in_matrix", "author", "away", "full", "no_free_role")
TOLD_TO_AUTHOR = (AWAY, FULL, NO_FREE_ROLE)  # the others are nothing the author needs to hear about


@dataclass(frozen=True)
class Named:
    """What naming one person as reviewer did: `assignment` when they became one."""

    user_id: str
    assignment: ReviewAssignment | None = None
    why_not: str | None = None
    replaced: ReviewAssignment | None = None  # the matrix's choice they took the role from


def file_pull_request(session: Session, team: Team, form: RequestForm, *, author_id: str, named: Iterable[str],
                      source: str, actor_id: str, now: datetime) -> tuple[Filed, list[Named]]:
    """File the request of a pull request: the people it already names as reviewers first (those
    the matrix and their capacity allow), then the matrix fills the roles still open; card and DMs
    as for `/qms review`."""
    request = reviews.new_request(session, team, form, author_id=author_id, channel_id=None, now=now,
                                  actor_id=actor_id)
    outcomes = [_name(session, team, request, user_id, source=source, replace=False, now=now)
                for user_id in dict.fromkeys(named)]
    added = [n.assignment for n in outcomes if n.assignment is not None]
    roles = {a.role for a in added}
    choice, chosen = reviews.assign(session, team, request, need_primary=PRIMARY not in roles,
                                    need_secondary=SECONDARY not in roles, now=now)
    told = reviews.settle_status(session, team, request, choice, now=now)
    notify.post_card(session, request, reviews.card(session, team, request, now=now), now=now)
    reviews.send_assignments(session, team, request, added + chosen, now=now)
    return Filed(request=request, assignments=added + chosen, choice=choice, told=told), outcomes


def name_reviewer(session: Session, team: Team, request: ReviewRequest, user_id: str, *, source: str, actor_id: str,
                  now: datetime) -> Named:
    """Someone was requested as reviewer on the code host: they take a free role (primary if they
    are gold or silver in the request's specialization), or the role of a reviewer the matrix chose
    who has not accepted yet. Capacity and absence still count; the author hears why not."""
    request = _locked(session, request)
    if not request.is_active:
        return Named(user_id, why_not=NO_FREE_ROLE)
    reviews.bump(request, now)
    named = _name(session, team, request, user_id, source=source, replace=True, now=now)
    if named.assignment is None:
        if named.why_not in TOLD_TO_AUTHOR:
            notify.tell_author_not_named(session, request, user_id, named.why_not, source, now=now)
        session.add(request)
        return named
    reviews.settle_status(session, team, request, rule.Choice(primary=None, secondary=None), now=now)
    reviews.record_change(session, team, request, named.replaced, action="named", actor_id=actor_id, now=now,
                          details={"reviewer": user_id, "role": named.assignment.role,
                                   "replaced": named.replaced.reviewer_id if named.replaced else None})
    reviews.send_assignments(session, team, request, [named.assignment], now=now)
    return named


def unname_reviewer(session: Session, team: Team, request: ReviewRequest, user_id: str, *, actor_id: str,
                    now: datetime) -> ReviewAssignment | None:
    """Someone was taken off the pull request's reviewers: their open review ends. A primary is
    replaced from the matrix (the request waits, and the leads hear, when nobody can take it); a
    secondary is not, so that whoever the author names next can take the role."""
    request = _locked(session, request)
    mine = next((a for a in store.assignments_of(session, request) if a.reviewer_id == user_id and a.is_active), None)
    if mine is None or not request.is_active:
        return None
    reviews.bump(request, now)
    mine.status, mine.ended_at = REMOVED, now
    session.add(mine)
    session.flush()
    added: list[ReviewAssignment] = []
    if mine.role == PRIMARY:
        choice, added = reviews.assign(session, team, request, need_primary=True, need_secondary=False, now=now)
        reviews.settle_status(session, team, request, choice, now=now)
    reviews.done_if_everyone_is(session, team, request, now=now)
    reviews.record_change(session, team, request, mine, action="unnamed", actor_id=actor_id, now=now,
                          details={"role": mine.role, "replacement": added[0].reviewer_id if added else None})
    reviews.send_assignments(session, team, request, added, now=now)
    return mine


def approve(session: Session, team: Team, request: ReviewRequest, user_id: str, *, at: datetime,
            now: datetime) -> ReviewAssignment | None:
    """An approval: the reviewer's open review is done at `at` (its turnaround runs from the
    assignment to then, in working hours), as if they had pressed Done. None when they are not a
    reviewer of it (an approval by someone else changes nothing here)."""
    request = _locked(session, request)
    mine = next((a for a in store.assignments_of(session, request) if a.reviewer_id == user_id and a.is_active), None)
    if mine is None:
        return None
    if request.changes_requested_by == user_id:  # they asked for changes before; they no longer do
        request.changes_requested_by = request.changes_requested_at = None
        session.add(request)
    reviews.finish(session, request.workspace_id, mine.id, user_id, now=now, at=at)
    return mine


def request_changes(session: Session, team: Team, request: ReviewRequest, by: str, *, at: datetime,
                    now: datetime) -> bool:
    """A review asked for changes: the card says who and when, and the author is told. `by`: the
    reviewer's Slack ID, or "github:login" for someone nobody has linked."""
    request = _locked(session, request)
    if not request.is_active:
        return False
    reviews.bump(request, now)
    request.changes_requested_by, request.changes_requested_at = by, min(at, now)
    reviews.record_change(session, team, request, None, action="changes_requested", actor_id=by, now=now)
    notify.tell_author_changes_requested(session, request, now=now)
    return True


def close_merged(session: Session, team: Team, request: ReviewRequest, *, actor_id: str, at: datetime,
                 now: datetime) -> bool:
    """The pull request was merged. Reviews still open end; the request is done if any review of it
    was (its turnaround runs to the last one), else it closes as merged without one."""
    request = _locked(session, request)
    if request.merged_at is not None:
        return False
    reviews.bump(request, now)
    request.merged_at = min(at, now)
    ended = _end_open_reviews(session, request, now=now)
    if request.is_active:
        finished = [a.done_at for a in store.assignments_of(session, request) if a.status == FINISHED and a.done_at]
        if finished:
            request.status, request.done_at = DONE, max(finished)
            hours = teams.working_hours(team)
            request.turnaround_seconds = int(hours.elapsed(request.created_at, request.done_at).total_seconds())
        else:
            request.status = MERGED
    _closed(session, team, request, ended, action="merged", actor_id=actor_id, now=now)
    return True


def close_unmerged(session: Session, team: Team, request: ReviewRequest, *, actor_id: str, now: datetime) -> bool:
    """The pull request was closed without merging: an open request is withdrawn, by whoever closed it."""
    request = _locked(session, request)
    if not request.is_active:
        return False
    reviews.bump(request, now)
    request.status, request.withdrawn_at = WITHDRAWN, now
    ended = _end_open_reviews(session, request, now=now)
    _closed(session, team, request, ended, action="withdrawn", actor_id=actor_id, now=now)
    return True


def reopen(session: Session, team: Team, request: ReviewRequest, *, actor_id: str, now: datetime) -> bool:
    """The pull request was reopened: a withdrawn request is open again, with the reviews that the
    closing ended given back to their reviewers (the matrix fills a role nobody is given back)."""
    request = _locked(session, request)
    if request.status != WITHDRAWN:
        return False
    reviews.bump(request, now)
    request.withdrawn_at = None
    back = [a for a in store.assignments_of(session, request) if a.status == CLOSED]
    for assignment in back:
        assignment.status, assignment.ended_at = (ACCEPTED if assignment.accepted_at else ASSIGNED), None
        session.add(assignment)
    session.flush()
    roles = {a.role for a in back}
    choice, added = reviews.assign(session, team, request, need_primary=PRIMARY not in roles,
                                   need_secondary=SECONDARY not in roles, now=now)
    request.status = store.OPEN  # settle_status reads it: waiting only if still no primary
    reviews.settle_status(session, team, request, choice, now=now)
    reviews.record_change(session, team, request, None, action="reopened", actor_id=actor_id, now=now)
    for assignment in back:
        notify.update_assignment(session, request, assignment, team, now=now)
    reviews.send_assignments(session, team, request, added, now=now)
    return True


def pause(session: Session, team: Team, request: ReviewRequest, *, actor_id: str, now: datetime) -> bool:
    """The pull request went back to draft: no reminders and no stalling until it is ready again."""
    return _set_paused(session, team, request, now, actor_id=actor_id, now=now)


def resume(session: Session, team: Team, request: ReviewRequest, *, actor_id: str, now: datetime) -> bool:
    return _set_paused(session, team, request, None, actor_id=actor_id, now=now)


def set_author(session: Session, team: Team, request: ReviewRequest, user_id: str, *, actor_id: str,
               now: datetime) -> bool:
    """The pull request's author linked their login: the request is theirs now (the card says so)."""
    request = _locked(session, request)
    if request.author_id == user_id:
        return False
    reviews.bump(request, now)
    before, request.author_id = request.author_id, user_id
    reviews.record_change(session, team, request, None, action="author_linked", actor_id=actor_id, now=now,
                          details={"before": before, "author": user_id})
    return True


# --- the pieces ------------------------------------------------------------------------------------
def _locked(session: Session, request: ReviewRequest) -> ReviewRequest:
    return store.get_request(session, request.workspace_id, request.id, lock=True)


def _name(session: Session, team: Team, request: ReviewRequest, user_id: str, *, source: str, replace: bool,
          now: datetime) -> Named:
    """Make one named person a reviewer of the request, if the matrix and their load allow."""
    reviewers = {r.user_id: r for r in store.lock_reviewers(session, team.workspace_id, team.id)}
    everyone = store.assignments_of(session, request)
    if any(a.reviewer_id == user_id and a.is_active for a in everyone):
        return Named(user_id, why_not=ALREADY)
    row = reviewers.get(user_id)
    if row is None:
        return Named(user_id, why_not=NOT_IN_MATRIX)
    if user_id == request.author_id:
        return Named(user_id, why_not=AUTHOR)
    candidate = Candidate(user_id=user_id, tier=row.tier, specializations=tuple(row.specializations),
                          capacity=row.capacity, open_reviews=store.open_counts(session, team.workspace_id,
                                                                                 [user_id])[user_id],
                          away=teams.is_away(row, teams.local_today(team, now)))
    if candidate.away:
        return Named(user_id, why_not=AWAY)
    if candidate.is_full:
        return Named(user_id, why_not=FULL)
    role, replaced = _role_for(everyone, candidate, request.specialization, replace=replace)
    if role is None:
        return Named(user_id, why_not=NO_FREE_ROLE)
    if replaced is not None:
        replaced.status, replaced.ended_at = REMOVED, now
        session.add(replaced)
    row.last_assigned_at = now
    session.add(row)
    assignment = ReviewAssignment(workspace_id=team.workspace_id, team_id=team.id, request_id=request.id,
                                  reviewer_id=user_id, role=role, tier=row.tier, assigned_at=now, requested_on=source)
    session.add(assignment)
    session.flush()
    audit.record(session, workspace_id=team.workspace_id, actor_id=audit.BOT_ACTOR, entity_type="review",
                 entity_id=request.id, action="assigned", at=now,
                 after={"reviewer": user_id, "role": role, "requested_on": source})
    return Named(user_id, assignment=assignment, replaced=replaced)


def _role_for(everyone: list[ReviewAssignment], candidate: Candidate, specialization: str, *,
              replace: bool) -> tuple[str | None, ReviewAssignment | None]:
    """The role a named reviewer takes, and whose (a matrix choice not accepted yet) when none is free."""
    active = {a.role: a for a in everyone if a.is_active}
    primary_done = any(a.role == PRIMARY and a.status == FINISHED for a in everyone)
    may_be_primary = rule.qualifies(candidate, PRIMARY, specialization)
    if PRIMARY not in active and not primary_done and may_be_primary:
        return PRIMARY, None
    if SECONDARY not in active:
        return SECONDARY, None
    if not replace:
        return None, None
    for role in (SECONDARY, PRIMARY):
        held = active.get(role)
        if held is not None and held.requested_on is None and held.status == ASSIGNED \
                and (role == SECONDARY or may_be_primary):
            return role, held
    return None, None


def _end_open_reviews(session: Session, request: ReviewRequest, *, now: datetime) -> list[ReviewAssignment]:
    ended = [a for a in store.assignments_of(session, request) if a.is_active]
    for assignment in ended:
        assignment.status, assignment.ended_at = CLOSED, now
        session.add(assignment)
    session.flush()
    return ended


def _closed(session: Session, team: Team, request: ReviewRequest, ended: list[ReviewAssignment], *, action: str,
            actor_id: str, now: datetime) -> None:
    reviews.record_change(session, team, request, None, action=action, actor_id=actor_id, now=now,
                          details={"ended": [a.reviewer_id for a in ended]})
    for assignment in ended:
        notify.update_assignment(session, request, assignment, team, now=now)


def _set_paused(session: Session, team: Team, request: ReviewRequest, paused_at: datetime | None, *, actor_id: str,
                now: datetime) -> bool:
    request = _locked(session, request)
    if not request.is_active or (request.paused_at is None) == (paused_at is None):
        return False
    reviews.bump(request, now)
    request.paused_at = paused_at
    reviews.record_change(session, team, request, None, action="paused" if paused_at else "resumed",
                          actor_id=actor_id, now=now)
    return True
