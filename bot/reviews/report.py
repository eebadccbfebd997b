"""What `/qms review list` and `/qms review stats` show, as plain values for the templates.

Two measures of how busy reviewers are, never to be confused:
- **load now**: open reviews ÷ capacity at this moment (what the assignment rule sees);
- **utilization over the period**: that load averaged over the last 30 days, weighted by wall-clock
  time (storage.reviews_figures), the guide's "Reviewer Utilization: 78 % (Target: 70-85 %)".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from bot import teams
from storage import reviews as store
from storage import reviews_figures as figures_store
from storage import teams as team_store
from storage.reviews import ReviewAssignment, ReviewRequest
from storage.teams import Team

STATS_DAYS = 30
UTILIZATION_TARGET = (0.70, 0.85)  # the guide's "Reviewer Utilization: 78 % (Target: 70-85 %)"


@dataclass
class ListItem:
    request: ReviewRequest
    assignments: list[ReviewAssignment]
    working_hours_open: float  # since the request (or, for "assigned to me", since the assignment)
    mine: ReviewAssignment | None = None  # the reader's own assignment, for "assigned to me"


@dataclass
class ReviewList:
    assigned: list[ListItem]
    requested: list[ListItem]
    stalled: list[ListItem]
    team: Team | None  # the team of the channel, whose stalled requests are listed


def review_list(session: Session, workspace_id: str, user_id: str, team: Team | None, *,
                now: datetime) -> ReviewList:
    mine = store.active_assignments_of(session, workspace_id, user_id)
    authored = store.requests_by_author(session, workspace_id, user_id)
    stalled = store.stalled_requests(session, workspace_id, team.id) if team else []
    requests = {r.id: r for r in authored + stalled}
    for assignment in mine:
        if assignment.request_id not in requests:
            requests[assignment.request_id] = store.get_request(session, workspace_id, assignment.request_id)
    everyone = store.assignments_of_requests(session, workspace_id, requests)
    hours = _hours_by_team(session, workspace_id, {r.team_id for r in requests.values()})

    def item(request: ReviewRequest, assignment: ReviewAssignment | None = None) -> ListItem:
        since = assignment.assigned_at if assignment else request.created_at
        waited = hours[request.team_id].elapsed(since, now).total_seconds() / 3600
        return ListItem(request=request, assignments=everyone[request.id], working_hours_open=waited, mine=assignment)

    return ReviewList(assigned=[item(requests[a.request_id], a) for a in mine],
                      requested=[item(r) for r in authored], stalled=[item(r) for r in stalled], team=team)


def _hours_by_team(session: Session, workspace_id: str, team_ids: set[int]) -> dict:
    return {team_id: teams.working_hours(team_store.get_team(session, workspace_id, team_id)) for team_id in team_ids}


@dataclass
class MatrixRow:
    """One reviewer in `/qms review stats`: the guide's coordination matrix with live figures."""

    user_id: str
    tier: str
    specializations: list[str]
    capacity: int
    open_reviews: int  # now, across the workspace: the load the assignment rule sees
    done: int  # reviews finished in the window
    median_turnaround_hours: float | None
    quality: float | None
    away: bool = False
    name: str = ""  # filled in by the handler (a Slack handle), for the table
    utilization: float | None = None  # over the window: open ÷ capacity, time-weighted, in this team

    @property
    def load(self) -> float:
        """Now: open reviews ÷ capacity."""
        return self.open_reviews / self.capacity if self.capacity else 0.0


@dataclass
class ReviewStats:
    team: Team
    start: datetime
    end: datetime
    figures: figures_store.ReviewFigures
    rows: list[MatrixRow] = field(default_factory=list)
    target_hours: float = 6.0
    quality_target: float = 8.0
    utilization_target: tuple[float, float] = UTILIZATION_TARGET

    @property
    def days(self) -> int:
        return round((self.end - self.start).total_seconds() / 86400)

    @property
    def open_now(self) -> int:
        return sum(row.open_reviews for row in self.rows)

    @property
    def capacity(self) -> int:
        return sum(row.capacity for row in self.rows)

    @property
    def load(self) -> float | None:
        """The team's load now: its reviewers' open reviews ÷ their capacity."""
        return self.open_now / self.capacity if self.capacity else None


def review_stats(session: Session, team: Team, *, now: datetime, days: int = STATS_DAYS) -> ReviewStats:
    start = now - timedelta(days=days)
    figures = figures_store.review_figures(session, team.workspace_id, team.id, start=start, end=now)
    matrix = team_store.reviewers(session, team)
    counts = store.open_counts(session, team.workspace_id, [r.user_id for r in matrix])
    today = teams.local_today(team, now)
    rows = []
    for reviewer in matrix:
        own = figures.reviewers.get(reviewer.user_id) or figures_store.ReviewerFigures(reviewer_id=reviewer.user_id)
        median = own.median_turnaround_seconds
        rows.append(MatrixRow(
            user_id=reviewer.user_id, tier=reviewer.tier, specializations=list(reviewer.specializations),
            capacity=reviewer.capacity, open_reviews=counts.get(reviewer.user_id, 0), done=own.done,
            median_turnaround_hours=None if median is None else median / 3600, quality=own.mean_rating,
            away=teams.is_away(reviewer, today), utilization=own.utilization))
    rows.sort(key=lambda row: (_TIER_ORDER.get(row.tier, 9), row.user_id))
    targets = teams.target_values(session, team)
    return ReviewStats(team=team, start=start, end=now, figures=figures, rows=rows,
                       target_hours=float(targets["review_time_hours"]),
                       quality_target=float(targets["review_quality"]))


_TIER_ORDER = {"gold": 0, "silver": 1, "bronze": 2}
