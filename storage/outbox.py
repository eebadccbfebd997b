"""The outbox: every message that must be neither lost nor doubled.

A row is written in the same transaction as the state change that causes it, under a unique
key (`escalation:{incident}:{level}`, `digest:{team}:{kind}:{period}`, ...). Slack's
chat.postMessage has no idempotency key, so this table is the only guard against doubles.
Senders claim due rows (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite takes its write lock at
BEGIN) and hold them for a short lease, renewed while they talk to Slack, so two senders never send
one row and a crashed sender's rows come back within seconds.

Each row knows the channel it goes to (for an update or a thread reply: its parent's channel) and a
priority (bulk digests and exports after everything else). A claim takes a few rows per channel,
best priority first, so one busy channel never holds up another.

Where a posted message lands is remembered under its `ref` (e.g. "risk:12:card") in
`slack_message`, so later rows can update it or reply in its thread.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, or_, update
from sqlalchemy import func as sa_func
from sqlmodel import Field, Session, SQLModel, func, select

from storage.db import dialect_insert
from storage.types import UTCDateTime

PENDING, SENT, DEAD = "pending", "sent", "dead"
NORMAL, BULK = 100, 200  # priorities: lower goes first
FILE_UPLOAD = "files.upload_v2"  # the method name of a file row: slack_sdk's WebClient.files_upload_v2


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "not_before"),
                      Index("ix_outbox_message_lane", "status", "channel", "priority", "id"))

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    key: str = Field(max_length=255, unique=True)
    method: str = Field(max_length=64)  # chat.postMessage, chat.update, files.upload_v2
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    ref: str | None = Field(default=None, max_length=128)
    channel: str | None = Field(default=None, max_length=64)  # where it goes, for pacing and fairness
    priority: int = NORMAL
    status: str = Field(default=PENDING, max_length=16)
    attempts: int = 0
    not_before: datetime = Field(sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SlackMessage(SQLModel, table=True):
    """Where a message we posted landed, so that it can be updated or threaded later."""

    __tablename__ = "slack_message"

    workspace_id: str = Field(max_length=32, primary_key=True)
    ref: str = Field(max_length=128, primary_key=True)
    channel: str = Field(max_length=32)
    ts: str = Field(max_length=32)


QUEUED = "outbox_queued"  # in Session.info


def enqueue(
    session: Session,
    *,
    workspace_id: str,
    key: str,
    method: str,
    payload: dict[str, Any],
    now: datetime,
    ref: str | None = None,
) -> bool:
    """Add a message unless one with this key exists. Returns whether it was added.

    ON CONFLICT DO NOTHING waits for a concurrent transaction holding the same key, so exactly
    one of two racing writers adds the row.
    """
    table = OutboxMessage.__table__
    statement = (
        dialect_insert(session, table)
        .values(
            workspace_id=workspace_id,
            key=key,
            method=method,
            payload=payload,
            ref=ref,
            channel=_channel_of(session, workspace_id, payload),
            priority=priority_of(key, method),
            status=PENDING,
            attempts=0,
            not_before=now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=[table.c.key])
        .returning(table.c.id)
    )
    added = session.execute(statement).scalar_one_or_none() is not None
    if added:
        session.info[QUEUED] = True
    return added


def priority_of(key: str, method: str) -> int:
    """Digests, exports, files and GitHub calls go after everything else (escalation pings, cards,
    DMs), which goes in the order it was queued (a card before the ping that names it)."""
    if key.startswith("digest:") or ":export:" in key or method == FILE_UPLOAD or method.startswith("github."):
        return BULK
    return NORMAL


def _channel_of(session: Session, workspace_id: str, payload: dict[str, Any]) -> str | None:
    channel = payload.get("channel")
    if isinstance(channel, str) and channel:
        return channel[:64]
    parent = payload.get("update_ref") or payload.get("thread_ref")
    if not parent:
        return None
    found = session.get(SlackMessage, (workspace_id, parent))
    if found is not None:
        return found.channel
    query = select(OutboxMessage.channel).where(OutboxMessage.workspace_id == workspace_id, OutboxMessage.ref == parent)
    return session.exec(query).first()


def queued(session: Session) -> bool:
    """Whether the session's transaction queued outbox rows (to send them once it has committed)."""
    return session.info.get(QUEUED, False)


def enqueue_file(
    session: Session,
    *,
    workspace_id: str,
    key: str,
    channel: str,
    filename: str,
    title: str,
    content: bytes,
    now: datetime,
    **extra: Any,
) -> bool:
    """enqueue() a file upload (files_upload_v2) to a channel, or to a person's DM when `channel` is
    a user ID. The bytes travel in the JSON payload as base64, which the sender decodes."""
    payload = {"channel": channel, "filename": filename, "title": title,
               "content_base64": base64.b64encode(content).decode(), **extra}
    return enqueue(session, workspace_id=workspace_id, key=key, method=FILE_UPLOAD, payload=payload, now=now)


def _claimable(now: datetime):
    return (OutboxMessage.status == PENDING, OutboxMessage.not_before <= now,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))


def claim_due(
    session: Session, *, now: datetime, worker: str, lease: timedelta, limit: int = 50, per_channel: int | None = None,
    skip_channels: set[str] | frozenset[str] = frozenset(),
) -> list[OutboxMessage]:
    """Claim up to `limit` due rows for `lease`, best priority first, then oldest; with `per_channel`,
    at most that many rows of any one channel (each channel's own best first), so that a channel
    with ten thousand rows queued takes no more of a round than one with a single row.
    `skip_channels`: channels the caller cannot send to yet (paced); rows without a channel always
    qualify."""
    conditions = list(_claimable(now))
    if skip_channels:
        conditions.append(or_(OutboxMessage.channel.is_(None), OutboxMessage.channel.not_in(sorted(skip_channels))))
    if per_channel is not None:
        lane = sa_func.coalesce(OutboxMessage.channel, sa_func.cast(OutboxMessage.id, Text))
        ranked = (
            select(OutboxMessage.id.label("id"),
                   sa_func.row_number().over(partition_by=lane,
                                             order_by=(OutboxMessage.priority, OutboxMessage.id)).label("place"))
            .where(*conditions)
            .subquery()
        )
        chosen = select(ranked.c.id).where(ranked.c.place <= per_channel)
        conditions = [*_claimable(now), OutboxMessage.id.in_(chosen)]
    query = (
        select(OutboxMessage)
        .where(*conditions)
        .order_by(OutboxMessage.priority, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(session.exec(query))
    for row in rows:
        row.claimed_by = worker
        row.claimed_until = now + lease
        session.add(row)
    session.flush()
    return rows


def mark_sent(
    session: Session, message: OutboxMessage, *, worker: str, now: datetime, channel: str | None, ts: str | None
) -> bool:
    done = _update_claimed(
        session, message, worker, status=SENT, sent_at=now, attempts=message.attempts + 1,
        claimed_by=None, claimed_until=None, last_error=None,
    )
    if done and message.ref and channel and ts:
        remember_location(session, message.workspace_id, message.ref, channel=channel, ts=ts)
    return done


def mark_retry(
    session: Session, message: OutboxMessage, *, worker: str, retry_at: datetime, error: str,
    count_attempt: bool = True,
) -> bool:
    return _update_claimed(
        session, message, worker, not_before=retry_at, attempts=message.attempts + int(count_attempt),
        claimed_by=None, claimed_until=None, last_error=error[:2000],
    )


def release(session: Session, message: OutboxMessage, *, worker: str, not_before: datetime | None = None) -> bool:
    """Hand a claimed row back unsent, for any sender to take at once (or from `not_before`)."""
    values = {} if not_before is None else {"not_before": not_before}
    return _update_claimed(session, message, worker, claimed_by=None, claimed_until=None, **values)


def renew(session: Session, messages: list[OutboxMessage], *, worker: str, until: datetime) -> set[int]:
    """Extend this worker's claim on `messages` to `until`; returns the ids it still holds."""
    if not messages:
        return set()
    table = OutboxMessage.__table__
    ids = [m.id for m in messages]
    session.execute(update(table).where(table.c.id.in_(ids), table.c.claimed_by == worker,
                                        table.c.status == PENDING).values(claimed_until=until))
    held = select(OutboxMessage.id).where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == worker,
                                          OutboxMessage.status == PENDING)
    return set(session.exec(held))


def newer_update_sent(session: Session, message: OutboxMessage, update_ref: str) -> bool:
    """Whether an update of the same message, queued after this one, has already gone out: then this
    one (retried late) would put an older version back."""
    query = select(OutboxMessage.payload).where(
        OutboxMessage.workspace_id == message.workspace_id,
        OutboxMessage.method == message.method,
        OutboxMessage.status == SENT,
        OutboxMessage.id > message.id,
        OutboxMessage.created_at >= message.created_at,
    )
    return any(payload.get("update_ref") == update_ref for payload in session.exec(query))


def gave_up_on(session: Session, workspace_id: str, ref: str) -> bool:
    """Whether the message that would be remembered under `ref` was given up on (dead)."""
    query = select(OutboxMessage.id).where(
        OutboxMessage.workspace_id == workspace_id, OutboxMessage.ref == ref, OutboxMessage.status == DEAD)
    return session.exec(query).first() is not None


def mark_dead(session: Session, message: OutboxMessage, *, worker: str, error: str) -> bool:
    return _update_claimed(
        session, message, worker, status=DEAD, attempts=message.attempts + 1,
        claimed_by=None, claimed_until=None, last_error=error[:2000],
    )


def _update_claimed(session: Session, message: OutboxMessage, worker: str, **values: Any) -> bool:
    """Change a row only while this worker still holds its claim (a lost lease is not ours)."""
    table = OutboxMessage.__table__
    result = session.execute(
        update(table)
        .where(table.c.id == message.id, table.c.claimed_by == worker, table.c.status == PENDING)
        .values(**values)
    )
    return result.rowcount == 1


def remember_location(session: Session, workspace_id: str, ref: str, *, channel: str, ts: str) -> None:
    existing = session.get(SlackMessage, (workspace_id, ref))
    if existing is None:
        session.add(SlackMessage(workspace_id=workspace_id, ref=ref, channel=channel, ts=ts))
    else:
        existing.channel, existing.ts = channel, ts
        session.add(existing)


def location(session: Session, workspace_id: str, ref: str) -> SlackMessage | None:
    return session.get(SlackMessage, (workspace_id, ref))


def counts_by_status(session: Session) -> dict[str, int]:
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    return {status: count for status, count in session.exec(query)}


def messages(session: Session, workspace_id: str, *, key_prefix: str = "") -> list[OutboxMessage]:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.workspace_id == workspace_id, OutboxMessage.key.startswith(key_prefix))
        .order_by(OutboxMessage.id)
    )
    return list(session.exec(query))


# --- what Slack refused: `qms-bot outbox list --dead`, `qms-bot outbox retry ID…` (issue 18) -----------
def dead_rows(session: Session, *, limit: int = 100) -> list[OutboxMessage]:
    """The rows given up on, newest first."""
    return list(session.exec(select(OutboxMessage).where(OutboxMessage.status == DEAD)
                             .order_by(OutboxMessage.id.desc()).limit(limit)))


def revive(session: Session, ids: list[int], *, now: datetime) -> list[int]:
    """Put dead rows back in the queue, due now, with their attempts reset; returns the ids revived
    (a row that is not dead is left as it is)."""
    rows = list(session.exec(select(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.status == DEAD)))
    for row in rows:
        row.status, row.attempts, row.not_before = PENDING, 0, now
        row.claimed_by = row.claimed_until = None
        session.add(row)
    session.flush()
    return sorted(row.id for row in rows)
