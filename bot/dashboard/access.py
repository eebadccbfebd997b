"""Who may see the dashboard, and what: single-use sign-in links, sessions, visible teams.

A link is a random token (only its SHA-256 is stored) valid for LINK_LIFETIME and usable once; using it
opens a session (a random id in an HttpOnly cookie, only its SHA-256 stored) that lasts
SESSION_LIFETIME and is scoped to the link's workspace and person. Executives, engineering managers,
team leads and workspace admins see every team of the workspace; anyone else sees the teams they
hold a role in or review for.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.core.errors import Refusal
from storage import dashboard as store
from storage import teams as team_store
from storage.dashboard import DashboardLink, DashboardSession
from storage.teams import Team, TeamRole

LINK_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(hours=8)
SEES_ALL_ROLES = ("executive", "engineering_manager", "team_lead")
TOKEN_BYTES = 32


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Viewer:
    """The person a session belongs to, and what they may see."""

    workspace_id: str
    user_id: str
    sees_all: bool
    csrf_token: str
    session_hash: str

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(token.encode(), self.csrf_token.encode())


def issue_link(session: Session, workspace_id: str, user_id: str, *, workspace_admin: bool, base_url: str,
               now: datetime) -> str:
    """A sign-in URL for this person, valid for LINK_LIFETIME, usable once."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    store.add_link(session, DashboardLink(token_hash=_hash(token), workspace_id=workspace_id, user_id=user_id,
                                          sees_all=workspace_admin, created_at=now, expires_at=now + LINK_LIFETIME))
    return f"{base_url.rstrip('/')}/dashboard/signin?token={token}"


def redeem(session: Session, token: str, *, now: datetime) -> str:
    """Use a link: a new session's id (for the cookie). Refusal("dashboard.bad_link") when the link is
    unknown, forged, expired or used."""
    if not token or len(token) > 200:
        raise Refusal("dashboard.bad_link")
    link = store.use_link(session, _hash(token), now=now)
    if link is None:
        raise Refusal("dashboard.bad_link")
    store.forget_expired(session, now=now)
    session_id = secrets.token_urlsafe(TOKEN_BYTES)
    store.add_session(session, DashboardSession(
        id_hash=_hash(session_id), workspace_id=link.workspace_id, user_id=link.user_id, sees_all=link.sees_all,
        csrf_token=secrets.token_urlsafe(24), created_at=now, expires_at=now + SESSION_LIFETIME))
    return session_id


def viewer(session: Session, session_id: str | None, *, now: datetime) -> Viewer | None:
    """The person a session cookie belongs to, or None (no cookie, unknown, expired)."""
    if not session_id or len(session_id) > 200:
        return None
    row = store.live_session(session, _hash(session_id), now=now)
    if row is None:
        return None
    return Viewer(row.workspace_id, row.user_id, row.sees_all or _leads_anything(session, row),
                  row.csrf_token, row.id_hash)


def sign_out(session: Session, who: Viewer) -> None:
    store.end_session(session, who.session_hash)


def _leads_anything(session: Session, row: DashboardSession) -> bool:
    query = select(TeamRole.team_id).where(TeamRole.workspace_id == row.workspace_id,
                                           TeamRole.user_id == row.user_id, TeamRole.role.in_(SEES_ALL_ROLES))
    return session.exec(query).first() is not None


def visible_teams(session: Session, who: Viewer) -> list[Team]:
    if who.sees_all:
        return team_store.teams(session, who.workspace_id)
    return team_store.teams_of_user(session, who.workspace_id, who.user_id)


def visible_team(session: Session, who: Viewer, team_id: int) -> Team | None:
    """The team, if it is of the viewer's workspace and theirs to see; else None (a 404)."""
    team = team_store.get_team(session, who.workspace_id, team_id)
    if team is None:
        return None
    if who.sees_all or any(t.id == team.id for t in team_store.teams_of_user(session, who.workspace_id, who.user_id)):
        return team
    return None
