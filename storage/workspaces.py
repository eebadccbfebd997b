"""The workspaces the bot is installed in (OAuth mode): slack_sdk's installation and state tables, kept
in our database and created by our migration (0015), and when a workspace uninstalled the app.

The installation tables are slack_sdk's own (SQLAlchemyInstallationStore, SQLAlchemyOAuthStateStore
read and write them); they are declared here on SQLModel.metadata so that the migrations and the
models are compared like every other table. In single-token mode they stay empty.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import delete, update
from sqlmodel import Field, Session, SQLModel, select

from storage.outbox import DEAD, PENDING, OutboxMessage
from storage.types import UTCDateTime

INSTALLATIONS = SQLAlchemyInstallationStore.build_installations_table(
    SQLModel.metadata, SQLAlchemyInstallationStore.default_installations_table_name)
BOTS = SQLAlchemyInstallationStore.build_bots_table(SQLModel.metadata, SQLAlchemyInstallationStore.default_bots_table_name)
OAUTH_STATES = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    SQLModel.metadata, SQLAlchemyOAuthStateStore.default_table_name)


class Uninstalled(SQLModel, table=True):
    """A workspace that uninstalled the app or revoked its tokens: nothing more is sent to it, and its
    data is deleted once the grace period has passed (`qms-bot workspace purge` does it at once)."""

    __tablename__ = "workspace_uninstalled"

    workspace_id: str = Field(max_length=32, primary_key=True)
    uninstalled_at: datetime = Field(sa_type=UTCDateTime)


def mark_uninstalled(session: Session, workspace_id: str, *, now: datetime) -> None:
    if session.get(Uninstalled, workspace_id) is None:
        session.add(Uninstalled(workspace_id=workspace_id, uninstalled_at=now))


def reinstalled(session: Session, workspace_id: str) -> None:
    session.execute(delete(Uninstalled).where(Uninstalled.workspace_id == workspace_id))


def is_uninstalled(session: Session, workspace_id: str) -> bool:
    return session.get(Uninstalled, workspace_id) is not None


def uninstalled_before(session: Session, moment: datetime) -> list[str]:
    return list(session.exec(select(Uninstalled.workspace_id).where(Uninstalled.uninstalled_at < moment)))


def delete_tokens(session: Session, workspace_id: str) -> None:
    """Every installation and bot row of the workspace (the tokens with them)."""
    for table in (INSTALLATIONS, BOTS):
        session.execute(delete(table).where(table.c.team_id == workspace_id))


def installed_workspaces(session: Session) -> list[str]:
    return sorted({row for row in session.execute(select(BOTS.c.team_id).distinct()).scalars() if row})


def stop_sending(session: Session, workspace_id: str, *, reason: str) -> int:
    """Give up every pending outbox row of the workspace at once."""
    result = session.execute(update(OutboxMessage).where(OutboxMessage.workspace_id == workspace_id,
                                                          OutboxMessage.status == PENDING)
                             .values(status=DEAD, last_error=reason, claimed_by=None, claimed_until=None))
    return result.rowcount or 0


def purge(session: Session, workspace_id: str) -> dict[str, int]:
    """Delete every row of the workspace, in every table (children first), its tokens and its
    uninstall mark: {table: rows deleted}, the tables that had any."""
    deleted: dict[str, int] = {}
    for table in reversed(SQLModel.metadata.sorted_tables):
        column = table.c.get("workspace_id")
        if column is None and table in (INSTALLATIONS, BOTS):
            column = table.c.team_id
        if column is None:
            continue
        count = session.execute(delete(table).where(column == workspace_id)).rowcount or 0
        if count:
            deleted[table.name] = count
    return deleted
