"""What the dashboard's pages show, as plain values: read models over every domain.

The overview: each team the viewer may see, with the guide's three panels (section 7.2: high-level
quality metrics, process performance, team performance): each KPI's value this week, its target,
met or missed, and its last 8 weeks. KPIs the bot records nothing for (customer satisfaction, training
completion) are listed as not tracked, never given a number. The team page adds open risks (and the
heat map), open incidents by level and age, reviews by stage with the reviewer matrix and utilization,
gate pass rates and DoR/DoD results.

Reviewer utilization is the guide's "78 % (Target: 70-85 %)" as the weekly digest and `/qms review stats`
count it: open reviews ÷ capacity averaged over the period, weighted by wall-clock time (this week up to
now, and each of the 8 weeks before), not the load of this instant.

The overview counts every team at once: each figure is one grouped query (by team and week) for all the
teams the viewer sees, so 20 teams cost about what one does (`summaries`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import metrics, teams
from bot.digests.sections import review_kpi_values
from bot.risks import bands_of, heatmap
from storage import dashboard as store
from storage import incidents as incident_store
from storage import metrics as metric_store
from storage import reviews as review_store
from storage import risks as risk_store
from storage.teams import Team

WEEKS = 8
# The guide's dashboard panels (section 7.2) and the KPIs in each. None: the bot records nothing for it.
PANELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("quality", ("defect_escape_rate", "coverage", "unit_tests", "integration_tests", "security_scans",
                 "performance_tests", "customer_satisfaction")),
    ("process", ("dor_pass_rate", "dor_validation_minutes", "dod_success", "review_time_hours", "cycle_time_hours")),
    ("team", ("review_quality", "reviewer_utilization", "training_completion")),
)
UNTRACKED = ("customer_satisfaction", "training_completion")
UTILIZATION_TARGET = (70, 85)


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    unit: str
    value: float | None
    target_text: str | None
    met: bool | None
    trend: list[float | None]  # oldest first
    tracked: bool = True


@dataclass
class Panel:
    key: str
    kpis: list[Kpi]


@dataclass
class TeamSummary:
    team: Team
    panels: list[Panel]
    week_start: date
    missed: int
    open_risks: int
    open_incidents: int
    report: metrics.Report | None = None  # this week's figures, against the week before
    utilization: Utilization | None = None


def _bounds(team: Team, now: datetime) -> list[datetime]:
    """The last WEEKS weeks, the current (unfinished) one last: each from the Monday of the team's
    local week, counted in whole UTC days (midnight UTC), so that gate figures come from the daily
    totals (storage/gate_days.py). A week here may start a few hours apart from the digest's."""
    local = now.astimezone(ZoneInfo(team.timezone)).date()
    monday = local - timedelta(days=local.weekday())
    return [datetime.combine(monday - timedelta(weeks=WEEKS - 1 - n), time(0), tzinfo=UTC) for n in range(WEEKS + 1)]


def summary(session: Session, team: Team, *, now: datetime) -> TeamSummary:
    """The team's KPIs this week against its targets, with their last 8 weeks (see `summaries`)."""
    return summaries(session, [team], now=now)[0]


def summaries(session: Session, shown: list[Team], *, now: datetime) -> list[TeamSummary]:
    """Each team's KPIs this week against its targets, with their last 8 weeks: the same dozen grouped
    queries whatever the number of teams (period aggregates grouped by team and week: storage.metrics,
    storage.reviews, the gate days), so the overview of 20 teams costs little more than one team's."""
    groups: dict[tuple, list[Team]] = {}  # teams whose weeks start at the same instants, in one workspace
    for team in shown:
        groups.setdefault((team.workspace_id, *_bounds(team, now)), []).append(team)
    found: dict[int, TeamSummary] = {}
    for (_, *bounds), group in groups.items():
        found |= _summaries(session, group, bounds, now=now)
    return [found[team.id] for team in shown]


def _summaries(session: Session, group: list[Team], bounds: list[datetime], *,
               now: datetime) -> dict[int, TeamSummary]:
    if not group:
        return {}
    workspace_id, ids = group[0].workspace_id, [team.id for team in group]
    weeks = metric_store.buckets_by_team(session, workspace_id, ids, bounds, gates=False)
    gates = store.gate_weeks_by_team(session, workspace_id, ids, [b.date() for b in bounds])
    review_weeks = review_store.review_buckets_by_team(session, workspace_id, ids, bounds)
    targets = teams.target_values_by_team(session, group)
    reasons = metric_store.rejection_reasons_by_team(session, workspace_id, ids, start=bounds[-2], end=bounds[-1])
    usage = utilization_weeks(session, group, bounds, now=now)
    risks = store.open_risk_counts(session, workspace_id, ids)
    incidents = store.open_incident_counts(session, workspace_id, ids)
    found = {}
    for team in group:
        for week, gate_counts in zip(weeks[team.id], gates[team.id]):
            week.gates = gate_counts
        weekly = [metrics.kpi_values(week) | review_kpi_values(review)
                  for week, review in zip(weeks[team.id], review_weeks[team.id])]
        this, before = weekly[-1], weekly[-2]
        extra = {key: (this[key][0], before[key][0], this[key][1]) for key in ("review_time_hours", "review_quality")}
        report = metrics.report(session, team, bounds, buckets=weeks[team.id], extra_values=extra,
                                targets=targets[team.id],
                                reasons={kind: reasons[team.id, kind] for kind in (metric_store.DOR, metric_store.DOD)})
        by_key = metrics.figures_by_key(report.figures)
        trend_of_usage = usage[team.id].team
        utilization = trend_of_usage[-1]
        usage_met = None if utilization is None else UTILIZATION_TARGET[0] <= utilization <= UTILIZATION_TARGET[1]
        panels = []
        for name, keys in PANELS:
            kpis = []
            for key in keys:
                if key in UNTRACKED:
                    kpis.append(Kpi(key, key, "", None, None, None, [], tracked=False))
                elif key == "reviewer_utilization":
                    kpis.append(Kpi(key, "Reviewer utilization", "%", utilization, "70–85 %", usage_met,
                                    trend_of_usage))
                elif key in by_key:
                    figure = by_key[key]
                    trend = [week[key][0] if key in week else None for week in weekly]
                    kpis.append(Kpi(key, figure.kpi.label, figure.kpi.unit, figure.value,
                                    figure.kpi.shown(figure.target), figure.met, trend))
            panels.append(Panel(name, kpis))
        found[team.id] = TeamSummary(
            team=team, panels=panels, week_start=bounds[-2].astimezone(ZoneInfo(team.timezone)).date(),
            missed=len(report.missed) + (usage_met is False), open_risks=risks[team.id],
            open_incidents=incidents[team.id], report=report, utilization=usage[team.id])
    return found


@dataclass(frozen=True)
class Utilization:
    """Reviewer utilization as the guide means it (78 %, target 70–85 %): each reviewer's open reviews ÷
    their capacity, averaged over the period weighted by wall-clock time (as the weekly digest and
    `/qms review stats` count it, storage/reviews_figures.py), in %. Week by week, oldest first; the
    current week up to now."""

    team: list[float | None]  # the team's open reviews ÷ its reviewers' capacity
    reviewers: dict[str, float | None]  # this week, per reviewer


def utilization_weeks(session: Session, group: list[Team], bounds: list[datetime], *,
                      now: datetime) -> dict[int, Utilization]:
    """Each team's reviewer utilization in each week of `bounds` (the last one up to `now`): one query for
    every team and week, over the reviewers in the matrix now and their capacity now."""
    periods = [(start, min(end, now)) for start, end in zip(bounds, bounds[1:])]
    workspace_id, ids = group[0].workspace_id, [team.id for team in group]
    busy = store.busy_seconds(session, workspace_id, ids, periods)
    capacities = store.capacities(session, workspace_id, ids)
    seconds = [max((end - start).total_seconds(), 0) for start, end in periods]
    found = {}
    for team_id in ids:
        capacity = capacities[team_id]
        total = sum(capacity.values())
        # Every review of the team counts, as the digest counts it (a reviewer since removed from the matrix
        # too); the capacity is the matrix's now.
        team_busy = [sum(totals[i] for (team, _), totals in busy.items() if team == team_id)
                     for i in range(len(periods))]
        found[team_id] = Utilization(
            team=[100 * team_busy[i] / (total * seconds[i]) if total and seconds[i] else None
                  for i in range(len(periods))],
            reviewers={user: (100 * busy.get((team_id, user), [0.0] * len(periods))[-1] / (cap * seconds[-1])
                              if cap and seconds[-1] else None) for user, cap in capacity.items()})
    return found


@dataclass(frozen=True)
class IncidentRow:
    key: str
    title: str
    severity: str
    level: int
    hours_open: float


@dataclass(frozen=True)
class GateRow:
    gate: str
    runs: int
    passed: int
    rate: float | None
    target_text: str | None
    met: bool | None


@dataclass(frozen=True)
class MatrixRow:
    user_id: str
    tier: str
    specializations: list[str]
    capacity: int
    open_reviews: int  # now
    away: bool
    utilization: float | None  # this week so far: open reviews ÷ capacity, averaged (see Utilization)


@dataclass
class TeamPage:
    summary: TeamSummary
    heat: heatmap.Grid
    incidents_by_level: dict[int, list[IncidentRow]]
    review_stages: dict[str, int]
    matrix: list[MatrixRow]
    gates: list[GateRow]
    checks: dict[str, tuple[int, int]]  # dor/dod → (checks, passed) this week
    reasons: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


def team_page(session: Session, team: Team, *, now: datetime) -> TeamPage:
    top = summary(session, team, now=now)
    report = top.report
    open_risks = risk_store.open_risks(session, team.workspace_id, team.id)
    by_level: dict[int, list[IncidentRow]] = {3: [], 2: [], 1: []}
    for incident in incident_store.open_incidents(session, team.workspace_id, team.id):
        by_level.setdefault(incident.level, []).append(IncidentRow(
            f"INC-{incident.number:03d}", incident.title, incident.severity, incident.level,
            max((now - incident.declared_at).total_seconds(), 0) / 3600))
    return TeamPage(
        summary=top, heat=heatmap.grid(open_risks, bands_of(team)), incidents_by_level=by_level,
        review_stages=_review_stages(session, team), matrix=_matrix(session, team, top.utilization, now=now),
        gates=[GateRow(g.gate, g.runs, g.passed, g.rate, g.kpi.shown(g.target) if g.kpi and g.target else None,
                       g.met) for g in report.gates],
        checks={"dor": (report.counts["dor_checks"], _passed(report, "dor_pass_rate")),
                "dod": (report.counts["dod_checks"], _passed(report, "dod_success"))},
        reasons={"dor": [(r.reason, r.count) for r in report.dor_reasons],
                 "dod": [(r.reason, r.count) for r in report.dod_reasons]})


def _passed(report: metrics.Report, key: str) -> int:
    figure = report.figure(key)
    return round(figure.value * figure.samples / 100) if figure and figure.value is not None else 0


def _review_stages(session: Session, team: Team) -> dict[str, int]:
    """Review requests by status (open, done, …), counted in the database."""
    return store.review_stages(session, team.workspace_id, team.id)


def _matrix(session: Session, team: Team, usage: Utilization | None, *, now: datetime) -> list[MatrixRow]:
    today = now.astimezone(ZoneInfo(team.timezone)).date()
    found = teams.matrix(session, team, today=today)
    load = store.open_assignments(session, team.workspace_id, team.id)
    return [MatrixRow(row.user_id, row.tier, row.specializations, row.capacity, load.get(row.user_id, 0), row.away,
                      usage.reviewers.get(row.user_id) if usage else None)
            for row in found.rows]
