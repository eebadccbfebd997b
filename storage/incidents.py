"""Incidents, their timelines, and the queries the escalation sweep and the digests need.

An incident's `level` (1 team lead, 2 engineering manager, 3 executive) only ever moves up, and
only through `move_level`, a compare-and-set: of two clocks that see the same due escalation,
exactly one changes the row (and so writes the outbox rows that ping the next level).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, or_, update
from sqlalchemy import text as sql
from sqlmodel import Field, Session, SQLModel, func, select

from storage.types import UTCDateTime

OPEN, RESOLVED = "open", "resolved"


class Incident(SQLModel, table=True):
    __tablename__ = "incident"
    __table_args__ = (
        UniqueConstraint("workspace_id", "number", name="uq_incident_number"),
        Index("ix_incident_status", "workspace_id", "status"),
        Index("ix_incident_team_declared", "team_id", "declared_at"),
        # The clock's sweeps read only what is pending, never the history (resolved, placed, reminded):
        Index("ix_incident_unplaced", "workspace_id", "declared_at",
              sqlite_where=sql("channel_id IS NULL"), postgresql_where=sql("channel_id IS NULL")),
        Index("ix_incident_review_pending", "workspace_id", "review_due_at",
              sqlite_where=sql("review_reminded_at IS NULL"), postgresql_where=sql("review_reminded_at IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE")
    number: int  # INC-001 is number 1, per workspace
    title: str = Field(max_length=150)
    severity: str = Field(max_length=4)  # SEV1 critical … SEV4 low
    affected_systems: str | None = Field(default=None, sa_type=Text)
    description: str | None = Field(default=None, sa_type=Text)
    commander_id: str = Field(max_length=32)
    declared_by: str = Field(max_length=32)
    declared_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default=OPEN, max_length=16)
    level: int = 1
    level_changed_at: datetime = Field(sa_type=UTCDateTime)
    acknowledged_by: str | None = Field(default=None, max_length=32)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    latest_update: str | None = Field(default=None, sa_type=Text)
    latest_update_by: str | None = Field(default=None, max_length=32)
    latest_update_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: str | None = Field(default=None, max_length=32)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    summary: str | None = Field(default=None, sa_type=Text)
    review_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    review_reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    channel_id: str | None = Field(default=None, max_length=32)  # where the card is; None until placed
    own_channel: bool = False  # the card is in a #inc-001-… channel of its own
    responders: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # invited
    checklist_done: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    card_version: int = 0  # each change of the card is one chat.update under its own outbox key
    checklist_version: int = 0

    @property
    def is_open(self) -> bool:
        return self.status == OPEN


class IncidentEvent(SQLModel, table=True):
    """One line of an incident's timeline: who did what, when."""

    __tablename__ = "incident_event"
    __table_args__ = (Index("ix_incident_event_incident", "incident_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    incident_id: int = Field(foreign_key="incident.id", ondelete="CASCADE")
    at: datetime = Field(sa_type=UTCDateTime)
    actor_id: str = Field(max_length=64)  # a Slack user ID, or "qms-bot" for the clock
    kind: str = Field(max_length=32)  # declared, acknowledged, update, escalated, checklist, resolved, ...
    level: int | None = None  # the level it happened at (for "escalated": the level it moved to)
    text: str | None = Field(default=None, sa_type=Text)
    data: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


# --- one incident ---------------------------------------------------------------------------------
def get(session: Session, workspace_id: str, incident_id: int) -> Incident | None:
    incident = session.get(Incident, incident_id)
    return incident if incident is not None and incident.workspace_id == workspace_id else None


def get_for_update(session: Session, workspace_id: str, incident_id: int) -> Incident | None:
    """The incident, its row locked until the transaction ends, read fresh from the database:
    every change to an incident goes through here, so changes to one incident never interleave."""
    query = (
        select(Incident)
        .where(Incident.workspace_id == workspace_id, Incident.id == incident_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.exec(query).first()


def by_number(session: Session, workspace_id: str, number: int) -> Incident | None:
    query = select(Incident).where(Incident.workspace_id == workspace_id, Incident.number == number)
    return session.exec(query).first()


def by_channel(session: Session, workspace_id: str, channel_id: str) -> Incident | None:
    """The incident whose own #inc-… channel this is."""
    query = select(Incident).where(Incident.workspace_id == workspace_id, Incident.channel_id == channel_id,
                                   Incident.own_channel.is_(True))
    return session.exec(query).first()


def move_level(session: Session, incident: Incident, *, from_level: int, to_level: int, now: datetime) -> bool:
    """Compare-and-set: raise the level only if it is still `from_level` and the incident is open.

    On PostgreSQL a concurrent transaction doing the same waits for this one's row lock, then
    re-checks the WHERE clause against the committed row and changes nothing.
    """
    table = Incident.__table__
    result = session.execute(
        update(table)
        .where(table.c.id == incident.id, table.c.workspace_id == incident.workspace_id,
               table.c.level == from_level, table.c.status == OPEN)
        .values(level=to_level, level_changed_at=now, card_version=table.c.card_version + 1)
    )
    return result.rowcount == 1


def mark_review_reminded(session: Session, incident: Incident, *, now: datetime) -> bool:
    """Compare-and-set: claim the post-incident review reminder (once, however many clocks run)."""
    table = Incident.__table__
    result = session.execute(
        update(table)
        .where(table.c.id == incident.id, table.c.workspace_id == incident.workspace_id,
               table.c.review_reminded_at.is_(None))
        .values(review_reminded_at=now)
    )
    return result.rowcount == 1


def place_card(session: Session, incident: Incident, *, channel_id: str, own_channel: bool) -> bool:
    """Compare-and-set: decide where the card goes, once."""
    table = Incident.__table__
    result = session.execute(
        update(table)
        .where(table.c.id == incident.id, table.c.workspace_id == incident.workspace_id,
               table.c.channel_id.is_(None))
        .values(channel_id=channel_id, own_channel=own_channel)
    )
    return result.rowcount == 1


# --- lists ------------------------------------------------------------------------------------------
def open_incidents(session: Session, workspace_id: str, team_id: int | None = None) -> list[Incident]:
    """Open incidents, the most severe and then the oldest first."""
    query = select(Incident).where(Incident.workspace_id == workspace_id, Incident.status == OPEN)
    if team_id is not None:
        query = query.where(Incident.team_id == team_id)
    return list(session.exec(query.order_by(Incident.severity, Incident.declared_at, Incident.id)))


def open_incidents_for(session: Session, workspace_id: str, user_id: str, team_ids: Iterable[int], *,
                       limit: int) -> tuple[list[Incident], int]:
    """Open incidents a person commands, in any team, or that belong to one of `team_ids` (their
    teams): the most severe and then the oldest first, the first `limit`, and how many there are."""
    theirs = or_(Incident.commander_id == user_id, Incident.team_id.in_(list(team_ids)))
    where = (Incident.workspace_id == workspace_id, Incident.status == OPEN, theirs)
    total = session.exec(select(func.count()).select_from(Incident).where(*where)).one()
    rows = session.exec(select(Incident).where(*where)
                        .order_by(Incident.severity, Incident.declared_at, Incident.id).limit(limit))
    return list(rows), total


def declared_since(session: Session, workspace_id: str, team_id: int, since: datetime) -> list[Incident]:
    """A team's incidents declared at or after `since`, newest first (for the duplicate check)."""
    query = (
        select(Incident)
        .where(Incident.workspace_id == workspace_id, Incident.team_id == team_id, Incident.declared_at >= since)
        .order_by(Incident.declared_at.desc(), Incident.id.desc())
    )
    return list(session.exec(query))


def escalation_candidates(session: Session, workspace_id: str) -> list[Incident]:
    """Open incidents below the top level: the ones the sweep may have to move."""
    query = select(Incident).where(Incident.workspace_id == workspace_id, Incident.status == OPEN,
                                   Incident.level < 3).order_by(Incident.id)
    return list(session.exec(query))


def unplaced(session: Session, workspace_id: str, declared_before: datetime) -> list[Incident]:
    """Incidents whose card was never placed (the process died while opening their channel)."""
    query = select(Incident).where(Incident.workspace_id == workspace_id, Incident.channel_id.is_(None),
                                   Incident.declared_at < declared_before).order_by(Incident.id)
    return list(session.exec(query))


def reviews_due(session: Session, workspace_id: str, now: datetime) -> list[Incident]:
    query = select(Incident).where(Incident.workspace_id == workspace_id, Incident.status == RESOLVED,
                                   Incident.review_due_at <= now,
                                   Incident.review_reminded_at.is_(None)).order_by(Incident.id)
    return list(session.exec(query))


# --- the timeline -------------------------------------------------------------------------------------
def add_event(session: Session, incident: Incident, *, kind: str, actor_id: str, at: datetime,
              text: str | None = None, data: dict[str, Any] | None = None) -> IncidentEvent:
    event = IncidentEvent(workspace_id=incident.workspace_id, incident_id=incident.id, at=at, actor_id=actor_id,
                          kind=kind, level=incident.level, text=text, data=data)
    session.add(event)
    session.flush()  # the event's id names its outbox row (a thread note)
    return event


def events(session: Session, incident: Incident) -> list[IncidentEvent]:
    query = (
        select(IncidentEvent)
        .where(IncidentEvent.workspace_id == incident.workspace_id, IncidentEvent.incident_id == incident.id)
        .order_by(IncidentEvent.at, IncidentEvent.id)
    )
    return list(session.exec(query))


# --- figures for the digests ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ResolvedIncident:
    number: int
    title: str
    severity: str
    level: int  # the level it had reached
    declared_at: datetime
    resolved_at: datetime

    @property
    def time_to_resolve(self) -> timedelta:
        return self.resolved_at - self.declared_at


@dataclass(frozen=True)
class IncidentFigures:
    """What the daily and weekly digests report about incidents."""

    open_by_level: dict[int, int]  # open now, by escalation level (1, 2, 3; zeros included)
    open_by_severity: dict[str, int]  # open now, by severity (only severities that occur)
    declared: int  # declared in [start, end)
    declared_by_severity: dict[str, int]
    escalations: dict[int, int]  # moves to Level 2 and Level 3 in [start, end), automatic or manual
    resolved: list[ResolvedIncident] = field(default_factory=list)  # resolved in [start, end), in order

    @property
    def open_total(self) -> int:
        return sum(self.open_by_level.values())

    @property
    def mean_time_to_resolve(self) -> timedelta | None:
        if not self.resolved:
            return None
        return sum((r.time_to_resolve for r in self.resolved), timedelta()) / len(self.resolved)


def incident_figures(session: Session, workspace_id: str, team_id: int | None, *, start: datetime,
                     end: datetime) -> IncidentFigures:
    """Incident figures of a team (or of the whole workspace when `team_id` is None) for the period
    [start, end): open now by level and severity, declared, escalated and resolved in the period."""

    def scoped(query, table=Incident):
        query = query.where(table.workspace_id == workspace_id)
        if team_id is not None:
            query = query.where(Incident.team_id == team_id)
        return query

    open_rows = session.exec(scoped(
        select(Incident.level, Incident.severity, func.count()).where(Incident.status == OPEN)
    ).group_by(Incident.level, Incident.severity)).all()
    by_level = {1: 0, 2: 0, 3: 0}
    by_severity: dict[str, int] = {}
    for level, severity, count in open_rows:
        by_level[level] = by_level.get(level, 0) + count
        by_severity[severity] = by_severity.get(severity, 0) + count

    declared_rows = session.exec(scoped(
        select(Incident.severity, func.count()).where(Incident.declared_at >= start, Incident.declared_at < end)
    ).group_by(Incident.severity)).all()

    escalated_rows = session.exec(scoped(
        select(IncidentEvent.level, func.count())
        .join(Incident, Incident.id == IncidentEvent.incident_id)
        .where(IncidentEvent.kind == "escalated", IncidentEvent.at >= start, IncidentEvent.at < end),
        table=IncidentEvent,
    ).group_by(IncidentEvent.level)).all()

    resolved = session.exec(scoped(
        select(Incident.number, Incident.title, Incident.severity, Incident.level, Incident.declared_at,
               Incident.resolved_at)
        .where(Incident.status == RESOLVED, Incident.resolved_at >= start, Incident.resolved_at < end)
    ).order_by(Incident.resolved_at, Incident.id)).all()

    return IncidentFigures(
        open_by_level=by_level,
        open_by_severity=dict(sorted(by_severity.items())),
        declared=sum(count for _, count in declared_rows),
        declared_by_severity=dict(sorted(declared_rows)),
        escalations={2: 0, 3: 0, **{level: count for level, count in escalated_rows if level in (2, 3)}},
        resolved=[ResolvedIncident(*row) for row in resolved],
    )
