"""Review figures for a period, computed in SQL: what the digests, the KPI "review time < 6 h" and
`/qms review stats` read. Turnaround is in working seconds of the team's hours, stored when a
review is done (bot.reviews); utilization is wall-clock time open ÷ capacity over the period.

Import from storage.reviews: `review_figures`, `ReviewFigures`, `ReviewerFigures`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, literal, or_
from sqlmodel import Session, func, select

from storage.sql import epoch_seconds, greatest, least
from storage.reviews import DONE, FINISHED, ReviewAssignment, ReviewRequest
from storage.teams import Reviewer
from storage.types import UTCDateTime


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
    of the team's hours (see bot/teams/workhours.py); `*_hours` properties convert."""
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
    query = (select(*_key(a, by_reviewer), func.sum(open_seconds_within(start, end)))
             .where(a.workspace_id == workspace_id, a.team_id == team_id, a.assigned_at < end,
                    or_(a.ended_at.is_(None), a.ended_at > start)))
    if by_reviewer:
        query = query.group_by(a.reviewer_id)
    return {k: float(total or 0) for k, total in session.execute(query)}


def open_seconds_within(start: datetime, end: datetime):
    """SQL: the seconds an assignment was open inside [start, end) (negative when it lies outside:
    callers select or weigh only the overlapping ones)."""
    a = ReviewAssignment
    begin_at = greatest(a.assigned_at, literal(start, UTCDateTime))
    end_at = least(func.coalesce(a.ended_at, literal(end, UTCDateTime)), literal(end, UTCDateTime))
    return epoch_seconds(end_at) - epoch_seconds(begin_at)


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
