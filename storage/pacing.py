"""Slack's pace per channel, shared by every sender on one database.

Slack takes about one message a second per channel, with short bursts. Several processes send the
outbox (each gunicorn worker of `serve`, and every `clock`), so the pace is kept here, not in any one
process: per channel, the GCRA "theoretical arrival time" of its next message (`next_at`, seconds
since the epoch), moved on by one atomic statement per message (an upsert whose WHERE lets it through
only when the pace allows; PostgreSQL takes the row's lock for that one statement, SQLite its write
lock). A sender that takes a slot and dies wastes that one slot: nothing is held beyond it.
"""

from __future__ import annotations

from sqlalchemy import Float, Column, select
from sqlmodel import Field, Session, SQLModel, delete

from storage.db import dialect_insert
from storage.sql import greatest


class ChannelPace(SQLModel, table=True):
    __tablename__ = "channel_pace"

    workspace_id: str = Field(max_length=32, primary_key=True)
    channel: str = Field(max_length=64, primary_key=True)
    next_at: float = Field(sa_column=Column(Float, nullable=False))  # the next message's theoretical arrival


def take(session: Session, workspace_id: str, channel: str, *, now: float, interval: float,
         tolerance: float) -> tuple[bool, float]:
    """One message to `channel` at `now`, if its pace allows (`interval` seconds a message, `tolerance`
    seconds early at most: a burst of tolerance / interval + 1). Returns (taken, when): when taken,
    when the channel's next message may go; else when this one may."""
    table = ChannelPace.__table__
    statement = (
        dialect_insert(session, table)
        .values(workspace_id=workspace_id, channel=channel, next_at=now + interval)
        .on_conflict_do_update(index_elements=[table.c.workspace_id, table.c.channel],
                               set_={"next_at": greatest(table.c.next_at, now) + interval},
                               where=table.c.next_at - tolerance <= now)
        .returning(table.c.next_at)
    )
    taken = session.execute(statement).scalar_one_or_none()
    if taken is not None:
        return True, taken - tolerance
    held = session.execute(select(table.c.next_at).where(table.c.workspace_id == workspace_id,
                                                         table.c.channel == channel)).scalar_one()
    return False, held - tolerance


def hold(session: Session, workspace_id: str, channel: str, *, until: float, tolerance: float) -> float:
    """Slack said wait (a 429): no message to `channel` before `until`, from any sender, and no burst
    right after. Returns when the channel's next message may go."""
    table = ChannelPace.__table__
    statement = (
        dialect_insert(session, table)
        .values(workspace_id=workspace_id, channel=channel, next_at=until + tolerance)
        .on_conflict_do_update(index_elements=[table.c.workspace_id, table.c.channel],
                               set_={"next_at": greatest(table.c.next_at, until + tolerance)})
        .returning(table.c.next_at)
    )
    return session.execute(statement).scalar_one() - tolerance


def forget_idle(session: Session, *, before: float) -> int:
    """Drop the pace of channels that have had no message since `before` (their state is no different
    from having none)."""
    return session.execute(delete(ChannelPace).where(ChannelPace.next_at < before)).rowcount
