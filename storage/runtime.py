"""Process bookkeeping: the clock's heartbeat and the Slack events already handled.

These rows are about our processes, not about a workspace's data: the clock sweeps every
workspace at once, so its heartbeat has no workspace_id.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Field, Session, SQLModel, select

from storage.db import dialect_insert
from storage.types import UTCDateTime


class ClockHeartbeat(SQLModel, table=True):
    __tablename__ = "clock_heartbeat"

    job_id: str = Field(max_length=64, primary_key=True)
    last_run_at: datetime = Field(sa_type=UTCDateTime)
    worker: str = Field(max_length=128)


class ProcessedEvent(SQLModel, table=True):
    """Slack retries an Events API delivery up to three times; each event_id is handled once."""

    __tablename__ = "processed_event"

    workspace_id: str = Field(max_length=32, primary_key=True)
    event_id: str = Field(max_length=64, primary_key=True)
    received_at: datetime = Field(sa_type=UTCDateTime, index=True)


def beat(session: Session, job_id: str, *, now: datetime, worker: str) -> None:
    """Record a job's run; an upsert, so two clocks' first beats do not collide."""
    table = ClockHeartbeat.__table__
    statement = dialect_insert(session, table).values(job_id=job_id, last_run_at=now, worker=worker)
    session.execute(statement.on_conflict_do_update(
        index_elements=[table.c.job_id], set_={"last_run_at": now, "worker": worker}))


def last_beat(session: Session) -> datetime | None:
    return session.exec(select(ClockHeartbeat.last_run_at).order_by(ClockHeartbeat.last_run_at.desc())).first()


def heartbeats(session: Session) -> list[ClockHeartbeat]:
    return list(session.exec(select(ClockHeartbeat).order_by(ClockHeartbeat.job_id)))


def first_delivery(session: Session, workspace_id: str, event_id: str, *, now: datetime) -> bool:
    """Record an event as handled; False when it was handled before."""
    table = ProcessedEvent.__table__
    statement = (
        dialect_insert(session, table)
        .values(workspace_id=workspace_id, event_id=event_id, received_at=now)
        .on_conflict_do_nothing()
        .returning(table.c.event_id)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def forget_events_before(session: Session, cutoff: datetime) -> int:
    return session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < cutoff)).rowcount


def event_retention() -> timedelta:
    # Slack stops retrying within about an hour; a day is ample.
    return timedelta(days=1)
