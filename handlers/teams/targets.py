"""`/qms setup targets`: a team's KPI targets beside the guide's defaults, edited in a modal.

Everyone may read them; the team leads, engineering managers and workspace admins may change
them or reset them to the guide's. Every change is audited by the domain.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlmodel import Session

from bot import teams
from bot.core import render
from bot.core.errors import Invalid, Phrase, Refusal
from bot.core.timeutil import utcnow
from bot.teams import BY_KEY
from handlers.core.commands import Command, Subcommands
from handlers.core.deps import Services
from handlers.core.payload import field, metadata, view_values
from handlers.core.press import Press
from handlers.core.replies import inline_errors, refused
from handlers.teams.replies import ephemeral, is_workspace_admin, remember_origin, replace_message, team_id, team_of
from storage.teams import Team

EDIT, RESET = "targets_edit", "targets_reset"
TARGETS_VIEW = "team_targets"


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    subcommands.add("setup targets", lambda command: show(services, command))

    @app.action(EDIT)
    def edit(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        open_editor(services, ack, body, respond, client)

    @app.action(RESET)
    def reset(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        reset_to_defaults(services, ack, body, respond, client)

    @app.view(TARGETS_VIEW)
    def save(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        save_targets(services, ack, body, view, client)


def show(services: Services, command: Command) -> None:
    command.ack()
    admin = is_workspace_admin(command.client, command.user_id)
    with services.transaction() as session:
        team = command.team(session)
        payload = targets_message(session, team, viewer=command.user_id, admin=admin)
    command.respond(ephemeral(payload, replace=False))


def targets_message(session: Session, team: Team, *, viewer: str, admin: bool,
                    notice: Phrase | None = None) -> dict[str, Any]:
    warning = teams.no_team_lead_warning(session, team)
    return render.message(
        "teams/targets.json.j2", team=team, rows=teams.target_rows(session, team),
        can_manage=teams.may_manage(session, team, viewer, workspace_admin=admin),
        notice=render.phrase(notice.key, **notice.params) if notice else None,
        warning=render.phrase(warning.key, **warning.params) if warning else None)


def pressed(body: dict[str, Any]) -> tuple[Press, dict[str, Any]]:
    """A targets button's press and state ({"team": id}); read before the ack, so that a malformed
    one is answered with HTTP 400."""
    press = Press.of(body)
    return press, {"team": team_id(press.state())}


def open_editor(services: Services, ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
    press, state = pressed(body)
    user, workspace_id, trigger_id = press.user_id, press.workspace_id, press.trigger_id
    ack()
    admin = is_workspace_admin(client, user)
    try:
        with services.transaction() as session:
            team = team_of(session, workspace_id, state)
            teams.require_manager(session, team, user, workspace_admin=admin, action="change_targets")
            view = render.view("teams/targets_modal.json.j2", team=team, rows=teams.target_rows(session, team),
                               metadata=json.dumps({"team": team.id, **remember_origin(session, body, now=utcnow())}))
    except Refusal as refusal:
        return press.refuse(respond, client, refusal, title="KPI targets")
    client.views_open(trigger_id=trigger_id, view=view)


def reset_to_defaults(services: Services, ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
    press, state = pressed(body)
    user, workspace_id = press.user_id, press.workspace_id
    ack()
    admin, now = is_workspace_admin(client, user), utcnow()
    try:
        with services.transaction() as session:
            team = team_of(session, workspace_id, state)
            teams.require_manager(session, team, user, workspace_admin=admin, action="change_targets")
            before = teams.target_values(session, team)
            changed = _changes(before, teams.reset_targets(session, team, actor_id=user, now=now))
            payload = targets_message(session, team, viewer=user, admin=admin,
                                      notice=Phrase("teams.targets_reset", {"changed": changed}))
    except Refusal as refusal:
        return press.refuse(respond, client, refusal, title="KPI targets")
    respond(ephemeral(payload, replace=True))


def save_targets(services: Services, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
    workspace_id, user, state = field(body, "team", "id"), field(body, "user", "id"), metadata(view)
    values = {key: value for key, value in view_values(view).items() if key in BY_KEY}
    admin, now = is_workspace_admin(client, user), utcnow()
    try:
        with services.transaction() as session:
            team = team_of(session, workspace_id, state)
            teams.require_manager(session, team, user, workspace_admin=admin, action="change_targets")
            before = teams.target_values(session, team)
            after = teams.save_targets(session, team, values, actor_id=user, now=now)
            payload = targets_message(session, team, viewer=user, admin=admin,
                                      notice=Phrase("teams.targets_saved", {"changed": _changes(before, after)}))
    except Invalid as invalid:
        return ack(**inline_errors(invalid))
    except Refusal as refusal:
        return ack(**refused(refusal, title="KPI targets"))
    ack()
    replace_message(services, client, state, workspace_id, user, payload)


def _changes(before: dict[str, float], after: dict[str, float]) -> int:
    return sum(before[key] != after[key] for key in after)
