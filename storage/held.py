"""Messages held back for a moment so that what one sweep has for one person goes out as one.

A sweep holds each item (a review's reminder, a stalled review told to a lead) under the key its own
message would have had, in the item's transaction; `unreleased` then gives what is held, and the
sweep's last step queues one outbox row per person and kind, in the same transaction that marks the
items released. An item's key is unique here, so it is never held (or sent) twice; an item held but
not released (a sweep that died) is released by the next sweep, so nothing is lost; the grouped
row is retried by the outbox like any other.

A reminder (`snoozable`) may wait: `not_before` is when it may go out at the earliest (a person's
"Remind me later", or the end of their quiet hours). A snoozed reminder is held again as a new item
under its own key plus the id of the row it was sent as (`{key}:later:{id}`), so a second press on
the same message changes the time and never adds a second reminder.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, or_
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
    team_id: int | None = None  # the team it is about: whose working hours "next working morning" means
    snoozable: bool = False  # a reminder: offers "Remind me later" and waits for the person's quiet hours
    not_before: datetime | None = Field(default=None, sa_type=UTCDateTime)  # snoozed or quiet until


class PersonSetting(SQLModel, table=True):
    """One person's own settings in a workspace: their quiet hours (local "HH:MM" in `timezone`)."""

    __tablename__ = "person_setting"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id", name="uq_person_setting"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    quiet_start: str | None = Field(default=None, max_length=5)
    quiet_end: str | None = Field(default=None, max_length=5)
    timezone: str = Field(default="UTC", max_length=64)
    updated_at: datetime = Field(sa_type=UTCDateTime)


def hold(session: Session, *, workspace_id: str, person_id: str, kind: str, key: str, payload: dict[str, Any],
         summary: str, now: datetime, team_id: int | None = None, snoozable: bool = False,
         not_before: datetime | None = None) -> bool:
    """Hold an item unless one with this key was held before. Returns whether it was added."""
    table = HeldMessage.__table__
    statement = (dialect_insert(session, table)
                 .values(workspace_id=workspace_id, person_id=person_id, kind=kind, key=key, payload=payload,
                         summary=summary, created_at=now, released_key=None, team_id=team_id, snoozable=snoozable,
                         not_before=not_before)
                 .on_conflict_do_nothing(index_elements=[table.c.key]).returning(table.c.id))
    return session.execute(statement).scalar_one_or_none() is not None


def unreleased(session: Session, *, now: datetime | None = None) -> list[HeldMessage]:
    """Everything held and not yet released (with `now`: that may go out by then), oldest first,
    locked for the caller's transaction."""
    query = select(HeldMessage).where(HeldMessage.released_key.is_(None))
    if now is not None:
        query = query.where(or_(HeldMessage.not_before.is_(None), HeldMessage.not_before <= now))
    return list(session.exec(query.order_by(HeldMessage.id).with_for_update(skip_locked=True)))


def get(session: Session, workspace_id: str, item_id: int) -> HeldMessage | None:
    item = session.get(HeldMessage, item_id)
    return item if item is not None and item.workspace_id == workspace_id else None


def released_by(session: Session, workspace_id: str, key: str) -> list[HeldMessage]:
    """The items one message carried, oldest first."""
    query = (select(HeldMessage).where(HeldMessage.workspace_id == workspace_id, HeldMessage.released_key == key)
             .order_by(HeldMessage.id))
    return list(session.exec(query))


def by_key(session: Session, key: str) -> HeldMessage | None:
    return session.exec(select(HeldMessage).where(HeldMessage.key == key).with_for_update()).first()


def waiting_for(session: Session, workspace_id: str, person_id: str) -> list[HeldMessage]:
    """A person's reminders that wait (snoozed, or for the end of their quiet hours)."""
    query = (select(HeldMessage).where(HeldMessage.workspace_id == workspace_id, HeldMessage.person_id == person_id,
                                       HeldMessage.released_key.is_(None), HeldMessage.not_before.is_not(None))
             .order_by(HeldMessage.not_before))
    return list(session.exec(query))


# --- a person's own settings -------------------------------------------------------------------------
def person_settings(session: Session, workspace_id: str, user_ids: list[str]) -> dict[str, PersonSetting]:
    if not user_ids:
        return {}
    query = select(PersonSetting).where(PersonSetting.workspace_id == workspace_id,
                                        PersonSetting.user_id.in_(sorted(set(user_ids))))
    return {row.user_id: row for row in session.exec(query)}


def person_setting(session: Session, workspace_id: str, user_id: str, *, lock: bool = False) -> PersonSetting | None:
    query = select(PersonSetting).where(PersonSetting.workspace_id == workspace_id, PersonSetting.user_id == user_id)
    return session.exec(query.with_for_update() if lock else query).first()
