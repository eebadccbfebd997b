"""`/qms setup`: create or edit the team of the current channel (the reviewer matrix and the KPI
targets have their own modules: handlers/teams/reviewers.py, targets.py)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import incidents, teams
from bot.core import render
from bot.core.errors import Invalid, Refusal
from bot.core.timeutil import utcnow
from handlers.core import people
from handlers.core.commands import Command, Subcommands
from handlers.core.deps import Services
from handlers.core.payload import field, metadata, row_id, view_values
from handlers.core.replies import inline_errors, refused
from handlers.core.routing import team_or_refusal
from handlers.teams.replies import ephemeral
from storage import teams as team_store

LOOKUP_THREADS = 8  # users.info calls at once while a setup form is saved


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    subcommands.add("setup", lambda command: setup(services, command, subcommands))

    @app.view("team_setup")
    def submit_setup(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        save_setup(services, ack, body, view, client)


def setup(services: Services, command: Command, subcommands: Subcommands) -> None:
    if command.args:  # `/qms setup help`, or `/qms setup something` that is not a setup flow we know
        word = command.args.split()[0]
        return command.ack(response_type="ephemeral", text=render.phrase(
            "teams.setup_usage", commands=setup_commands(subcommands),
            unknown=None if word.lower() == "help" else word))
    command.ack()  # the trigger_id lives 3 s: acknowledge, then open the modal straight away
    admin = people.lookup(command.client, command.user_id).is_workspace_admin  # before the database lock
    read_only = None
    with services.transaction() as session:
        team = team_store.team_by_channel(session, command.workspace_id, command.channel_id)
        if team is not None and not teams.may_manage(session, team, command.user_id, workspace_admin=admin):
            read_only = setup_view(session, team)  # anyone may read it; the modal is for those who may change it
        elif team is not None:
            form, no_lead = teams.form_of(session, team), not teams.has_team_lead(session, team)
        else:
            form, no_lead = teams.TeamForm(name="", home_channel_id=command.channel_id), False
        levels = incidents.escalation_groups(team)
    if read_only is not None:
        return command.respond(ephemeral(read_only, replace=False))
    name_yourself = team is None and not admin  # said up front, not after the whole form is filled in
    state = json.dumps({"team_id": team.id if team else None, "channel_id": command.channel_id})
    command.client.views_open(trigger_id=command.trigger_id, view=render.view(
        "teams/setup_modal.json.j2", form=form, metadata=state, no_team_lead=no_lead, escalation=levels,
        name_yourself=name_yourself))


def setup_view(session, team: team_store.Team) -> dict[str, Any]:
    """The team's setup as a message, for someone who may read it but not change it."""
    return render.message("teams/setup_view.json.j2", team=team, roles=team_store.roles(session, team),
                          escalation=incidents.escalation_groups(team),
                          managers=teams.people_in(session, team, *teams.MANAGING_ROLES),
                          no_team_lead=not teams.has_team_lead(session, team))


def setup_commands(subcommands: Subcommands) -> list[str]:
    """The second words of every registered `/qms setup …` command (reviewers, targets, escalation, …),
    in the order the domains registered them, so that a new one is listed without editing this list."""
    return [name.split(" ", 1)[1] for name in subcommands._handlers if name.startswith("setup ")]


def save_setup(services: Services, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
    workspace_id = field(body, "team", "id")
    user_id = field(body, "user", "id")
    state = metadata(view)
    team_id = field(state, "team_id", default=None, kind=int)
    team_id = row_id(team_id) if team_id is not None else None
    form = _team_form(view_values(view))
    selected = [user for users in form.roles.values() for user in users]
    found = look_up(client, [user_id, *selected])  # together, so the ack stays well within 3 s
    bots = {user for user in selected if not found[user].is_person}
    actor = found[user_id]
    now = utcnow()
    try:
        with services.transaction() as session:
            # deleted while the modal was open: refused, rather than made anew
            editing = team_or_refusal(session, workspace_id, team_id) if team_id is not None else None
            if editing is not None:
                teams.require_manager(session, editing, user_id, workspace_admin=actor.is_workspace_admin,
                                      action="change_setup")
            teams.validate_team(session, workspace_id, form, editing=editing, bots=bots,
                                creator=(user_id, actor.is_workspace_admin))
            team = teams.save_team(session, workspace_id, form, actor_id=user_id, now=now, editing=editing)
            roles, no_lead = team_store.roles(session, team), not teams.has_team_lead(session, team)
    except Invalid as invalid:
        return ack(**inline_errors(invalid))
    except Refusal as refusal:
        return ack(**refused(refusal, title="Team setup"))
    ack()
    client.chat_postEphemeral(channel=state.get("channel_id") or team.home_channel_id, user=user_id,
                              **render.message("teams/saved.json.j2", team=team, roles=roles,
                                               created=editing is None, no_team_lead=no_lead))


def look_up(client: WebClient, user_ids: Iterable[str]) -> dict[str, people.Person]:
    """Each person (users.info, cached by people.lookup), asked of Slack at the same time rather
    than one after another: a form naming a dozen people would otherwise take a dozen round trips
    before its ack. An error from Slack is raised as people.lookup raises it."""
    ids = list(dict.fromkeys(user_ids))
    if len(ids) <= 1:
        return {user: people.lookup(client, user) for user in ids}
    with ThreadPoolExecutor(max_workers=min(LOOKUP_THREADS, len(ids)), thread_name_prefix="users.info") as pool:
        return dict(zip(ids, pool.map(lambda user: people.lookup(client, user), ids)))


def _team_form(values: dict[str, Any]) -> teams.TeamForm:
    start, _, end = (values.get("work_hours") or "").replace(" ", "").partition("-")
    return teams.TeamForm(
        name=(values.get("name") or "").strip(),
        home_channel_id=values.get("home_channel"),
        digest_channel_id=values.get("digest_channel"),
        timezone=(values.get("timezone") or "UTC").strip(),
        roles={role: list(values.get(block) or []) for role, block in teams.ROLE_FIELDS.items()},
        work_days=list(values.get("work_days") or []),
        work_start=start,
        work_end=end,
        incident_channels=values.get("incident_channels") == "on",
    )
