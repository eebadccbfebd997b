"""The web dashboard's sign-in: single-use links and the sessions they open.

Only SHA-256 hashes of link tokens and session ids are stored: a copy of the database does not
let anyone sign in. A link is used once (`used_at` set by a compare-and-set); a session lasts
`expires_at` and names the workspace and the person it belongs to.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, datetime

from sqlalchemy import Index, String, and_, cast, delete, or_, update
from sqlmodel import Field, Session, SQLModel, func, select

from storage.audit import AuditEvent
from storage.incidents import OPEN as INCIDENT_OPEN
from storage.incidents import Incident, IncidentEvent
from storage.gate_days import GateDay
from storage.metrics import ApiToken, GateCounts, GateResult, ItemCheck
from storage.reviews import ACTIVE_ASSIGNMENT, ReviewAssignment, ReviewRequest
from storage.risks import Risk
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


def open_incident_count(session: Session, workspace_id: str, team_id: int) -> int:
    query = select(func.count()).select_from(Incident).where(Incident.workspace_id == workspace_id,
                                                             Incident.team_id == team_id, Incident.status == INCIDENT_OPEN)
    return session.exec(query).one()


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
                "incidents": ("incident",), "metrics": ("item_check", "gates", "api_token"),
                "pull_requests": ("webhook", "login_link")}


def _of_team(team_id: int):
    """An audit event about something of this team: the team itself, a reviewer row, or a risk,
    review, incident, check or token whose row names the team."""
    def ids(model):
        return select(cast(model.id, String)).where(model.team_id == team_id)
    return or_(
        and_(AuditEvent.entity_type.in_(("team", "gates")), AuditEvent.entity_id == str(team_id)),
        and_(AuditEvent.entity_type == "reviewer", AuditEvent.entity_id.like(f"{team_id}:%")),
        and_(AuditEvent.entity_type == "risk", AuditEvent.entity_id.in_(ids(Risk))),
        and_(AuditEvent.entity_type == "review", AuditEvent.entity_id.in_(ids(ReviewRequest))),
        and_(AuditEvent.entity_type == "incident", AuditEvent.entity_id.in_(ids(Incident))),
        and_(AuditEvent.entity_type == "item_check", AuditEvent.entity_id.in_(ids(ItemCheck))),
        and_(AuditEvent.entity_type == "api_token", AuditEvent.entity_id.in_(ids(ApiToken))),
    )


def audit_events(session: Session, workspace_id: str, *, team_ids: list[int], domain: str | None = None,
                 actor_id: str | None = None, start: datetime | None = None, end: datetime | None = None,
                 offset: int = 0, limit: int | None = 200) -> list[AuditEvent]:
    """The workspace's audit events about the teams of `team_ids`, newest first, filtered."""
    if not team_ids:
        return []
    conditions = [AuditEvent.workspace_id == workspace_id, or_(*[_of_team(t) for t in team_ids])]
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
    found: list[dict[str, GateCounts]] = [{} for _ in days[1:]]
    if not found:
        return found
    table = GateDay.__table__
    query = (select(table.c.day, table.c.gate, table.c.runs, table.c.passed, table.c.value_total, table.c.valued,
                    table.c.seconds_total, table.c.timed)
             .where(table.c.workspace_id == workspace_id, table.c.team_id == team_id, table.c.day >= days[0],
                    table.c.day < days[-1]))
    for day, gate, runs, passed, value_total, valued, seconds_total, timed in session.execute(query):
        counts = found[bisect_right(days, day) - 1].setdefault(gate, GateCounts())
        counts.runs += runs
        counts.passed += passed
        counts.value_total += value_total
        counts.valued += valued
        counts.seconds_total += seconds_total
        counts.timed += timed
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
