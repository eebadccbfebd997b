"""The append-only audit trail: who changed what, when, from what to what.

Written in the same transaction as the change it records; never updated or deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, Session, SQLModel, select

from storage.types import UTCDateTime

BOT_ACTOR = "qms-bot"  # who did what the bot did by itself (the clock's escalations, say)


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "workspace_id", "entity_type", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32, index=True)
    actor_id: str = Field(max_length=64)  # a Slack user ID, or BOT_ACTOR
    entity_type: str = Field(max_length=32)  # "team", "risk", "review", "incident", ...
    entity_id: str = Field(max_length=64)
    action: str = Field(max_length=64)  # "created", "rescored", "escalated", ...
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    at: datetime = Field(sa_type=UTCDateTime)


def record(
    session: Session,
    *,
    workspace_id: str,
    actor_id: str,
    entity_type: str,
    entity_id: str | int,
    action: str,
    at: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        workspace_id=workspace_id,
        actor_id=actor_id,
        entity_type=entity_type,
        entity_id=str(entity_id),
        action=action,
        before=before,
        after=after,
        at=at,
    )
    session.add(event)
    return event


def history(session: Session, workspace_id: str, entity_type: str, entity_id: str | int) -> list[AuditEvent]:
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.workspace_id == workspace_id,
            AuditEvent.entity_type == entity_type,
            AuditEvent.entity_id == str(entity_id),
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return list(session.exec(query))
