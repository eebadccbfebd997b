"""Teams for tests, made through the domain (bot.teams), as `/qms setup` would make them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot import teams
from storage import teams as store
from storage.db import Database
from storage.teams import Team
from tests.harness.bot import TEAM_ID, channel_id, user_id

SETUP_TIME = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def make_team(db: Database, name: str = "Payments", *, channel: str = "payments", digest: str | None = None,
              timezone: str = "UTC", leads=("alice",), managers=("bob",), tech_leads=(), project_managers=(),
              qa_leads=(), executives=("carol",), work_days=("mon", "tue", "wed", "thu", "fri"),
              work_start: str = "09:00", work_end: str = "17:00", workspace_id: str = TEAM_ID) -> Team:
    roles = {"team_lead": leads, "engineering_manager": managers, "technical_lead": tech_leads,
             "project_manager": project_managers, "qa_lead": qa_leads, "executive": executives}
    form = teams.TeamForm(
        name=name, home_channel_id=channel_id(channel), digest_channel_id=channel_id(digest) if digest else None,
        timezone=timezone, roles={role: [user_id(p) for p in people] for role, people in roles.items()},
        work_days=list(work_days), work_start=work_start, work_end=work_end)
    with db.transaction() as session:
        return teams.save_team(session, workspace_id, form, actor_id="UALICE", now=SETUP_TIME)


def add_reviewer(db: Database, team: Team, person: str, tier: str = "gold", specializations=("Backend/API",),
                 capacity: int = 3, away_until: date | None = None) -> None:
    form = teams.ReviewerForm(user_id=user_id(person), tier=tier, specializations=list(specializations),
                              capacity=capacity, away_until=away_until)
    with db.transaction() as session:
        # Read the team afresh: merging a stale copy would write its old values back.
        team = store.get_team(session, team.workspace_id, team.id)
        teams.save_reviewer(session, team, form, actor_id="UALICE", now=SETUP_TIME)
