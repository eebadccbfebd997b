"""Process bookkeeping: the clock's heartbeat, the Slack events already handled, and where the
messages are that modals were opened from.

These rows are about our processes, not about a workspace's data: the clock sweeps every
workspace at once, so its heartbeat has no workspace_id.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import Index, delete
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


class ModalOrigin(SQLModel, table=True):
    """The message a modal was opened from (its response_url and channel, from Slack's signed button
    press), kept here rather than in the modal's private_metadata, which carries only `key`: a URL
    the bot calls never comes from a payload someone could shape (docs/security.md)."""

    __tablename__ = "modal_origin"
    __table_args__ = (Index("ix_modal_origin_age", "workspace_id", "created_at"),)

    key: str = Field(max_length=32, primary_key=True)  # 128 random bits, URL-safe base64
    workspace_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32)  # who pressed the button: only their submission finds it
    response_url: str | None = Field(default=None, max_length=1000)
    channel_id: str | None = Field(default=None, max_length=32)  # CHANNEL_ID_MAX
    created_at: datetime = Field(sa_type=UTCDateTime)


ORIGIN_KEPT = timedelta(days=1)  # a response_url lives 30 minutes; the channel is worth a day to a modal left open
RESPONSE_URL_MAX = 1000
CHANNEL_ID_MAX = 32


def remember_origin(session: Session, *, workspace_id: str, user_id: str, response_url: str | None,
                    channel_id: str | None, now: datetime) -> str:
    """Keep where a button's message is, for the modal it opens; returns the key the modal carries.
    Origins older than ORIGIN_KEPT are forgotten on the way."""
    session.execute(delete(ModalOrigin).where(ModalOrigin.workspace_id == workspace_id,
                                              ModalOrigin.created_at < now - ORIGIN_KEPT))
    key = secrets.token_urlsafe(16)
    session.add(ModalOrigin(key=key, workspace_id=workspace_id, user_id=user_id, channel_id=channel_id,
                            response_url=response_url if response_url and len(response_url) <= RESPONSE_URL_MAX
                            else None, created_at=now))
    return key


def origin(session: Session, workspace_id: str, user_id: str, key: str, *, now: datetime) -> ModalOrigin | None:
    """The origin kept under `key` for this person in this workspace, if it is still kept."""
    query = select(ModalOrigin).where(ModalOrigin.key == key, ModalOrigin.workspace_id == workspace_id,
                                      ModalOrigin.user_id == user_id, ModalOrigin.created_at >= now - ORIGIN_KEPT)
    return session.exec(query).first()


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
