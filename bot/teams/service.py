"""Teams and who is who: setting a team up, its roles, and who may change what.

The guide's management levels are team lead, engineering manager, technical lead, project manager,
QA lead and executive. Its review matrix pairs developers with reviewers by specialization and
certification tier (gold / silver / bronze).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session

from bot.core.errors import Phrase, Problems, Refusal
from bot.teams.reviewers import DEFAULT_SPECIALIZATIONS
from bot.teams.targets import KPIS
from bot.teams.workhours import CLOCK_TIME, DAY_NAMES, WorkingHours
from storage import audit
from storage import teams as store
from storage.teams import DEFAULT_WORK_END, DEFAULT_WORK_START, Team

ROLES = ("team_lead", "engineering_manager", "technical_lead", "project_manager", "qa_lead", "executive")
# The setup modal's field for each role (its block_id) is the plural: team_leads, engineering_managers, ...
ROLE_FIELDS = {role: role + "s" for role in ROLES}
MANAGING_ROLES = ("team_lead", "engineering_manager")  # may change setup, close risks, resolve incidents
TEAM_NAME_MAX = 80


# --- setting up a team -------------------------------------------------------------------------
@dataclass
class TeamForm:
    """What `/qms setup` (or an import) says a team should be."""

    name: str
    home_channel_id: str | None
    digest_channel_id: str | None = None
    timezone: str = "UTC"
    roles: dict[str, list[str]] = field(default_factory=dict)
    work_days: list[str] = field(default_factory=lambda: list(DAY_NAMES[:5]))
    work_start: str = DEFAULT_WORK_START
    work_end: str = DEFAULT_WORK_END
    incident_channels: bool = False  # open a new channel per incident (the incidents domain reads it)


def validate_team(session: Session, workspace_id: str, form: TeamForm, *, editing: Team | None,
                  bots: Iterable[str] = (), creator: tuple[str, bool] | None = None) -> None:
    """Raise Invalid naming every wrong field. `bots`: selected users that are bots or deactivated.
    `creator` (user ID, workspace admin?) of a new team: unless an admin, they must name themselves
    among its team leads or engineering managers (said on "Team leads", so the form stays open)."""
    problems = Problems()
    if editing is None and creator is not None and not may_create_team(form, creator[0], workspace_admin=creator[1]):
        problems.add("team_leads", "teams.name_yourself")
    name = (form.name or "").strip()
    if not name:
        problems.add("name", "teams.name_required")
    elif len(name) > TEAM_NAME_MAX:
        problems.add("name", "teams.name_too_long", limit=TEAM_NAME_MAX)
    else:
        owner = store.team_by_name(session, workspace_id, name)
        if owner is not None and (editing is None or owner.id != editing.id):
            problems.add("name", "teams.name_taken", name=name)
    if form.home_channel_id:
        owner = store.team_by_channel(session, workspace_id, form.home_channel_id)
        if owner is not None and (editing is None or owner.id != editing.id):
            problems.add("home_channel", "teams.channel_taken", team=owner.name)
    else:
        problems.add("home_channel", "teams.channel_required")
    if not _is_timezone(form.timezone):
        problems.add("timezone", "teams.unknown_timezone", timezone=form.timezone or "")
    if not form.work_days or any(day not in DAY_NAMES for day in form.work_days):
        problems.add("work_days", "teams.work_days_required")
    if not (CLOCK_TIME.match(form.work_start or "") and CLOCK_TIME.match(form.work_end or "")) \
            or form.work_start >= form.work_end:
        problems.add("work_hours", "teams.bad_work_hours")
    bots = set(bots)
    for role, user_ids in form.roles.items():
        if role not in ROLES:
            problems.add(ROLE_FIELDS.get(role, role), "teams.unknown_role", role=role)
        elif bots & set(user_ids):
            problems.add(ROLE_FIELDS[role], "teams.bot_in_role", users=sorted(bots & set(user_ids)))
    problems.raise_if_any()


def save_team(session: Session, workspace_id: str, form: TeamForm, *, actor_id: str, now: datetime,
              editing: Team | None = None) -> Team:
    """Create or update a team with its roles, in the caller's transaction, and audit it."""
    validate_team(session, workspace_id, form, editing=editing)
    before = describe(session, editing) if editing else None
    team = editing or Team(workspace_id=workspace_id, name=form.name.strip(),
                           specializations=list(DEFAULT_SPECIALIZATIONS), created_at=now, updated_at=now)
    team.name = form.name.strip()
    team.home_channel_id = form.home_channel_id
    team.digest_channel_id = form.digest_channel_id or form.home_channel_id
    team.timezone = form.timezone
    team.work_days = ",".join(d for d in DAY_NAMES if d in form.work_days)
    team.work_start, team.work_end = form.work_start, form.work_end
    team.incident_channels = bool(form.incident_channels)
    team.updated_at = now
    session.add(team)
    session.flush()
    store.replace_roles(session, team, {role: users for role, users in form.roles.items() if role in ROLES})
    if editing is None:
        for kpi in KPIS:
            store.set_target(session, team, kpi.key, kpi.comparator, kpi.default)
    after = describe(session, team)
    if after != before:  # saving the modal unchanged is not a change to audit
        audit.record(session, workspace_id=workspace_id, actor_id=actor_id, entity_type="team", entity_id=team.id,
                     action="updated" if editing else "created", before=before, after=after, at=now)
    return team


def describe(session: Session, team: Team) -> dict:
    """A team as plain data: for the audit log and for export."""
    return {
        "name": team.name, "home_channel": team.home_channel_id, "digest_channel": team.digest_channel_id,
        "timezone": team.timezone, "work_days": team.work_days.split(","), "work_start": team.work_start,
        "work_end": team.work_end, "incident_channels": team.incident_channels, "roles": store.roles(session, team),
    }


def describe_form(form: TeamForm) -> dict:
    """What `describe` would say of the team once `form` is saved: to tell whether it changes anything."""
    return {
        "name": form.name.strip(), "home_channel": form.home_channel_id,
        "digest_channel": form.digest_channel_id or form.home_channel_id, "timezone": form.timezone,
        "work_days": [d for d in DAY_NAMES if d in form.work_days], "work_start": form.work_start,
        "work_end": form.work_end, "incident_channels": bool(form.incident_channels),
        "roles": {role: sorted(set(users)) for role, users in sorted(form.roles.items()) if role in ROLES and users},
    }


def form_of(session: Session, team: Team) -> TeamForm:
    """A team's current values, to show when its setup is opened again."""
    return TeamForm(name=team.name, home_channel_id=team.home_channel_id, digest_channel_id=team.digest_channel_id,
                    timezone=team.timezone, roles=store.roles(session, team), work_days=team.work_days.split(","),
                    work_start=team.work_start, work_end=team.work_end, incident_channels=team.incident_channels)


def _is_timezone(name: str | None) -> bool:
    if not name or len(name) > 64 or name.startswith("/") or ".." in name:  # IANA's longest is 32
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name no file system takes
        return False
    return True


def working_hours(team: Team) -> WorkingHours:
    return WorkingHours.parse(team.timezone, team.work_days, team.work_start, team.work_end)


def local_today(team: Team, now: datetime) -> date:
    """The date it is in the team's time zone: "away until Friday" ends at the team's midnight."""
    return now.astimezone(ZoneInfo(team.timezone)).date()


# --- people and permissions ------------------------------------------------------------------------
def people_in(session: Session, team: Team, *roles: str) -> list[str]:
    """Everyone holding any of these roles, each once, in role order."""
    assigned = store.roles(session, team)
    return list(dict.fromkeys(user for role in roles for user in assigned.get(role, [])))


def has_team_lead(session: Session, team: Team) -> bool:
    return bool(people_in(session, team, "team_lead"))


def no_team_lead_warning(session: Session, team: Team) -> Phrase | None:
    """The warning every flow that needs a team lead shows when the team has none
    (render it with `render.phrase(warning.key, **warning.params)`), else None."""
    return None if has_team_lead(session, team) else Phrase("teams.no_team_lead", {"team": team.name})


def may_manage(session: Session, team: Team, user_id: str, *, workspace_admin: bool,
               also: Iterable[str] = ()) -> bool:
    """Workspace admins and owners, the team's leads and engineering managers, and whoever
    `also` names (a risk's owner, an incident's commander) may change what this guards."""
    return workspace_admin or user_id in also or user_id in people_in(session, team, *MANAGING_ROLES)


def require_manager(session: Session, team: Team, user_id: str, *, workspace_admin: bool, action: str,
                    also: Iterable[str] = (), also_label: str | None = None) -> None:
    """Refuse, naming who may, unless `may_manage` allows it. `action` is a phrase key suffix."""
    if not may_manage(session, team, user_id, workspace_admin=workspace_admin, also=also):
        raise Refusal("teams.only_managers_may", action=action, team=team.name, also=also_label)


def may_create_team(form: TeamForm, user_id: str, *, workspace_admin: bool) -> bool:
    """A new team has no leads yet: workspace admins may create one, and so may anyone who names
    themselves its team lead or engineering manager."""
    return workspace_admin or any(user_id in form.roles.get(role, []) for role in MANAGING_ROLES)
