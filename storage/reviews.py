"""Review requests, their reviewer assignments, and the figures the digests and KPIs read.

A request (CR-007) has at most one active primary and one active secondary assignment. An
assignment ends as done, declined (then another reviewer gets a new assignment) or withdrawn.
Turnaround is stored in working seconds when a request or an assignment is done, so period
queries are plain SQL aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable

from sqlalchemy import Column, Index, Text, UniqueConstraint, and_, case, literal, or_, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Float
from sqlmodel import Field, Session, SQLModel, func, select

from storage.teams import Reviewer
from storage.types import UTCDateTime

# A request's status.
WAITING = "waiting"  # no primary reviewer could be assigned yet; the clock keeps trying
OPEN = "open"  # reviewers assigned, not every one of them done
DONE = "done"
WITHDRAWN = "withdrawn"
ACTIVE_REQUEST = (WAITING, OPEN)

# An assignment's status.
ASSIGNED = "assigned"  # waiting for Accept
ACCEPTED = "accepted"
FINISHED = "done"
DECLINED = "declined"
CANCELLED = "withdrawn"  # the request was withdrawn while this assignment was open
ACTIVE_ASSIGNMENT = (ASSIGNED, ACCEPTED)

PRIMARY, SECONDARY = "primary", "secondary"
SIZES = ("S", "M", "L")
URL_MAX = 2000
SUMMARY_MAX = 3000
REASON_MAX = 500


class ReviewRequest(SQLModel, table=True):
    __tablename__ = "review_request"
    __table_args__ = (
        UniqueConstraint("workspace_id", "number", name="uq_review_request_number"),
        Index("ix_review_request_team_status", "workspace_id", "team_id", "status"),
        Index("ix_review_request_team_created", "workspace_id", "team_id", "created_at"),
        Index("ix_review_request_team_done", "workspace_id", "team_id", "done_at"),
        Index("ix_review_request_author", "workspace_id", "author_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE")
    number: int  # CR-007 is number 7 of its workspace
    author_id: str = Field(max_length=32)
    channel_id: str = Field(max_length=32)  # where its card is posted
    url: str = Field(max_length=URL_MAX)
    summary: str | None = Field(default=None, sa_type=Text)
    specialization: str = Field(max_length=80)
    size: str = Field(default="M", max_length=1)
    needed_by: date | None = None
    status: str = Field(default=OPEN, max_length=16)
    version: int = 1  # bumped on every change: outbox keys of card updates carry it
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    stalled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # past the review-time target
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    turnaround_seconds: int | None = None  # working seconds from request to the last reviewer's Done
    rating: float | None = None  # the mean of the author's ratings of its reviews (1–10)

    @property
    def label(self) -> str:
        return f"CR-{self.number:03d}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_REQUEST


class ReviewAssignment(SQLModel, table=True):
    """One reviewer on one request, in one role, from assignment until done, declined or withdrawn."""

    __tablename__ = "review_assignment"
    __table_args__ = (
        Index("ix_review_assignment_reviewer", "workspace_id", "reviewer_id", "status"),
        Index("ix_review_assignment_team_done", "workspace_id", "team_id", "done_at"),
        Index("ix_review_assignment_team_assigned", "workspace_id", "team_id", "assigned_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE")
    request_id: int = Field(foreign_key="review_request.id", ondelete="CASCADE", index=True)
    reviewer_id: str = Field(max_length=32)
    role: str = Field(max_length=10)  # primary | secondary
    tier: str = Field(max_length=8)  # the reviewer's tier when assigned
    status: str = Field(default=ASSIGNED, max_length=16)
    assigned_at: datetime = Field(sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # done, declined or withdrawn
    decline_reason: str | None = Field(default=None, sa_type=Text)
    accept_nudged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_nudged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    turnaround_seconds: int | None = None  # working seconds from assignment to Done
    rating: int | None = None  # the author's 1–10
    rated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_ASSIGNMENT


# --- requests ----------------------------------------------------------------------------------
def get_request(session: Session, workspace_id: str, request_id: int, *, lock: bool = False) -> ReviewRequest | None:
    """A request of this workspace; `lock` holds its row until commit, so that every change to one
    request (two reviewers pressing Done at once, two clocks) happens one after the other."""
    query = select(ReviewRequest).where(ReviewRequest.workspace_id == workspace_id, ReviewRequest.id == request_id)
    if lock:
        query = query.with_for_update()
    return session.exec(query).first()


def request_by_number(session: Session, workspace_id: str, number: int) -> ReviewRequest | None:
    query = select(ReviewRequest).where(ReviewRequest.workspace_id == workspace_id, ReviewRequest.number == number)
    return session.exec(query).first()


def active_requests(session: Session, workspace_id: str, team_id: int) -> list[ReviewRequest]:
    query = (select(ReviewRequest)
             .where(ReviewRequest.workspace_id == workspace_id, ReviewRequest.team_id == team_id,
                    ReviewRequest.status.in_(ACTIVE_REQUEST))
             .order_by(ReviewRequest.created_at, ReviewRequest.id))
    return list(session.exec(query))


def requests_by_author(session: Session, workspace_id: str, author_id: str) -> list[ReviewRequest]:
    query = (select(ReviewRequest)
             .where(ReviewRequest.workspace_id == workspace_id, ReviewRequest.author_id == author_id,
                    ReviewRequest.status.in_(ACTIVE_REQUEST))
             .order_by(ReviewRequest.created_at, ReviewRequest.id))
    return list(session.exec(query))


def stalled_requests(session: Session, workspace_id: str, team_id: int) -> list[ReviewRequest]:
    query = (select(ReviewRequest)
             .where(ReviewRequest.workspace_id == workspace_id, ReviewRequest.team_id == team_id,
                    ReviewRequest.status.in_(ACTIVE_REQUEST), ReviewRequest.stalled_at.is_not(None))
             .order_by(ReviewRequest.created_at, ReviewRequest.id))
    return list(session.exec(query))


def mark_stalled(session: Session, request: ReviewRequest, *, now: datetime) -> bool:
    """Compare-and-set: only the first of two clocks marks a request stalled."""
    table = ReviewRequest.__table__
    result = session.execute(
        update(table)
        .where(table.c.id == request.id, table.c.workspace_id == request.workspace_id,
               table.c.stalled_at.is_(None), table.c.status.in_(ACTIVE_REQUEST))
        .values(stalled_at=now, version=table.c.version + 1, updated_at=now))
    if result.rowcount != 1:
        return False
    session.refresh(request)
    return True


# --- assignments -------------------------------------------------------------------------------
def get_assignment(session: Session, workspace_id: str, assignment_id: int) -> ReviewAssignment | None:
    found = session.get(ReviewAssignment, assignment_id)
    return found if found is not None and found.workspace_id == workspace_id else None


def assignments_of(session: Session, request: ReviewRequest) -> list[ReviewAssignment]:
    query = (select(ReviewAssignment)
             .where(ReviewAssignment.workspace_id == request.workspace_id, ReviewAssignment.request_id == request.id)
             .order_by(ReviewAssignment.id))
    return list(session.exec(query))


def assignments_of_requests(session: Session, workspace_id: str,
                            request_ids: Iterable[int]) -> dict[int, list[ReviewAssignment]]:
    ids = list(request_ids)
    found: dict[int, list[ReviewAssignment]] = {request_id: [] for request_id in ids}
    if not ids:
        return found
    query = (select(ReviewAssignment)
             .where(ReviewAssignment.workspace_id == workspace_id, ReviewAssignment.request_id.in_(ids))
             .order_by(ReviewAssignment.id))
    for assignment in session.exec(query):
        found[assignment.request_id].append(assignment)
    return found


def active_assignments_of(session: Session, workspace_id: str, reviewer_id: str) -> list[ReviewAssignment]:
    query = (select(ReviewAssignment)
             .where(ReviewAssignment.workspace_id == workspace_id, ReviewAssignment.reviewer_id == reviewer_id,
                    ReviewAssignment.status.in_(ACTIVE_ASSIGNMENT))
             .order_by(ReviewAssignment.assigned_at, ReviewAssignment.id))
    return list(session.exec(query))


def open_counts(session: Session, workspace_id: str, reviewer_ids: Iterable[str]) -> dict[str, int]:
    """Open (assigned or accepted) reviews per person, across every team of the workspace:
    capacity is about a person's load, whichever team asked."""
    ids = list(set(reviewer_ids))
    counts = {reviewer_id: 0 for reviewer_id in ids}
    if not ids:
        return counts
    query = (select(ReviewAssignment.reviewer_id, func.count())
             .where(ReviewAssignment.workspace_id == workspace_id, ReviewAssignment.reviewer_id.in_(ids),
                    ReviewAssignment.status.in_(ACTIVE_ASSIGNMENT))
             .group_by(ReviewAssignment.reviewer_id))
    counts.update({reviewer_id: count for reviewer_id, count in session.exec(query)})
    return counts


def lock_reviewers(session: Session, workspace_id: str, team_id: int) -> list[Reviewer]:
    """The team's reviewer rows, and every other team's rows of the same people, locked until commit
    (in one order, so two assigners never deadlock): two requests filed at once cannot both give
    a reviewer their last free slot."""
    people = select(Reviewer.user_id).where(Reviewer.workspace_id == workspace_id, Reviewer.team_id == team_id)
    locked = (select(Reviewer)
              .where(Reviewer.workspace_id == workspace_id, Reviewer.user_id.in_(people))
              .order_by(Reviewer.team_id, Reviewer.user_id)
              .with_for_update())
    return [row for row in session.exec(locked) if row.team_id == team_id]


def set_nudged(session: Session, assignment: ReviewAssignment, stage: str, *, now: datetime) -> bool:
    """Compare-and-set the `accept` or `done` nudge: True only for the first clock to get there."""
    table = ReviewAssignment.__table__
    column = {"accept": table.c.accept_nudged_at, "done": table.c.done_nudged_at}[stage]
    statuses = (ASSIGNED,) if stage == "accept" else ACTIVE_ASSIGNMENT
    result = session.execute(
        update(table)
        .where(table.c.id == assignment.id, table.c.workspace_id == assignment.workspace_id,
               column.is_(None), table.c.status.in_(statuses))
        .values({column.key: now}))
    if result.rowcount != 1:
        return False
    session.refresh(assignment)
    return True


# --- figures for digests, KPIs and /qms review stats -------------------------------------------
@dataclass(frozen=True)
class ReviewerFigures:
    reviewer_id: str
    done: int = 0  # assignments finished in the period
    median_turnaround_seconds: float | None = None
    mean_rating: float | None = None
    ratings: int = 0
    open_now: int = 0  # open at the end of the period
    utilization: float | None = None  # mean (open ÷ capacity) over the period, wall-clock weighted


@dataclass(frozen=True)
class ReviewFigures:
    requested: int  # requests filed in the period
    done: int  # requests finished in the period
    mean_turnaround_seconds: float | None  # working seconds, of the requests finished in the period
    median_turnaround_seconds: float | None
    mean_rating: float | None  # of the reviews finished in the period and rated (1–10)
    ratings: int
    stalled: int  # requests that went past the review-time target in the period
    still_stalled: int  # of those, not finished by the end of the period
    utilization: float | None  # the team's open reviews ÷ its capacity, averaged over the period
    reviewers: dict[str, ReviewerFigures] = field(default_factory=dict)

    @property
    def mean_turnaround_hours(self) -> float | None:
        return None if self.mean_turnaround_seconds is None else self.mean_turnaround_seconds / 3600

    @property
    def median_turnaround_hours(self) -> float | None:
        return None if self.median_turnaround_seconds is None else self.median_turnaround_seconds / 3600


def review_figures(session: Session, workspace_id: str, team_id: int, *, start: datetime,
                   end: datetime) -> ReviewFigures:
    """A team's review figures for [start, end), computed in SQL. Turnaround is in working seconds
    of the team's hours (see bot.workhours); `*_hours` properties convert."""
    req = ReviewRequest
    in_team = and_(req.workspace_id == workspace_id, req.team_id == team_id)
    finished = and_(in_team, req.status == DONE, req.done_at >= start, req.done_at < end)
    requested = session.exec(select(func.count()).select_from(req)
                             .where(in_team, req.created_at >= start, req.created_at < end)).one()
    done, mean_turnaround = session.exec(
        select(func.count(), func.avg(req.turnaround_seconds)).where(finished)).one()
    stalled, still_stalled = session.exec(select(
        func.count(),
        func.coalesce(func.sum(case((or_(req.done_at.is_(None), req.done_at >= end), 1), else_=0)), 0),
    ).where(in_team, req.stalled_at >= start, req.stalled_at < end)).one()
    median = _median(session, select(req.turnaround_seconds.label("x"), literal("team").label("k")).where(finished))
    rating, ratings = _ratings(session, workspace_id, team_id, start, end, by_reviewer=False).get("team", (None, 0))
    reviewers = _reviewer_figures(session, workspace_id, team_id, start, end)
    return ReviewFigures(
        requested=requested, done=done, mean_turnaround_seconds=_float(mean_turnaround),
        median_turnaround_seconds=median.get("team"), mean_rating=rating, ratings=ratings, stalled=stalled,
        still_stalled=still_stalled, utilization=_team_utilization(session, workspace_id, team_id, start, end),
        reviewers=reviewers)


def _reviewer_figures(session: Session, workspace_id: str, team_id: int, start: datetime,
                      end: datetime) -> dict[str, ReviewerFigures]:
    a = ReviewAssignment
    done_in_period = and_(a.workspace_id == workspace_id, a.team_id == team_id, a.status == FINISHED,
                          a.done_at >= start, a.done_at < end)
    done = dict(session.exec(select(a.reviewer_id, func.count()).where(done_in_period).group_by(a.reviewer_id)).all())
    medians = _median(session, select(a.turnaround_seconds.label("x"), a.reviewer_id.label("k")).where(done_in_period))
    ratings = _ratings(session, workspace_id, team_id, start, end, by_reviewer=True)
    open_at_end = dict(session.exec(
        select(a.reviewer_id, func.count())
        .where(a.workspace_id == workspace_id, a.team_id == team_id, a.assigned_at < end,
               or_(a.ended_at.is_(None), a.ended_at >= end))
        .group_by(a.reviewer_id)).all())
    busy = _busy_seconds(session, workspace_id, team_id, start, end, by_reviewer=True)
    capacities = dict(session.exec(select(Reviewer.user_id, Reviewer.capacity)
                                   .where(Reviewer.workspace_id == workspace_id, Reviewer.team_id == team_id)).all())
    period = (end - start).total_seconds()
    figures = {}
    for reviewer_id in sorted(set(capacities) | set(done) | set(open_at_end)):
        capacity = capacities.get(reviewer_id)
        utilization = (busy.get(reviewer_id, 0.0) / (capacity * period)) if capacity and period > 0 else None
        rating, count = ratings.get(reviewer_id, (None, 0))
        figures[reviewer_id] = ReviewerFigures(
            reviewer_id=reviewer_id, done=done.get(reviewer_id, 0), median_turnaround_seconds=medians.get(reviewer_id),
            mean_rating=rating, ratings=count, open_now=open_at_end.get(reviewer_id, 0), utilization=utilization)
    return figures


def _ratings(session: Session, workspace_id: str, team_id: int, start: datetime, end: datetime, *,
             by_reviewer: bool) -> dict[str, tuple[float | None, int]]:
    """Mean rating and count of the reviews finished in the period, per reviewer or for the team."""
    a = ReviewAssignment
    query = (select(*_key(a, by_reviewer), func.avg(a.rating), func.count(a.rating))
             .where(a.workspace_id == workspace_id, a.team_id == team_id, a.status == FINISHED,
                    a.done_at >= start, a.done_at < end, a.rating.is_not(None)))
    if by_reviewer:
        query = query.group_by(a.reviewer_id)
    return {k: (_float(mean), count) for k, mean, count in session.execute(query) if count}


def _median(session: Session, values) -> dict[str, float]:
    """The median of `x` per `k` of a (x, k) select, with window functions (SQLite and PostgreSQL):
    the middle row, or the mean of the two middle rows."""
    rows = values.where(values.selected_columns.x.is_not(None)).subquery()
    ranked = select(
        rows.c.k, rows.c.x,
        func.row_number().over(partition_by=rows.c.k, order_by=rows.c.x).label("rn"),
        func.count().over(partition_by=rows.c.k).label("n"),
    ).subquery()
    middle = (select(ranked.c.k, func.avg(ranked.c.x))
              .where(ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2]))
              .group_by(ranked.c.k))
    return {k: float(x) for k, x in session.execute(middle)}


def _busy_seconds(session: Session, workspace_id: str, team_id: int, start: datetime, end: datetime, *,
                  by_reviewer: bool) -> dict[str, float]:
    """Seconds of open assignments inside [start, end), summed per reviewer (or for the team)."""
    a = ReviewAssignment
    begin_at = _greatest(a.assigned_at, literal(start, UTCDateTime))
    end_at = _least(func.coalesce(a.ended_at, literal(end, UTCDateTime)), literal(end, UTCDateTime))
    seconds = _epoch(end_at) - _epoch(begin_at)
    query = (select(*_key(a, by_reviewer), func.sum(seconds))
             .where(a.workspace_id == workspace_id, a.team_id == team_id, a.assigned_at < end,
                    or_(a.ended_at.is_(None), a.ended_at > start)))
    if by_reviewer:
        query = query.group_by(a.reviewer_id)
    return {k: float(total or 0) for k, total in session.execute(query)}


def _team_utilization(session: Session, workspace_id: str, team_id: int, start: datetime,
                      end: datetime) -> float | None:
    capacity = session.exec(select(func.sum(Reviewer.capacity))
                            .where(Reviewer.workspace_id == workspace_id, Reviewer.team_id == team_id)).one()
    period = (end - start).total_seconds()
    if not capacity or period <= 0:
        return None
    busy = _busy_seconds(session, workspace_id, team_id, start, end, by_reviewer=False).get("team", 0.0)
    return busy / (capacity * period)


def _key(assignment, by_reviewer: bool) -> list:
    """The grouping column: per reviewer, or one row for the team (a constant, never grouped by:
    PostgreSQL refuses GROUP BY a constant)."""
    return [assignment.reviewer_id.label("k") if by_reviewer else literal("team").label("k")]


def _float(value) -> float | None:
    return None if value is None else float(value)


# Seconds since the epoch, and the larger/smaller of two values, on SQLite and PostgreSQL alike.
class _epoch(FunctionElement):
    type = Float()
    inherit_cache = True


@compiles(_epoch)
def _epoch_default(element, compiler, **kw):
    return "EXTRACT(EPOCH FROM %s)" % compiler.process(element.clauses, **kw)


@compiles(_epoch, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    return "((julianday(%s) - 2440587.5) * 86400.0)" % compiler.process(element.clauses, **kw)


class _greatest(FunctionElement):
    inherit_cache = True


class _least(FunctionElement):
    inherit_cache = True


@compiles(_greatest)
def _greatest_default(element, compiler, **kw):
    return "GREATEST(%s)" % compiler.process(element.clauses, **kw)


@compiles(_greatest, "sqlite")
def _greatest_sqlite(element, compiler, **kw):
    return "MAX(%s)" % compiler.process(element.clauses, **kw)


@compiles(_least)
def _least_default(element, compiler, **kw):
    return "LEAST(%s)" % compiler.process(element.clauses, **kw)


@compiles(_least, "sqlite")
def _least_sqlite(element, compiler, **kw):
    return "MIN(%s)" % compiler.process(element.clauses, **kw)
