"""The web dashboard's sign-in: single-use links and the sessions they open.

Only SHA-256 hashes of link tokens and session ids are stored: a copy of the database does not
let anyone sign in. A link is used once (`used_at` set by a compare-and-set); a session lasts
`expires_at` and names the workspace and the person it belongs to.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, String, and_, case, cast, delete, or_, union, update
from sqlmodel import Field, Session, SQLModel, func, select

from storage.audit import AuditEvent
from storage.incidents import OPEN as INCIDENT_OPEN
from storage.incidents import Incident, IncidentEvent
from storage.gate_days import GateDay
from storage.metrics import ApiToken, GateCounts, GateResult, ItemCheck
from storage.reviews import ACTIVE_ASSIGNMENT, ReviewAssignment, ReviewRequest
from storage.reviews_figures import open_seconds_within
from storage.risks import OPEN as RISK_OPEN
from storage.risks import Risk
from storage.pull_requests import WebhookConnection
from storage.teams import Reviewer, TeamRole
from storage.types import UTCDateTime


class DashboardLink(SQLModel, table=True):
    __tablename__ = "dashboard_link"

    token_hash: str = Field(max_length=64, primary_key=True)
    workspace_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    sees_all: bool = False  # a workspace admin when the link was made: every team is theirs to see
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DashboardSession(SQLModel, table=True):
    __tablename__ = "dashboard_session"
    __table_args__ = (Index("ix_dashboard_session_expiry", "expires_at"),)

    id_hash: str = Field(max_length=64, primary_key=True)
    workspace_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    sees_all: bool = False
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


def add_link(session: Session, link: DashboardLink) -> None:
    session.add(link)


def use_link(session: Session, token_hash: str, *, now: datetime) -> DashboardLink | None:
    """The link, marked used, if it exists, is unused and has not expired; else None. One of two
    racing uses wins (compare-and-set on used_at)."""
    table = DashboardLink.__table__
    result = session.execute(update(table)
                             .where(table.c.token_hash == token_hash, table.c.used_at.is_(None),
                                    table.c.expires_at > now)
                             .values(used_at=now))
    if result.rowcount != 1:
        return None
    return session.get(DashboardLink, token_hash)


def add_session(session: Session, row: DashboardSession) -> None:
    session.add(row)


def live_session(session: Session, id_hash: str, *, now: datetime) -> DashboardSession | None:
    query = select(DashboardSession).where(DashboardSession.id_hash == id_hash, DashboardSession.expires_at > now)
    return session.exec(query).first()


def end_session(session: Session, id_hash: str) -> None:
    session.exec(delete(DashboardSession).where(DashboardSession.id_hash == id_hash))


def forget_expired(session: Session, *, now: datetime) -> None:
    session.exec(delete(DashboardSession).where(DashboardSession.expires_at <= now))
    session.exec(delete(DashboardLink).where(DashboardLink.expires_at <= now))


# --- the dashboard's counts from other domains' tables ---------------------------------------------
def review_stages(session: Session, workspace_id: str, team_id: int) -> dict[str, int]:
    """The team's review requests by status, counted in the database."""
    query = (select(ReviewRequest.status, func.count())
             .where(ReviewRequest.workspace_id == workspace_id, ReviewRequest.team_id == team_id)
             .group_by(ReviewRequest.status))
    return {status: count for status, count in session.exec(query)}


def open_incident_counts(session: Session, workspace_id: str, team_ids: list[int]) -> dict[int, int]:
    """Each team's open incidents, in one query."""
    query = (select(Incident.team_id, func.count())
             .where(Incident.workspace_id == workspace_id, Incident.team_id.in_(team_ids),
                    Incident.status == INCIDENT_OPEN)
             .group_by(Incident.team_id))
    return {team_id: 0 for team_id in team_ids} | dict(session.exec(query).all())


def open_risk_counts(session: Session, workspace_id: str, team_ids: list[int]) -> dict[int, int]:
    """Each team's open risks, in one query."""
    query = (select(Risk.team_id, func.count())
             .where(Risk.workspace_id == workspace_id, Risk.team_id.in_(team_ids), Risk.status == RISK_OPEN)
             .group_by(Risk.team_id))
    return {team_id: 0 for team_id in team_ids} | dict(session.exec(query).all())


def capacities(session: Session, workspace_id: str, team_ids: list[int]) -> dict[int, dict[str, int]]:
    """Each team's reviewers and their capacity (open reviews at once)."""
    found: dict[int, dict[str, int]] = {team_id: {} for team_id in team_ids}
    query = select(Reviewer.team_id, Reviewer.user_id, Reviewer.capacity).where(
        Reviewer.workspace_id == workspace_id, Reviewer.team_id.in_(team_ids))
    for team_id, user_id, capacity in session.exec(query):
        found[team_id][user_id] = capacity
    return found


def busy_seconds(session: Session, workspace_id: str, team_ids: list[int],
                 periods: list[tuple[datetime, datetime]]) -> dict[tuple[int, str], list[float]]:
    """Wall-clock seconds each reviewer had each review open inside each period, summed: (team_id,
    reviewer_id) → one total per period. One query for every team and period (a sum per period of the
    overlap of [assigned_at, ended_at or the period's end) with it): the time-weighted load that
    reviewer utilization averages, as storage/reviews_figures.py counts it for the digests."""
    if not periods or not team_ids:
        return {}
    a = ReviewAssignment
    sums = []
    for start, end in periods:
        sums.append(func.sum(case((and_(a.assigned_at < end, or_(a.ended_at.is_(None), a.ended_at > start)),
                                   open_seconds_within(start, end)), else_=0.0)))
    first, last = min(s for s, _ in periods), max(e for _, e in periods)
    # Three disjoint sets, each found by an index: the reviews assigned in the periods
    # (ix_review_assignment_team_assigned), and those assigned before them that ended after their start
    # or are still open (ix_review_assignment_team_ended), rather than every review ever assigned.
    in_team = (a.workspace_id == workspace_id, a.team_id.in_(team_ids))
    found: dict[tuple[int, str], list[float]] = {}
    for where in ((a.assigned_at >= first, a.assigned_at < last), (a.assigned_at < first, a.ended_at > first),
                  (a.assigned_at < first, a.ended_at.is_(None))):
        query = select(a.team_id, a.reviewer_id, *sums).where(*in_team, *where).group_by(a.team_id, a.reviewer_id)
        for team_id, reviewer_id, *totals in session.execute(query):
            before = found.setdefault((team_id, reviewer_id), [0.0] * len(periods))
            found[team_id, reviewer_id] = [x + float(y or 0) for x, y in zip(before, totals)]
    return found


def open_assignments(session: Session, workspace_id: str, team_id: int) -> dict[str, int]:
    """Each reviewer's active (assigned or accepted) reviews in the team."""
    query = (select(ReviewAssignment.reviewer_id, func.count())
             .where(ReviewAssignment.workspace_id == workspace_id, ReviewAssignment.team_id == team_id,
                    ReviewAssignment.status.in_(ACTIVE_ASSIGNMENT))
             .group_by(ReviewAssignment.reviewer_id))
    return {user: count for user, count in session.exec(query)}


# --- the audit log, by team, domain, person and period -----------------------------------------------
# Which domain each kind of audited thing belongs to.
DOMAIN_TYPES = {"teams": ("team", "reviewer"), "risks": ("risk",), "reviews": ("review",),
                "incidents": ("incident",), "metrics": ("item_check", "gates", "defects", "api_token"),
                "pull_requests": ("webhook", "login_link")}
# Webhook events name the team (a repository added or removed) or the team's connection (connected, rotated).
WEBHOOK_BY_TEAM = ("repository_added", "repository_removed")


def _of_teams(team_ids: list[int]):
    """An audit event about something of these teams: the team itself, a reviewer row, CI's batches
    (gates, defects), a risk, review, incident, check, token or webhook connection whose row names the
    team, a repository of the team, or a GitHub/GitLab login linked to (or unlinked from) one of the
    team's people (a role or a reviewer)."""
    def ids(model):
        return select(cast(model.id, String)).where(model.team_id.in_(team_ids))
    as_text = [str(t) for t in team_ids]
    people = union(select(TeamRole.user_id).where(TeamRole.team_id.in_(team_ids)),
                   select(Reviewer.user_id).where(Reviewer.team_id.in_(team_ids)))
    events = AuditEvent.__table__.c
    return or_(
        and_(AuditEvent.entity_type.in_(("team", "gates", "defects")), AuditEvent.entity_id.in_(as_text)),
        and_(AuditEvent.entity_type == "reviewer", or_(*[AuditEvent.entity_id.like(f"{t}:%") for t in team_ids])),
        and_(AuditEvent.entity_type == "risk", AuditEvent.entity_id.in_(ids(Risk))),
        and_(AuditEvent.entity_type == "review", AuditEvent.entity_id.in_(ids(ReviewRequest))),
        and_(AuditEvent.entity_type == "incident", AuditEvent.entity_id.in_(ids(Incident))),
        and_(AuditEvent.entity_type == "item_check", AuditEvent.entity_id.in_(ids(ItemCheck))),
        and_(AuditEvent.entity_type == "api_token", AuditEvent.entity_id.in_(ids(ApiToken))),
        and_(AuditEvent.entity_type == "webhook", AuditEvent.action.in_(WEBHOOK_BY_TEAM),
             AuditEvent.entity_id.in_(as_text)),
        and_(AuditEvent.entity_type == "webhook", AuditEvent.action.not_in(WEBHOOK_BY_TEAM),
             AuditEvent.entity_id.in_(ids(WebhookConnection))),
        and_(AuditEvent.entity_type == "login_link",
             or_(events.after["user"].as_string().in_(people), events.before["user"].as_string().in_(people))),
    )


def audit_events(session: Session, workspace_id: str, *, team_ids: list[int], domain: str | None = None,
                 actor_id: str | None = None, start: datetime | None = None, end: datetime | None = None,
                 offset: int = 0, limit: int | None = 200) -> list[AuditEvent]:
    """The workspace's audit events about the teams of `team_ids`, newest first, filtered."""
    if not team_ids:
        return []
    conditions = [AuditEvent.workspace_id == workspace_id, _of_teams(team_ids)]
    if domain is not None:
        conditions.append(AuditEvent.entity_type.in_(DOMAIN_TYPES[domain]))
    if actor_id is not None:
        conditions.append(AuditEvent.actor_id == actor_id)
    if start is not None:
        conditions.append(AuditEvent.at >= start)
    if end is not None:
        conditions.append(AuditEvent.at < end)
    query = select(AuditEvent).where(*conditions).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query))


# --- an audit pack's records of one team over a period ------------------------------------------------
def risks_in(session: Session, workspace_id: str, team_id: int, start: datetime, end: datetime) -> list[Risk]:
    """Risks that were on the register at some time in [start, end)."""
    query = (select(Risk).where(Risk.workspace_id == workspace_id, Risk.team_id == team_id, Risk.created_at < end,
                                or_(Risk.closed_at.is_(None), Risk.closed_at >= start)).order_by(Risk.number))
    return list(session.exec(query))


def incidents_in(session: Session, workspace_id: str, team_id: int, start: datetime,
                 end: datetime) -> list[tuple[Incident, list[IncidentEvent]]]:
    """Incidents open at some time in [start, end), each with its timeline."""
    query = (select(Incident).where(Incident.workspace_id == workspace_id, Incident.team_id == team_id,
                                    Incident.declared_at < end,
                                    or_(Incident.resolved_at.is_(None), Incident.resolved_at >= start))
             .order_by(Incident.number))
    found = list(session.exec(query))
    events: dict[int, list[IncidentEvent]] = {i.id: [] for i in found}
    if found:
        for event in session.exec(select(IncidentEvent).where(IncidentEvent.workspace_id == workspace_id,
                                                              IncidentEvent.incident_id.in_(list(events)))
                                  .order_by(IncidentEvent.at, IncidentEvent.id)):
            events[event.incident_id].append(event)
    return [(incident, events[incident.id]) for incident in found]


def rows_in(session: Session, model, column, workspace_id: str, team_id: int, start: datetime, end: datetime) -> list:
    """A team's rows of `model` whose `column` falls in [start, end), oldest first."""
    query = (select(model).where(model.workspace_id == workspace_id, model.team_id == team_id, column >= start,
                                 column < end).order_by(column, model.id))
    return list(session.exec(query))


# --- gate figures from the daily totals ------------------------------------------------------------------
def gate_weeks(session: Session, workspace_id: str, team_id: int, days: list[date]) -> list[dict[str, GateCounts]]:
    """Each gate's counts in each period [days[i], days[i+1]) of UTC days, from storage/gate_days.py."""
    return gate_weeks_by_team(session, workspace_id, [team_id], days)[team_id]


def gate_weeks_by_team(session: Session, workspace_id: str, team_ids: list[int],
                       days: list[date]) -> dict[int, list[dict[str, GateCounts]]]:
    """`gate_weeks` of several teams sharing the same `days`, in one query."""
    found: dict[int, list[dict[str, GateCounts]]] = {team_id: [{} for _ in days[1:]] for team_id in team_ids}
    if len(days) < 2 or not team_ids:
        return found
    table = GateDay.__table__
    # Summed per week in the database (a few rows per team and gate), the week computed in a subquery and
    # grouped outside it, as storage/reviews.py does for PostgreSQL's sake.
    week = case(*[(table.c.day < day, index) for index, day in enumerate(days[1:])], else_=None)
    inner = (select(table.c.team_id, week.label("week"), table.c.gate, table.c.runs, table.c.passed,
                    table.c.value_total, table.c.valued, table.c.seconds_total, table.c.timed)
             .where(table.c.workspace_id == workspace_id, table.c.team_id.in_(list(team_ids)), table.c.day >= days[0],
                    table.c.day < days[-1])
             .subquery())
    query = (select(inner.c.team_id, inner.c.week, inner.c.gate, func.sum(inner.c.runs), func.sum(inner.c.passed),
                    func.sum(inner.c.value_total), func.sum(inner.c.valued), func.sum(inner.c.seconds_total),
                    func.sum(inner.c.timed))
             .group_by(inner.c.team_id, inner.c.week, inner.c.gate))
    for team_id, index, gate, runs, passed, value_total, valued, seconds_total, timed in session.execute(query).all():
        found[team_id][index][gate] = GateCounts(int(runs or 0), int(passed or 0), float(value_total or 0),
                                                 int(valued or 0), float(seconds_total or 0), int(timed or 0))
    return found


def recount_gate_days(session: Session, workspace_id: str, team_id: int) -> dict[tuple[str, date], tuple]:
    """The daily totals counted afresh from the gate results: (gate, day) → (runs, passed, valued, timed)."""
    found: dict[tuple[str, date], list] = {}
    query = select(GateResult).where(GateResult.workspace_id == workspace_id, GateResult.team_id == team_id)
    for row in session.exec(query):
        key = (row.gate, row.happened_at.date())
        total = found.setdefault(key, [0, 0, 0, 0])
        total[0] += 1
        total[1] += row.passed
        total[2] += row.value is not None
        total[3] += row.duration_seconds is not None
    return {key: tuple(value) for key, value in found.items()}


def stored_gate_days(session: Session, workspace_id: str, team_id: int) -> dict[tuple[str, date], tuple]:
    query = select(GateDay).where(GateDay.workspace_id == workspace_id, GateDay.team_id == team_id)
    return {(row.gate, row.day): (row.runs, row.passed, row.valued, row.timed) for row in session.exec(query)}
