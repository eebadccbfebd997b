"""The digest's sections from the other domains — reviews, incidents, risks — as plain values.

Each is built from its domain's period query (storage.reviews_figures.review_figures,
storage.incidents.incident_figures, storage.risks.risk_figures) plus a few read-only lists, so
`/qms metrics`, App Home's "All figures" and the daily and weekly digests say the same thing.
A section is always there for a team; `active` says whether anything happened in it, so a team
that does not use a domain yet is not told to record data it has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from bot import teams
from bot.risks import BANDS, band_counts, band_of, bands_of, label
from storage import incidents as incident_store
from storage import reviews as review_store
from storage import reviews_figures
from storage import risks as risk_store
from storage.reviews import ReviewBucket
from storage.teams import Team

STALLED_SHOWN = 5  # stalled reviews named in a section; the rest are counted
OPEN_INCIDENTS_SHOWN = 5
RESOLVED_SHOWN = 10
TOP_RISKS = 5


# --- reviews ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StalledReview:
    """An open request past the team's review-time target."""

    key: str  # CR-007
    url: str
    specialization: str
    reviewers: list[str]  # who has it open now
    hours_open: float  # working hours since it was requested


@dataclass(frozen=True)
class ReviewSection:
    """A team's code reviews in a period (from storage.reviews_figures.review_figures)."""

    done: int
    mean_hours: float | None  # working hours from request to done
    median_hours: float | None
    quality: float | None  # mean rating, 1–10
    stalled: int  # open now and past the review-time target
    utilization: list[tuple[str, float]]  # (user_id, % of capacity), busiest first
    previous_mean_hours: float | None = None
    previous_quality: float | None = None
    requested: int = 0
    ratings: int = 0  # how many reviews the quality rests on
    went_stalled: int = 0  # went past the target during the period
    team_utilization: float | None = None  # %: the team's open reviews ÷ its capacity, over the period
    stalled_list: list[StalledReview] = field(default_factory=list)  # the longest-waiting first
    target_hours: float = 6.0

    @property
    def active(self) -> bool:
        return bool(self.requested or self.done or self.stalled or self.went_stalled)


def review_section(session: Session, team: Team, *, start: datetime, end: datetime, previous_start: datetime,
                   now: datetime, target_hours: float) -> ReviewSection:
    figures = reviews_figures.review_figures(session, team.workspace_id, team.id, start=start, end=end)
    previous = review_store.review_buckets(session, team.workspace_id, team.id, [previous_start, start])[0]
    utilization = sorted(((user, 100 * f.utilization) for user, f in figures.reviewers.items()
                          if f.utilization is not None), key=lambda pair: (-pair[1], pair[0]))
    stalled = stalled_reviews(session, team, now=now)
    return ReviewSection(
        done=figures.done, mean_hours=figures.mean_turnaround_hours, median_hours=figures.median_turnaround_hours,
        quality=figures.mean_rating, stalled=len(stalled), utilization=utilization,
        previous_mean_hours=previous.mean_turnaround_hours, previous_quality=previous.mean_rating,
        requested=figures.requested, ratings=figures.ratings, went_stalled=figures.stalled,
        team_utilization=None if figures.utilization is None else 100 * figures.utilization,
        stalled_list=stalled[:STALLED_SHOWN], target_hours=target_hours)


def stalled_reviews(session: Session, team: Team, *, now: datetime) -> list[StalledReview]:
    """The team's open requests past the review-time target (the reviews clock marks them), the
    longest-waiting first, with who has them open and their working hours so far."""
    requests = review_store.stalled_requests(session, team.workspace_id, team.id)
    assignments = review_store.assignments_of_requests(session, team.workspace_id, [r.id for r in requests])
    hours = teams.working_hours(team)
    found = [StalledReview(key=request.label, url=request.url, specialization=request.specialization,
                           reviewers=[a.reviewer_id for a in assignments[request.id] if a.is_active],
                           hours_open=hours.elapsed(request.created_at, max(now, request.created_at)).total_seconds()
                           / 3600)
             for request in requests]
    return sorted(found, key=lambda review: -review.hours_open)


def review_kpi_values(bucket: ReviewBucket) -> dict[str, tuple[float | None, int]]:
    """The reviews KPIs of one period as (value, how many things it rests on), like
    bot.metrics.kpi_values: the weekly chart's review panels."""
    return {"review_time_hours": (bucket.mean_turnaround_hours, bucket.timed),
            "review_quality": (bucket.mean_rating, bucket.ratings)}


# --- incidents ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IncidentLine:
    """An incident as a digest names it: open (age so far) or resolved (time to resolve)."""

    key: str  # INC-004
    title: str
    severity: str  # SEV1 … SEV4
    level: int  # 1–3, the escalation level it is at (or reached)
    hours: float  # open: wall-clock hours since declared; resolved: hours to resolve
    commander_id: str | None = None
    channel_id: str | None = None


@dataclass(frozen=True)
class IncidentSection:
    """A team's incidents: open now by escalation level, and declared and resolved in the period
    (from storage.incidents.incident_figures)."""

    open_by_level: dict[int, int]  # escalation level 1–3 → open incidents
    declared: int
    resolved: int
    mean_hours_to_resolve: float | None
    escalated: int = 0  # moves to Level 2 or 3 in the period
    open_list: list[IncidentLine] = field(default_factory=list)  # the highest level, then most severe, first
    resolved_list: list[IncidentLine] = field(default_factory=list)  # in the order they were resolved

    @property
    def open_total(self) -> int:
        return sum(self.open_by_level.values())

    @property
    def active(self) -> bool:
        return bool(self.open_total or self.declared or self.resolved)


def incident_section(session: Session, team: Team, *, start: datetime, end: datetime,
                     now: datetime) -> IncidentSection:
    figures = incident_store.incident_figures(session, team.workspace_id, team.id, start=start, end=end)
    mean = figures.mean_time_to_resolve
    open_now = sorted(incident_store.open_incidents(session, team.workspace_id, team.id),
                      key=lambda i: (-i.level, i.severity, i.declared_at, i.id))
    return IncidentSection(
        open_by_level=dict(figures.open_by_level), declared=figures.declared, resolved=len(figures.resolved),
        mean_hours_to_resolve=None if mean is None else mean.total_seconds() / 3600,
        escalated=sum(figures.escalations.values()),
        open_list=[IncidentLine(key=_incident_key(i.number), title=i.title, severity=i.severity, level=i.level,
                                hours=max((now - i.declared_at).total_seconds(), 0) / 3600,
                                commander_id=i.commander_id, channel_id=i.channel_id)
                   for i in open_now[:OPEN_INCIDENTS_SHOWN]],
        resolved_list=[IncidentLine(key=_incident_key(r.number), title=r.title, severity=r.severity, level=r.level,
                                    hours=r.time_to_resolve.total_seconds() / 3600)
                       for r in figures.resolved[:RESOLVED_SHOWN]])


def _incident_key(number: int) -> str:
    return f"INC-{number:03d}"


# --- risks --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RiskLine:
    key: str  # QR-001
    title: str
    score: int
    band: str  # low | medium | high | critical
    owner_id: str | None


@dataclass(frozen=True)
class RiskSection:
    """A team's risk register: opened and closed in the period, open now by band, and the top open
    risks by score (from storage.risks.risk_figures)."""

    opened: int
    closed: int
    top: list[RiskLine]
    open_total: int = 0
    by_band: dict[str, int] = field(default_factory=dict)  # open now, every band, low to critical

    @property
    def active(self) -> bool:
        return bool(self.opened or self.closed or self.open_total or self.top)


def risk_section(session: Session, team: Team, *, start: datetime, end: datetime) -> RiskSection:
    figures = risk_store.risk_figures(session, team.workspace_id, team.id, start=start, end=end, top=TOP_RISKS)
    bands = bands_of(team)
    counts = band_counts(risk_store.open_score_counts(session, team.workspace_id, team.id), bands)
    return RiskSection(
        opened=figures.opened, closed=figures.closed, open_total=figures.open_now,
        by_band={band: counts[band] for band in BANDS},
        top=[RiskLine(key=label(risk.number), title=risk.title, score=risk.score, band=band_of(risk.score, bands),
                      owner_id=risk.owner_id) for risk in figures.top_open])


# --- all three ----------------------------------------------------------------------------------------
def optional_sections(session: Session, team: Team, *, start: datetime, end: datetime, previous_start: datetime,
                      now: datetime | None = None) -> dict[str, object]:
    """The other domains' figures for [start, end) (compared with [previous_start, start)), as the
    Digest's `reviews`, `incidents` and `risks`. What is open is as of `now` (default: `end`)."""
    now = end if now is None else now
    target_hours = float(teams.target_values(session, team)["review_time_hours"])
    return {
        "reviews": review_section(session, team, start=start, end=end, previous_start=previous_start, now=now,
                                  target_hours=target_hours),
        "incidents": incident_section(session, team, start=start, end=end, now=now),
        "risks": risk_section(session, team, start=start, end=end),
    }
