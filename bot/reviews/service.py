"""Review requests: filing one, assigning reviewers, and what Accept, Decline, Done, a rating and
Withdraw do to it.

Every function takes a session (the caller's transaction) and `now`, and says no with `Refusal`
or `Invalid`. Each change locks the request's row first, so two people (or two clocks) acting on
one request at once are serialised, and bumps its `version`, which names the card update it queues.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot import teams
from bot.core.errors import Problems, Refusal
from bot.reviews import messages as notify
from bot.reviews import rules as rule
from bot.reviews.messages import tell_removed_reviewer

# The form's rules live in their own module; they are part of this one's public face.
from bot.reviews.rules import Candidate, Choice, RequestForm, Shortfall, validate_request
from storage import audit, counters
from storage import reviews as store
from storage import teams as team_store
from storage.reviews import (
    ACCEPTED,
    CANCELLED,
    CLOSED,
    DECLINED,
    DONE,
    FINISHED,
    OPEN,
    PRIMARY,
    REASSIGNED,
    REMOVED,
    SECONDARY,
    WAITING,
    WITHDRAWN,
    ReviewAssignment,
    ReviewRequest,
)
from storage.teams import Team

REQUEST_LABEL = re.compile(r"^(?:CR-?)?0*([0-9]{1,9})$", re.IGNORECASE)
RATING_RANGE = (1, 10)


# --- filing a request ------------------------------------------------------------------------------
@dataclass
class Filed:
    request: ReviewRequest
    assignments: list[ReviewAssignment]
    choice: Choice
    told: Told | None  # who was pinged because nobody could be the primary


def file_request(session: Session, team: Team, form: RequestForm, *, author_id: str, channel_id: str | None,
                 now: datetime) -> Filed:
    """Store a request, post its card, and assign its reviewers: all in the caller's transaction."""
    request = new_request(session, team, form, author_id=author_id, channel_id=channel_id, now=now)
    choice, added = assign(session, team, request, need_primary=True, need_secondary=True, now=now)
    told = _after_assignment(session, team, request, choice, now=now)
    notify.post_card(session, request, card(session, team, request, now=now), now=now)
    send_assignments(session, team, request, added, now=now)  # after the card: the channel sees it first
    return Filed(request=request, assignments=added, choice=choice, told=told)


def new_request(session: Session, team: Team, form: RequestForm, *, author_id: str, channel_id: str | None,
                now: datetime, actor_id: str | None = None) -> ReviewRequest:
    """The request validated, numbered, stored and audited, without reviewers yet (`file_request`
    assigns them). `actor_id`: who filed it, when not its author (a pull request's webhook)."""
    form = validate_request(team, form, today=teams.local_today(team, now))
    request = ReviewRequest(
        workspace_id=team.workspace_id, team_id=team.id,
        number=counters.next_number(session, team.workspace_id, "review"),
        author_id=author_id, channel_id=team.home_channel_id or channel_id, url=form.url,
        summary=form.summary, specialization=form.specialization, size=form.size, needed_by=form.needed_by,
        status=OPEN, created_at=now, updated_at=now)
    session.add(request)
    session.flush()
    audit.record(session, workspace_id=team.workspace_id, actor_id=actor_id or author_id, entity_type="review",
                 entity_id=request.id, action="requested", after=describe(request), at=now)
    return request


def assign(session: Session, team: Team, request: ReviewRequest, *, need_primary: bool, need_secondary: bool,
           now: datetime) -> tuple[Choice, list[ReviewAssignment]]:
    """Choose and store the reviewers a request lacks (the caller DMs them with `send_assignments`).
    The team's reviewer rows stay locked until commit, so that no two assignments can overfill anyone."""
    reviewers = store.lock_reviewers(session, team.workspace_id, team.id)
    choice = _choose(session, team, request, reviewers, need_primary=need_primary, need_secondary=need_secondary,
                     now=now)
    by_id = {r.user_id: r for r in reviewers}
    added = []
    for role, user_id in ((PRIMARY, choice.primary), (SECONDARY, choice.secondary)):
        if user_id is None:
            continue
        reviewer = by_id[user_id]
        reviewer.last_assigned_at = now
        session.add(reviewer)
        assignment = ReviewAssignment(workspace_id=team.workspace_id, team_id=team.id, request_id=request.id,
                                      reviewer_id=user_id, role=role, tier=reviewer.tier, assigned_at=now)
        session.add(assignment)
        session.flush()
        added.append(assignment)
        audit.record(session, workspace_id=team.workspace_id, actor_id=audit.BOT_ACTOR, entity_type="review",
                     entity_id=request.id, action="assigned", after={"reviewer": user_id, "role": role}, at=now)
    return choice, added


def _choose(session: Session, team: Team, request: ReviewRequest, reviewers: list, *, need_primary: bool,
            need_secondary: bool, now: datetime) -> Choice:
    """The assignment rule applied to the team's matrix as it is at `now`. Whoever left the matrix
    while on this request is no candidate for it, even while their row is still being removed."""
    everyone = store.assignments_of(session, request)
    left = {a.reviewer_id for a in everyone if a.status == REASSIGNED}
    gone = {a.reviewer_id for a in everyone if a.status == DECLINED}
    on_it = {a.reviewer_id for a in everyone} - gone - left
    reviewers = [r for r in reviewers if r.user_id not in left]
    counts = store.open_counts(session, team.workspace_id, [r.user_id for r in reviewers])
    today = teams.local_today(team, now)
    candidates = [Candidate(user_id=r.user_id, tier=r.tier, specializations=tuple(r.specializations),
                            capacity=r.capacity, open_reviews=counts[r.user_id], away=teams.is_away(r, today),
                            last_assigned_at=r.last_assigned_at) for r in reviewers]
    return rule.choose_reviewers(candidates, specialization=request.specialization, author_id=request.author_id,
                                 exclude=on_it, declined=gone, need_primary=need_primary,
                                 need_secondary=need_secondary)


def waiting_why(session: Session, team: Team, request: ReviewRequest, *, now: datetime) -> Shortfall | None:
    """Why a waiting request has no primary reviewer at `now` (None when someone could take it: the
    clock assigns it at its next sweep). Reads the matrix without locking it."""
    choice = _choose(session, team, request, team_store.reviewers(session, team), need_primary=True,
                     need_secondary=False, now=now)
    return choice.shortfall(PRIMARY)


def card(session: Session, team: Team, request: ReviewRequest, *, now: datetime) -> dict:
    """What the request's card shows (the context of reviews/card.json.j2): its reviewers, the
    team's review-time target, why it waits, and who withdrew it."""
    return {"request": request, "team": team, "assignments": store.assignments_of(session, request),
            "target_hours": target_hours(session, team),
            "waiting": waiting_why(session, team, request, now=now) if request.status == WAITING else None,
            "withdrawn_by": withdrawn_by(session, request) if request.status == WITHDRAWN else None}


def withdrawn_by(session: Session, request: ReviewRequest) -> str | None:
    """Who withdrew a request: the actor of its audited withdrawal."""
    events = audit.history(session, request.workspace_id, "review", request.id)
    return next((e.actor_id for e in reversed(events) if e.action == "withdrawn"), None)


def send_assignments(session: Session, team: Team, request: ReviewRequest, added: list[ReviewAssignment], *,
                     now: datetime) -> None:
    for assignment in added:
        notify.send_assignment(session, request, assignment, team, now=now)


@dataclass(frozen=True)
class Told:
    """Who hears about a request nobody can take, or one that stalled."""

    role: str  # team_lead, or engineering_manager when the team has no team lead
    people: list[str]


def who_to_tell(session: Session, team: Team) -> Told:
    """The team leads; a team without one has its engineering managers told instead, so that a
    waiting or stalled review never goes unheard (the author is also told the team has no lead)."""
    for role in teams.MANAGING_ROLES:  # team_lead, then engineering_manager
        if people := teams.people_in(session, team, role):
            return Told(role=role, people=people)
    return Told(role="team_lead", people=[])


def _after_assignment(session: Session, team: Team, request: ReviewRequest, choice: Choice, *,
                      now: datetime) -> Told | None:
    """Open when it has a primary. Else waiting: when it starts to wait, the team leads are pinged.
    Returns who was pinged."""
    has_primary = any(a.role == PRIMARY and (a.is_active or a.status == FINISHED)
                      for a in store.assignments_of(session, request))
    was_waiting = request.status == WAITING
    request.status = OPEN if has_primary else WAITING
    session.add(request)
    if has_primary or was_waiting:
        return None
    told = who_to_tell(session, team)
    notify.ping_leads_no_reviewer(session, request, team, choice.shortfall(PRIMARY) or _nobody(request),
                                  told.people, now=now)
    return told


def _nobody(request: ReviewRequest) -> Shortfall:
    return Shortfall(role=PRIMARY, specialization=request.specialization)


# --- a reviewer's answer -------------------------------------------------------------------------
def accept(session: Session, workspace_id: str, assignment_id: int, user_id: str, *, now: datetime) -> ReviewRequest:
    request, assignment, team = _reviewers_own(session, workspace_id, assignment_id, user_id, now=now)
    if assignment.status == ACCEPTED:
        raise Refusal("reviews.already_accepted", label=request.label)
    assignment.status, assignment.accepted_at = ACCEPTED, now
    session.add(assignment)
    _changed(session, team, request, assignment, action="accepted", actor_id=user_id, now=now)
    return request


def decline(session: Session, workspace_id: str, assignment_id: int, user_id: str, reason: str | None, *,
            now: datetime) -> tuple[ReviewRequest, ReviewAssignment | None]:
    """Record the decline and its reason, then hand the role to the next eligible reviewer.
    Returns the request and the new assignment (None when nobody else is free)."""
    reason = (reason or "").strip()
    problems = Problems()
    if not reason:
        problems.add("reason", "reviews.reason_required")
    elif len(reason) > store.REASON_MAX:
        problems.add("reason", "reviews.reason_too_long", limit=store.REASON_MAX)
    problems.raise_if_any()
    request, declined, team = _reviewers_own(session, workspace_id, assignment_id, user_id, now=now)
    declined.status, declined.ended_at, declined.decline_reason = DECLINED, now, reason
    session.add(declined)
    session.flush()
    promoted = _promote_secondary(session, team, request, now=now) if declined.role == PRIMARY else None
    if promoted is not None:  # the secondary steps up; a new secondary is looked for in their place
        choice, added = assign(session, team, request, need_primary=False, need_secondary=True, now=now)
    else:
        choice, added = assign(session, team, request, need_primary=declined.role == PRIMARY,
                               need_secondary=declined.role == SECONDARY, now=now)
    _after_assignment(session, team, request, choice, now=now)
    _done_if_everyone_is(session, team, request, now=now)  # a secondary who declines after the primary's Done
    replacement = promoted or (added[0] if added else None)
    if promoted is not None:
        notify.update_assignment(session, request, promoted, team, now=now)
    _changed(session, team, request, declined, action="declined", actor_id=user_id, now=now,
             details={"reason": reason, "replacement": replacement.reviewer_id if replacement else None})
    send_assignments(session, team, request, added, now=now)
    notify.tell_author_declined(session, request, declined, replacement, choice.shortfall(declined.role), now=now)
    return request, replacement


def _promote_secondary(session: Session, team: Team, request: ReviewRequest, *,
                       now: datetime) -> ReviewAssignment | None:
    """When the primary declines, an active secondary who may be primary (gold or silver in the
    request's specialization, not away) becomes the primary, before anyone new is looked for."""
    matrix = {r.user_id: r for r in team_store.reviewers(session, team)}
    today = teams.local_today(team, now)
    for assignment in store.assignments_of(session, request):
        reviewer = matrix.get(assignment.reviewer_id)
        if (assignment.role != SECONDARY or not assignment.is_active or reviewer is None
                or reviewer.tier not in rule.PRIMARY_TIERS or teams.is_away(reviewer, today)
                or request.specialization not in reviewer.specializations):
            continue
        assignment.role = PRIMARY
        session.add(assignment)
        session.flush()
        audit.record(session, workspace_id=request.workspace_id, actor_id=audit.BOT_ACTOR, entity_type="review",
                     entity_id=request.id, action="promoted", after={"reviewer": assignment.reviewer_id,
                                                                     "role": PRIMARY}, at=now)
        return assignment
    return None


@dataclass(frozen=True)
class Handover:
    """One open review handed on because its reviewer left the team's matrix."""

    request: ReviewRequest
    ended: ReviewAssignment  # the leaving reviewer's assignment, now "reassigned"
    replacement: ReviewAssignment | None  # who has the role now; None: nobody could take it

    @property
    def label(self) -> str:
        return self.request.label

    @property
    def role(self) -> str:
        return self.ended.role

    @property
    def replacement_id(self) -> str | None:
        return self.replacement.reviewer_id if self.replacement else None


def reassign_open_reviews(session: Session, team: Team, reviewer_id: str, *, actor_id: str,
                          now: datetime) -> list[Handover]:
    """Hand a reviewer's open reviews of this team's requests to the next eligible reviewers, as
    Decline does: for when they are removed from the team's matrix. Each request is locked and its
    card, the leaving reviewer's DM, the new reviewer's DM and a note to the author are queued in the
    caller's transaction (deliver the outbox after the commit); each handover is audited as
    "reassigned" by `actor_id`. A primary nobody can replace leaves the request waiting (the leads
    are told, and the clock assigns it when someone is free); a secondary is simply not replaced.
    It may be called before or after the reviewer's row is removed: they are never chosen again for
    these requests. Their reviews for other teams stay theirs. Returns what moved, oldest first."""
    mine = sorted(store.active_assignments_in_team(session, team.workspace_id, team.id, reviewer_id),
                  key=lambda a: (a.request_id, a.id))
    # Lock every request first, in one order, as every other change locks a request before its
    # reviewers: a decline meanwhile then waits instead of deadlocking with us.
    locked = {a.request_id: store.get_request(session, team.workspace_id, a.request_id, lock=True) for a in mine}
    moved = []
    for assignment in mine:
        request = locked[assignment.request_id]
        session.refresh(assignment)  # it may have changed while we waited for the lock
        if not assignment.is_active or not request.is_active:
            continue
        bump(request, now)
        assignment.status, assignment.ended_at = REASSIGNED, now
        session.add(assignment)
        session.flush()
        choice, added = assign(session, team, request, need_primary=assignment.role == PRIMARY,
                               need_secondary=assignment.role == SECONDARY, now=now)
        _after_assignment(session, team, request, choice, now=now)
        _done_if_everyone_is(session, team, request, now=now)  # a secondary leaving after the primary's Done
        replacement = added[0] if added else None
        _changed(session, team, request, assignment, action="reassigned", actor_id=actor_id, now=now,
                 details={"role": assignment.role, "replacement": replacement.reviewer_id if replacement else None})
        send_assignments(session, team, request, added, now=now)
        notify.tell_author_reassigned(session, request, assignment, replacement, choice.shortfall(assignment.role),
                                      team, now=now)
        moved.append(Handover(request=request, ended=assignment, replacement=replacement))
    return moved


def remove_reviewer(session: Session, team: Team, user_id: str, *, actor_id: str, now: datetime,
                    notify: bool = False) -> list[Handover]:
    """Take a reviewer out of the team's matrix, audited, their open reviews in this team handed on
    first (reassign_open_reviews tells the authors); `notify` tells the reviewer by DM where each
    went. Returns what was handed over."""
    if team_store.get_reviewer(session, team, user_id) is None:
        raise Refusal("teams.not_a_reviewer")
    handed = reassign_open_reviews(session, team, user_id, actor_id=actor_id, now=now)
    teams.remove_reviewer(session, team, user_id, actor_id=actor_id, now=now,
                          handed_over={h.label: h.replacement_id for h in handed})
    if notify and user_id != actor_id:
        tell_removed_reviewer(session, team, user_id, handed, actor_id=actor_id, now=now)
    return handed


def finish(session: Session, workspace_id: str, assignment_id: int, user_id: str, *, now: datetime,
           at: datetime | None = None) -> ReviewRequest:
    """Done: the reviewer's turnaround is stored, the author is asked to rate the review, and the
    request is done once every reviewer on it is (its turnaround runs from the request). `at`: when
    the review was done, if earlier than `now` (a pull request approved before its webhook arrived)."""
    request, assignment, team = _reviewers_own(session, workspace_id, assignment_id, user_id, now=now)
    hours = teams.working_hours(team)
    at = now if at is None else min(max(at, assignment.assigned_at), now)
    assignment.status, assignment.done_at, assignment.ended_at = FINISHED, at, at
    assignment.accepted_at = assignment.accepted_at or at
    assignment.turnaround_seconds = int(hours.elapsed(assignment.assigned_at, at).total_seconds())
    session.add(assignment)
    session.flush()
    _done_if_everyone_is(session, team, request, now=at)
    _changed(session, team, request, assignment, action="done", actor_id=user_id, now=now,
             details={"turnaround_seconds": assignment.turnaround_seconds, "request_status": request.status})
    notify.ask_rating(session, request, assignment, quality_target=quality_target(session, team), now=now)
    return request


def _done_if_everyone_is(session: Session, team: Team, request: ReviewRequest, *, now: datetime) -> None:
    """A request is done when its primary has finished and nobody on it is still reviewing; its
    turnaround runs from the request, in the team's working hours."""
    everyone = store.assignments_of(session, request)
    if any(a.is_active for a in everyone) or not any(a.role == PRIMARY and a.status == FINISHED for a in everyone):
        return
    request.status, request.done_at = DONE, now
    request.turnaround_seconds = int(teams.working_hours(team).elapsed(request.created_at, now).total_seconds())
    session.add(request)


def _reviewers_own(session: Session, workspace_id: str, assignment_id: int, user_id: str, *,
                   now: datetime) -> tuple[ReviewRequest, ReviewAssignment, Team]:
    """The request (locked, its version bumped), the assignment and the team, if this is the
    person's open review."""
    request, assignment = own_open_review(session, workspace_id, assignment_id, user_id, lock=True)
    bump(request, now)
    return request, assignment, team_store.get_team(session, workspace_id, request.team_id)


def own_open_review(session: Session, workspace_id: str, assignment_id: int, user_id: str, *,
                    lock: bool = False) -> tuple[ReviewRequest, ReviewAssignment]:
    """The person's open assignment and its request, or the refusal that says why it is not
    (someone else's, declined and reassigned, done, withdrawn). Decline checks this before it
    opens its form."""
    assignment = store.get_assignment(session, workspace_id, assignment_id)
    if assignment is None:
        raise Refusal("reviews.no_such_review")
    request = store.get_request(session, workspace_id, assignment.request_id, lock=lock)
    session.refresh(assignment)  # it may have changed while we waited for the lock
    if assignment.reviewer_id != user_id:
        raise Refusal("reviews.not_your_review", label=request.label, reviewer=assignment.reviewer_id)
    if not assignment.is_active:
        raise _no_longer_open(session, request, assignment)
    return request, assignment


def _no_longer_open(session: Session, request: ReviewRequest, assignment: ReviewAssignment) -> Refusal:
    if request.status == WITHDRAWN or assignment.status == CANCELLED:
        return Refusal("reviews.was_withdrawn", label=request.label, by=withdrawn_by(session, request))
    if assignment.status == CLOSED:
        return Refusal("reviews.pull_request_closed", label=request.label)
    if assignment.status == REMOVED:
        return Refusal("reviews.you_were_removed", label=request.label)
    if assignment.status in (DECLINED, REASSIGNED):
        now_with = [a.reviewer_id for a in store.assignments_of(session, request)
                    if a.role == assignment.role and a.is_active]
        key = "reviews.you_declined" if assignment.status == DECLINED else "reviews.you_left_the_matrix"
        return Refusal(key, label=request.label, replacement=now_with[0] if now_with else None)
    return Refusal("reviews.already_done", label=request.label)


# --- a reviewer leaving a team's matrix -----------------------------------------------------------
def open_reviews_in_team(session: Session, team: Team,
                         reviewer_id: str) -> list[tuple[ReviewAssignment, ReviewRequest]]:
    """A reviewer's open assignments in this team, each with its request, oldest first."""
    return [(assignment, store.get_request(session, team.workspace_id, assignment.request_id))
            for assignment in store.active_assignments_in_team(session, team.workspace_id, team.id, reviewer_id)]


# --- the author's part ---------------------------------------------------------------------------
def rate(session: Session, workspace_id: str, assignment_id: int, user_id: str, score: int | str | None, *,
         now: datetime) -> ReviewAssignment:
    """The author rates one reviewer's finished review, 1–10 (the guide's review quality score).
    Rating again replaces the earlier score."""
    value = parse_rating(score)
    assignment = store.get_assignment(session, workspace_id, assignment_id)
    if assignment is None:
        raise Refusal("reviews.no_such_review")
    request = store.get_request(session, workspace_id, assignment.request_id, lock=True)
    session.refresh(assignment)
    if user_id != request.author_id:
        raise Refusal("reviews.only_author_rates", label=request.label, author=request.author_id)
    if assignment.status != FINISHED:
        raise Refusal("reviews.rate_after_done", label=request.label, reviewer=assignment.reviewer_id)
    bump(request, now)
    before = assignment.rating
    assignment.rating, assignment.rated_at = value, now
    session.add(assignment)
    session.flush()
    rated = [a.rating for a in store.assignments_of(session, request) if a.rating is not None]
    request.rating = sum(rated) / len(rated)
    team = team_store.get_team(session, workspace_id, request.team_id)
    _changed(session, team, request, None, action="rated", actor_id=user_id, now=now,
             details={"reviewer": assignment.reviewer_id, "before": before, "rating": value})
    notify.update_rating(session, request, assignment, quality_target=quality_target(session, team), now=now)
    return assignment


def parse_rating(score: int | str | None) -> int:
    """A whole number 1–10, in ASCII digits: int() alone would also take "１０" or "1_0"."""
    text = str(score).strip() if isinstance(score, (int, str)) and not isinstance(score, bool) else ""
    value = int(text) if text.isascii() and text.isdecimal() and len(text) <= 2 else None
    if value is None or not RATING_RANGE[0] <= value <= RATING_RANGE[1]:
        raise Refusal("reviews.bad_rating", text=str(score if score is not None else "")[:20])
    return value


def withdraw(session: Session, workspace_id: str, request_id: int, user_id: str, *, workspace_admin: bool,
             now: datetime) -> ReviewRequest:
    """The author (or a team lead, engineering manager or admin) withdraws a request that is no
    longer needed: its open reviews end and the reviewers are told."""
    request = store.get_request(session, workspace_id, request_id, lock=True)
    if request is None:
        raise Refusal("reviews.no_such_review")
    team = team_store.get_team(session, workspace_id, request.team_id)
    if not teams.may_manage(session, team, user_id, workspace_admin=workspace_admin, also=[request.author_id]):
        raise Refusal("reviews.only_author_withdraws", label=request.label, author=request.author_id)
    if not request.is_active:
        raise Refusal("reviews.already_closed", label=request.label, status=request.status)
    bump(request, now)
    request.status, request.withdrawn_at = WITHDRAWN, now
    ended = [a for a in store.assignments_of(session, request) if a.is_active]
    for assignment in ended:
        assignment.status, assignment.ended_at = CANCELLED, now
        session.add(assignment)
    _changed(session, team, request, None, action="withdrawn", actor_id=user_id, now=now)  # the card names them
    for assignment in ended:
        notify.update_assignment(session, request, assignment, team, now=now, withdrawn_by=user_id)
    return request


def find_request(session: Session, workspace_id: str, label: str) -> ReviewRequest:
    """CR-007, cr-7 or 7. One that is not there is named as a label is written (CR-009)."""
    match = REQUEST_LABEL.match((label or "").strip())
    request = store.request_by_number(session, workspace_id, int(match.group(1))) if match else None
    if request is None:
        shown = f"CR-{int(match.group(1)):03d}" if match else (label or "").strip()[:40]
        raise Refusal("reviews.unknown_request", text=shown)
    return request


def rate_by_label(session: Session, workspace_id: str, label: str, user_id: str, score: str, *,
                  reviewer_id: str | None, now: datetime) -> ReviewAssignment:
    """`/qms review rate CR-007 9 [@reviewer]`: the typed way to rate."""
    parse_rating(score)
    request = find_request(session, workspace_id, label)
    finished = [a for a in store.assignments_of(session, request) if a.status == FINISHED]
    if reviewer_id:
        finished = [a for a in finished if a.reviewer_id == reviewer_id]
    if not finished:
        raise Refusal("reviews.rate_after_done", label=request.label, reviewer=reviewer_id)
    if len(finished) > 1:
        raise Refusal("reviews.rate_which", label=request.label, reviewers=[a.reviewer_id for a in finished])
    return rate(session, workspace_id, finished[0].id, user_id, score, now=now)


# --- for the pull-request flow (bot/reviews/pull_requests.py) -------------------------------------
def settle_status(session: Session, team: Team, request: ReviewRequest, choice: Choice, *,
                  now: datetime) -> Told | None:
    """Open when the request has a primary reviewer, else waiting (the leads are told when it starts to)."""
    return _after_assignment(session, team, request, choice, now=now)


def done_if_everyone_is(session: Session, team: Team, request: ReviewRequest, *, now: datetime) -> None:
    _done_if_everyone_is(session, team, request, now=now)


def record_change(session: Session, team: Team, request: ReviewRequest, assignment: ReviewAssignment | None, *,
                  action: str, actor_id: str, now: datetime, details: dict | None = None) -> None:
    """Audit a change, update the card and (given one) that reviewer's DM."""
    _changed(session, team, request, assignment, action=action, actor_id=actor_id, now=now, details=details)


# --- shared ----------------------------------------------------------------------------------------
def bump(request: ReviewRequest, now: datetime) -> None:
    """A new version of the request, before anything is queued: the keys of this change's card and
    DM updates carry it, so they differ from every earlier change's."""
    request.version += 1
    request.updated_at = now


def _changed(session: Session, team: Team, request: ReviewRequest, assignment: ReviewAssignment | None, *,
             action: str, actor_id: str, now: datetime, details: dict | None = None) -> None:
    """Audit the change, update the card and the reviewer's DM."""
    session.add(request)
    session.flush()
    audit.record(session, workspace_id=request.workspace_id, actor_id=actor_id, entity_type="review",
                 entity_id=request.id, action=action, at=now,
                 after={"status": request.status, **({"reviewer": assignment.reviewer_id} if assignment else {}),
                        **(details or {})})
    notify.update_card(session, request, card(session, team, request, now=now), now=now)
    if assignment is not None:
        notify.update_assignment(session, request, assignment, team, now=now)


def target_hours(session: Session, team: Team) -> float:
    """The team's review-time target (the guide's < 6 h unless the team set its own)."""
    return float(teams.target_values(session, team)["review_time_hours"])


def quality_target(session: Session, team: Team) -> float:
    """The team's review-quality target (the guide's > 8.0/10 unless the team set its own)."""
    return float(teams.target_values(session, team)["review_quality"])


def describe(request: ReviewRequest) -> dict:
    return {"label": request.label, "url": request.url, "specialization": request.specialization,
            "size": request.size, "needed_by": request.needed_by.isoformat() if request.needed_by else None,
            "author": request.author_id, "status": request.status}
