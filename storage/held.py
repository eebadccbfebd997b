"""Messages held back for a moment so that what one sweep has for one person goes out as one.

A sweep holds each item (a review's reminder, a stalled review told to a lead) under the key its own
message would have had, in the item's transaction; `unreleased` then gives what is held, and the
sweep's last step queues one outbox row per person and kind, in the same transaction that marks the
items released. An item's key is unique here, so it is never held (or sent) twice; an item held but
not released (a sweep that died) is released by the next sweep, so nothing is lost; the grouped
row is retried by the outbox like any other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, Session, SQLModel, select

from storage.db import dialect_insert
from storage.types import UTCDateTime


class HeldMessage(SQLModel, table=True):
    __tablename__ = "held_message"
    __table_args__ = (Index("ix_held_message_unreleased", "released_key", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    person_id: str = Field(max_length=32)
    kind: str = Field(max_length=32)  # what sort of news: items of one kind go out together
    key: str = Field(max_length=255, unique=True)  # the item's own key, as its message's outbox key
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # its message on its own
    summary: str = Field(sa_type=Text)  # its line in a grouped message (mrkdwn)
    created_at: datetime = Field(sa_type=UTCDateTime)
    released_key: str | None = Field(default=None, max_length=255)  # the outbox row that carried it


def hold(session: Session, *, workspace_id: str, person_id: str, kind: str, key: str, payload: dict[str, Any],
         summary: str, now: datetime) -> bool:
    """Hold an item unless one with this key was held before. Returns whether it was added."""
    table = HeldMessage.__table__
    statement = (dialect_insert(session, table)
                 .values(workspace_id=workspace_id, person_id=person_id, kind=kind, key=key, payload=payload,
                         summary=summary, created_at=now, released_key=None)
                 .on_conflict_do_nothing(index_elements=[table.c.key]).returning(table.c.id))
    return session.execute(statement).scalar_one_or_none() is not None


def unreleased(session: Session) -> list[HeldMessage]:
    """Everything held and not yet released, oldest first, locked for the caller's transaction."""
    query = (select(HeldMessage).where(HeldMessage.released_key.is_(None))
             .order_by(HeldMessage.id).with_for_update(skip_locked=True))
    return list(session.exec(query))
