"""Which team a command, a press or a form is for.

A command typed in a team's home channel, or in one of its incidents' own channels, is that team's;
typed elsewhere it is the workspace's only team's, or the person's only team's; otherwise the
person picks (the router offers the teams as buttons). A press or a form names its team by id,
which may have been deleted meanwhile.
"""

from __future__ import annotations

from sqlmodel import Session

from bot.core.errors import Refusal
from storage import incidents as incident_store
from storage import teams as team_store
from storage.teams import Team


def team_for_channel(session: Session, workspace_id: str, channel_id: str | None) -> Team | None:
    """The team whose home channel (or incident channel) this is; elsewhere the only team, if there
    is just one."""
    if channel_id:
        team = team_store.team_by_channel(session, workspace_id, channel_id)
        if team is not None:
            return team
        incident = incident_store.by_channel(session, workspace_id, channel_id)
        if incident is not None and incident.own_channel:
            return team_store.get_team(session, workspace_id, incident.team_id)
    all_teams = team_store.teams(session, workspace_id)
    return all_teams[0] if len(all_teams) == 1 else None


def require_team(session: Session, workspace_id: str, channel_id: str | None, *, user_id: str | None = None,
                 chosen: int | None = None) -> Team:
    """The team a command belongs to: the one the person chose, else the channel's, else the
    workspace's only team, else the person's only team. Otherwise a refusal that lets them pick
    (`teams.which_team` carries the teams to choose from)."""
    if chosen is not None:
        return team_or_refusal(session, workspace_id, chosen)
    team = team_for_channel(session, workspace_id, channel_id)
    if team is not None:
        return team
    all_teams = team_store.teams(session, workspace_id)
    if not all_teams:
        raise Refusal("teams.no_team_yet")
    own = team_store.teams_of_user(session, workspace_id, user_id) if user_id else []
    if len(own) == 1:
        return own[0]
    candidates = own or all_teams
    raise Refusal("teams.which_team", teams=[(t.id, t.name) for t in candidates],
                  channels=[t.home_channel_id for t in candidates if t.home_channel_id])


def team_or_refusal(session: Session, workspace_id: str, team_id: int) -> Team:
    """The team a press or a form names, or a refusal: it was deleted since the button or form was shown."""
    team = team_store.get_team(session, workspace_id, team_id)
    if team is None:
        raise Refusal("teams.team_gone")
    return team
