"""Review requests, their reviewer assignments, and the figures the digests and KPIs read.

A request (CR-007) has at most one active primary and one active secondary assignment. An
assignment ends as done, declined or reassigned (then another reviewer gets a new assignment), or
withdrawn.
Turnaround is stored in working seconds when a request or an assignment is done, so period
queries are plain SQL aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Sequence

from sqlalchemy import Index, Text, UniqueConstraint, case, update
from sqlmodel import Field, Session, SQLModel, func, select

from storage.teams import Reviewer
from storage.types import UTCDateTime

# A request's status.
WAITING = "waiting"  # no primary reviewer could be assigned yet; the clock keeps trying
OPEN = "open"  # reviewers assigned, not every one of them done
DONE = "done"
WITHDRAWN = "withdrawn"
MERGED = "merged"  # its pull request was merged before any review of it was done
ACTIVE_REQUEST = (WAITING, OPEN)

# An assignment's status.
ASSIGNED = "assigned"  # waiting for Accept
ACCEPTED = "accepted"
FINISHED = "done"
DECLINED = "declined"
CANCELLED = "withdrawn"  # the request was withdrawn while this assignment was open
REASSIGNED = "reassigned"  # the reviewer left the team's matrix; the role went on to the next
REMOVED = "removed"  # taken off the pull request on GitHub or GitLab
CLOSED = "closed"  # its pull request was merged or closed while this review was open
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
        # covering: the dashboard's weekly review time of every team (storage.reviews.review_buckets_by_team)
        Index("ix_review_request_team_done", "workspace_id", "team_id", "done_at", "status", "turnaround_seconds"),
        Index("ix_review_request_author", "workspace_id", "author_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE")
    number: int  # CR-007 is number 7 of its workspace
    author_id: str = Field(max_length=64)  # a Slack user ID; "github:login" for a pull request's unlinked author
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
    paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # no reminders: its pull request is a draft
    merged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # when its pull request was merged
    changes_requested_by: str | None = Field(default=None, max_length=64)  # the latest review asking for changes
    changes_requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

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
        Index("ix_review_assignment_team_done", "workspace_id", "team_id", "done_at", "status", "rating"),  # covering
        # reviewer utilization over a period (covering): the reviews assigned in it, and those still open at its start
        Index("ix_review_assignment_team_assigned", "workspace_id", "team_id", "assigned_at", "ended_at",
              "reviewer_id"),
        Index("ix_review_assignment_team_ended", "workspace_id", "team_id", "ended_at", "assigned_at", "reviewer_id"),
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
    requested_on: str | None = Field(default=None, max_length=16)  # github | gitlab: named there, not by the matrix

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


def _active_where(workspace_id: str, *conditions):
    """Active (waiting or open) requests of a workspace, oldest first."""
    return (select(ReviewRequest)
            .where(ReviewRequest.workspace_id == workspace_id, ReviewRequest.status.in_(ACTIVE_REQUEST),
                   *conditions)
            .order_by(ReviewRequest.created_at, ReviewRequest.id))


def active_requests(session: Session, workspace_id: str, team_id: int) -> list[ReviewRequest]:
    return list(session.exec(_active_where(workspace_id, ReviewRequest.team_id == team_id)))


def requests_by_author(session: Session, workspace_id: str, author_id: str) -> list[ReviewRequest]:
    return list(session.exec(_active_where(workspace_id, ReviewRequest.author_id == author_id)))


def stalled_requests(session: Session, workspace_id: str, team_id: int) -> list[ReviewRequest]:
    stalled = (ReviewRequest.team_id == team_id, ReviewRequest.stalled_at.is_not(None))
    return list(session.exec(_active_where(workspace_id, *stalled)))


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


def active_assignments_in_team(session: Session, workspace_id: str, team_id: int,
                               reviewer_id: str) -> list[ReviewAssignment]:
    """A reviewer's open reviews of one team's requests, oldest first."""
    query = (select(ReviewAssignment)
             .where(ReviewAssignment.workspace_id == workspace_id, ReviewAssignment.team_id == team_id,
                    ReviewAssignment.reviewer_id == reviewer_id, ReviewAssignment.status.in_(ACTIVE_ASSIGNMENT))
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


# --- read-only views for the digests and App Home ------------------------------------------------
@dataclass(frozen=True)
class ReviewBucket:
    """A team's reviews finished in one period [start, end): the weekly chart's review panels."""

    start: datetime
    end: datetime
    done: int = 0  # requests finished
    turnaround_seconds_total: float = 0.0  # working seconds, over the finished requests that have one
    timed: int = 0
    rating_total: float = 0.0  # over the reviews (assignments) finished in the period and rated
    ratings: int = 0

    @property
    def mean_turnaround_hours(self) -> float | None:
        return self.turnaround_seconds_total / self.timed / 3600 if self.timed else None

    @property
    def mean_rating(self) -> float | None:
        return self.rating_total / self.ratings if self.ratings else None


def review_buckets(session: Session, workspace_id: str, team_id: int,
                   bounds: Sequence[datetime]) -> list[ReviewBucket]:
    """The team's finished reviews in each period between consecutive `bounds` (ascending): two
    grouped queries, whatever the number of periods. The same figures as `review_figures`' mean
    turnaround and mean rating, period by period."""
    return review_buckets_by_team(session, workspace_id, [team_id], bounds)[team_id]


def review_buckets_by_team(session: Session, workspace_id: str, team_ids: Sequence[int],
                           bounds: Sequence[datetime]) -> dict[int, list[ReviewBucket]]:
    """`review_buckets` of several teams sharing the same `bounds`, in the same two queries (grouped by
    team too)."""
    periods = list(zip(bounds, bounds[1:]))
    if not periods or not team_ids:
        return {team_id: [] for team_id in team_ids}
    req, a = ReviewRequest, ReviewAssignment
    teams = list(team_ids)
    # The bucket is computed in a subquery and grouped outside it: PostgreSQL would not match a
    # GROUP BY CASE with its own bound parameters against the same CASE in the SELECT.
    finished = (select(req.team_id, _bucket_of(req.done_at, bounds).label("bucket"),
                       req.turnaround_seconds.label("seconds"))
                .where(req.workspace_id == workspace_id, req.team_id.in_(teams), req.status == DONE,
                       req.done_at >= bounds[0], req.done_at < bounds[-1])
                .subquery())
    requests = session.execute(
        select(finished.c.team_id, finished.c.bucket, func.count(), func.sum(finished.c.seconds),
               func.count(finished.c.seconds))
        .group_by(finished.c.team_id, finished.c.bucket)).all()
    rated = (select(a.team_id, _bucket_of(a.done_at, bounds).label("bucket"), a.rating.label("rating"))
             .where(a.workspace_id == workspace_id, a.team_id.in_(teams), a.status == FINISHED,
                    a.done_at >= bounds[0], a.done_at < bounds[-1], a.rating.is_not(None))
             .subquery())
    ratings = session.execute(
        select(rated.c.team_id, rated.c.bucket, func.sum(rated.c.rating), func.count(rated.c.rating))
        .group_by(rated.c.team_id, rated.c.bucket)).all()
    found = {(team_id, index): {} for team_id in teams for index in range(len(periods))}
    for team_id, index, done, seconds, timed in requests:
        found[team_id, index].update(done=done, turnaround_seconds_total=float(seconds or 0), timed=timed)
    for team_id, index, total, count in ratings:
        found[team_id, index].update(rating_total=float(total or 0), ratings=count)
    return {team_id: [ReviewBucket(start, end, **found[team_id, index]) for index, (start, end) in enumerate(periods)]
            for team_id in teams}


def _bucket_of(column, bounds: Sequence[datetime]):
    """0 for [t0, t1), 1 for [t1, t2), …: a CASE the database evaluates per row."""
    return case(*[(column < bound, index) for index, bound in enumerate(bounds[1:])], else_=None)


def open_reviews_of(session: Session, workspace_id: str, reviewer_id: str, *,
                    limit: int) -> tuple[list[tuple[ReviewAssignment, ReviewRequest]], int]:
    """A reviewer's open reviews (assigned or accepted), each with its request, oldest first: the
    first `limit` of them, and how many there are."""
    a, req = ReviewAssignment, ReviewRequest
    mine = (a.workspace_id == workspace_id, a.reviewer_id == reviewer_id, a.status.in_(ACTIVE_ASSIGNMENT))
    total = session.exec(select(func.count()).select_from(a).where(*mine)).one()
    rows = session.exec(select(a, req).join(req, req.id == a.request_id)
                        .where(*mine, req.workspace_id == workspace_id)
                        .order_by(a.assigned_at, a.id).limit(limit)).all()
    return [(assignment, request) for assignment, request in rows], total


def open_requests_of(session: Session, workspace_id: str, author_id: str, *,
                     limit: int) -> tuple[list[ReviewRequest], int]:
    """A person's own requests still waiting or open, oldest first: the first `limit`, and how many."""
    req = ReviewRequest
    theirs = (req.workspace_id == workspace_id, req.author_id == author_id, req.status.in_(ACTIVE_REQUEST))
    total = session.exec(select(func.count()).select_from(req).where(*theirs)).one()
    rows = session.exec(select(req).where(*theirs).order_by(req.created_at, req.id).limit(limit))
    return list(rows), total
