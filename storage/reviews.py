"""Review requests, their reviewer assignments, and the figures the digests and KPIs read.

A request (CR-007) has at most one active primary and one active secondary assignment. An
assignment ends as done, declined (then another reviewer gets a new assignment) or withdrawn.
Turnaround is stored in working seconds when a request or an assignment is done, so period
queries are plain SQL aggregates.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Iterable

from sqlalchemy import Index, Text, UniqueConstraint, update
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


# The period figures live in their own module; they are part of this one's public face.
from storage.reviews_figures import ReviewerFigures, ReviewFigures, review_figures  # noqa: E402,F401
