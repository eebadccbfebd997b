"""Teams, the people in their roles, the reviewer matrix and KPI targets."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, delete
from sqlmodel import Field, Session, SQLModel, select

from storage.types import UTCDateTime

# A new team's settings until it changes them: working hours, and the local time of its digests.
DEFAULT_WORK_START, DEFAULT_WORK_END = "09:00", "17:00"
DEFAULT_DIGEST_TIME = "09:00"


class Team(SQLModel, table=True):
    """A group of people inside a Slack workspace (Payments, Platform, ...)."""

    __tablename__ = "team"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name", name="uq_team_name"),
        UniqueConstraint("workspace_id", "home_channel_id", name="uq_team_home_channel"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32, index=True)
    name: str = Field(max_length=80)
    home_channel_id: str | None = Field(default=None, max_length=32)
    digest_channel_id: str | None = Field(default=None, max_length=32)
    timezone: str = Field(default="UTC", max_length=64)
    work_days: str = Field(default="mon,tue,wed,thu,fri", max_length=40)
    work_start: str = Field(default=DEFAULT_WORK_START, max_length=5)
    work_end: str = Field(default=DEFAULT_WORK_END, max_length=5)
    digest_time: str = Field(default=DEFAULT_DIGEST_TIME, max_length=5)  # local time of the daily and weekly digests
    specializations: list[str] = Field(sa_column=Column(JSON, nullable=False))
    risk_bands: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))  # None: the guide's bands
    escalation_hours: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))  # None: 24 h / 48 h
    incident_channels: bool = False  # open #inc-001-… channels for incidents
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class TeamRole(SQLModel, table=True):
    """One person in one role of one team; a person may hold several roles in several teams."""

    __tablename__ = "team_role"
    __table_args__ = (Index("ix_team_role_user", "workspace_id", "user_id"),)

    team_id: int = Field(foreign_key="team.id", primary_key=True, ondelete="CASCADE")
    user_id: str = Field(max_length=32, primary_key=True)
    role: str = Field(max_length=32, primary_key=True)
    workspace_id: str = Field(max_length=32)


class Reviewer(SQLModel, table=True):
    """A row of the coordination matrix: who reviews what, at which tier, how much at once."""

    __tablename__ = "reviewer"

    team_id: int = Field(foreign_key="team.id", primary_key=True, ondelete="CASCADE")
    user_id: str = Field(max_length=32, primary_key=True)
    workspace_id: str = Field(max_length=32, index=True)
    tier: str = Field(max_length=8)  # gold | silver | bronze
    specializations: list[str] = Field(sa_column=Column(JSON, nullable=False))
    capacity: int = 3  # open reviews at once
    away_until: date | None = None  # away up to and including this date
    last_assigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TeamTarget(SQLModel, table=True):
    """A team's target for one KPI, e.g. dor_pass_rate > 90."""

    __tablename__ = "team_target"

    team_id: int = Field(foreign_key="team.id", primary_key=True, ondelete="CASCADE")
    kpi: str = Field(max_length=40, primary_key=True)
    workspace_id: str = Field(max_length=32)
    comparator: str = Field(max_length=1)  # ">" or "<"
    value: float


# --- teams -------------------------------------------------------------------------------------
def get_team(session: Session, workspace_id: str, team_id: int) -> Team | None:
    team = session.get(Team, team_id)
    return team if team is not None and team.workspace_id == workspace_id else None


def teams(session: Session, workspace_id: str) -> list[Team]:
    return list(session.exec(select(Team).where(Team.workspace_id == workspace_id).order_by(Team.name)))


def all_teams(session: Session) -> list[Team]:
    """Every team of every workspace: for the clock, which sweeps them all."""
    return list(session.exec(select(Team).order_by(Team.workspace_id, Team.name)))


def team_by_channel(session: Session, workspace_id: str, channel_id: str) -> Team | None:
    query = select(Team).where(Team.workspace_id == workspace_id, Team.home_channel_id == channel_id)
    return session.exec(query).first()


def team_by_name(session: Session, workspace_id: str, name: str) -> Team | None:
    query = select(Team).where(Team.workspace_id == workspace_id, Team.name == name)
    return session.exec(query).first()


def workspaces(session: Session) -> list[str]:
    return list(session.exec(select(Team.workspace_id).distinct().order_by(Team.workspace_id)))


# --- roles -------------------------------------------------------------------------------------
def roles(session: Session, team: Team) -> dict[str, list[str]]:
    """{role: [user_id, ...]} of a team, in a stable order."""
    query = (select(TeamRole).where(TeamRole.workspace_id == team.workspace_id, TeamRole.team_id == team.id)
             .order_by(TeamRole.role, TeamRole.user_id))
    found: dict[str, list[str]] = {}
    for row in session.exec(query):
        found.setdefault(row.role, []).append(row.user_id)
    return found


def replace_roles(session: Session, team: Team, assignments: dict[str, list[str]]) -> None:
    session.exec(delete(TeamRole).where(TeamRole.workspace_id == team.workspace_id, TeamRole.team_id == team.id))
    for role, user_ids in assignments.items():
        for user_id in dict.fromkeys(user_ids):
            session.add(TeamRole(team_id=team.id, user_id=user_id, role=role, workspace_id=team.workspace_id))


def teams_of_user(session: Session, workspace_id: str, user_id: str) -> list[Team]:
    """Teams in which a person holds a role or reviews."""
    in_role = select(TeamRole.team_id).where(TeamRole.workspace_id == workspace_id, TeamRole.user_id == user_id)
    reviewing = select(Reviewer.team_id).where(Reviewer.workspace_id == workspace_id, Reviewer.user_id == user_id)
    query = select(Team).where(Team.id.in_(in_role.union(reviewing))).order_by(Team.name)
    return list(session.exec(query))


# --- reviewers ---------------------------------------------------------------------------------
def reviewers(session: Session, team: Team) -> list[Reviewer]:
    query = select(Reviewer).where(Reviewer.workspace_id == team.workspace_id, Reviewer.team_id == team.id)
    return list(session.exec(query.order_by(Reviewer.user_id)))


def get_reviewer(session: Session, team: Team, user_id: str) -> Reviewer | None:
    reviewer = session.get(Reviewer, (team.id, user_id))
    return reviewer if reviewer is not None and reviewer.workspace_id == team.workspace_id else None


def remove_reviewer(session: Session, team: Team, user_id: str) -> bool:
    result = session.exec(delete(Reviewer).where(Reviewer.workspace_id == team.workspace_id,
                                                 Reviewer.team_id == team.id, Reviewer.user_id == user_id))
    return result.rowcount == 1


# --- targets -----------------------------------------------------------------------------------
def targets(session: Session, team: Team) -> dict[str, TeamTarget]:
    query = select(TeamTarget).where(TeamTarget.workspace_id == team.workspace_id, TeamTarget.team_id == team.id)
    return {t.kpi: t for t in session.exec(query)}


def targets_by_team(session: Session, workspace_id: str, team_ids: list[int]) -> dict[int, dict[str, TeamTarget]]:
    """`targets` of several teams in one query."""
    found: dict[int, dict[str, TeamTarget]] = {team_id: {} for team_id in team_ids}
    query = select(TeamTarget).where(TeamTarget.workspace_id == workspace_id, TeamTarget.team_id.in_(team_ids))
    for target in session.exec(query):
        found[target.team_id][target.kpi] = target
    return found


def set_target(session: Session, team: Team, kpi: str, comparator: str, value: float) -> None:
    existing = session.get(TeamTarget, (team.id, kpi))
    if existing is None:
        session.add(TeamTarget(team_id=team.id, kpi=kpi, workspace_id=team.workspace_id,
                               comparator=comparator, value=value))
    else:
        existing.comparator, existing.value = comparator, value
        session.add(existing)
