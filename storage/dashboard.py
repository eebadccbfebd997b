"""The web dashboard's sign-in: single-use links and the sessions they open.

Only SHA-256 hashes of link tokens and session ids are stored: a copy of the database does not
let anyone sign in. A link is used once (`used_at` set by a compare-and-set); a session lasts
`expires_at` and names the workspace and the person it belongs to.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, delete, update
from sqlmodel import Field, Session, SQLModel, func, select

from storage.reviews import ACTIVE_ASSIGNMENT, ReviewAssignment, ReviewRequest
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


def open_assignments(session: Session, workspace_id: str, team_id: int) -> dict[str, int]:
    """Each reviewer's active (assigned or accepted) reviews in the team."""
    query = (select(ReviewAssignment.reviewer_id, func.count())
             .where(ReviewAssignment.workspace_id == workspace_id, ReviewAssignment.team_id == team_id,
                    ReviewAssignment.status.in_(ACTIVE_ASSIGNMENT))
             .group_by(ReviewAssignment.reviewer_id))
    return {user: count for user, count in session.exec(query)}
