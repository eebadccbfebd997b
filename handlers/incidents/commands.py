"""`/qms incident`: declare an incident, and act on one by text, by the card's buttons or the checklist.

    /qms incident                         the declaration modal (`/qms incident <title>` pre-fills it)
    /qms incident list                    open incidents with age and level
    /qms incident INC-001 [page N]        its timeline
    /qms incident ack INC-001             acknowledge
    /qms incident update INC-001 <text>   post an update
    /qms incident escalate INC-001        escalate one level now
    /qms incident resolve INC-001 <summary>
    /qms setup escalation [SEV1 4 8]      the team's thresholds of the escalation matrix

In an incident's own channel the INC-… may be left out. The card's buttons and modals are in
`handlers/incidents/actions.py`.
"""

from __future__ import annotations

import json
import re
from difflib import get_close_matches

from slack_bolt import App

from bot import incidents, teams
from bot.core import render
from bot.core.errors import Invalid, Refusal
from bot.core.timeutil import utcnow
from bot.incidents import reference
from handlers.core import people, remembered, routing
from handlers.core.commands import Command, Subcommands
from handlers.core.deps import Services
from storage import incidents as store
from storage import teams as team_store

TEXT_ACTIONS = {"ack": "ack", "acknowledge": "ack", "update": "update", "escalate": "escalate", "resolve": "resolve"}
TIMELINE_PAGE = 40
PAGE = re.compile(r"^page\s+([0-9]{1,6})$", re.IGNORECASE)


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    subcommands.add("incident", lambda command: incident(services, command))
    subcommands.add("setup escalation", lambda command: setup_escalation(services, command))


def incident(services: Services, command: Command) -> None:
    word, _, rest = command.args.partition(" ")
    rest = rest.strip()
    if not word:
        return open_declaration(services, command)
    if word.lower() == "help":
        return usage(services, command)
    if word.lower() == "list":
        return list_open(services, command)
    if word.lower() in TEXT_ACTIONS:
        return act(services, command, TEXT_ACTIONS[word.lower()], rest)
    if incidents.parse_reference(word) is not None and (not rest or PAGE.match(rest)):
        page = int(PAGE.match(rest).group(1)) if rest else 1
        return timeline(services, command, word, page)
    mistyped = _mistyped(services, command, word, rest)
    if mistyped is not None:
        return _say(command, "incidents.unknown_action", **mistyped)
    return open_declaration(services, command, title=command.args.strip())


def _mistyped(services: Services, command: Command, word: str, rest: str) -> dict | None:
    """`/qms incident resolved INC-003 was fine` or `/qms incident INC-003 resolve …`: an action
    mistyped next to an incident's name is not a title; the answer says what it probably meant.
    None when the text reads as a title (no INC-… next to the first word, or one that does not
    exist after a word that is not close to any action)."""
    second, _, after = rest.partition(" ")
    if _names_incident(second):
        unknown, named, tail = word, second, after.strip()
    elif _names_incident(word):
        unknown, named, tail = second, word, after.strip()
    else:
        return None
    verb = next(iter(get_close_matches(unknown.lower(), TEXT_ACTIONS, n=1, cutoff=0.6)), None)
    with services.transaction() as session:
        exists = store.by_number(session, command.workspace_id, incidents.parse_reference(named)) is not None
    if not exists and verb is None:
        return None
    suggestion = " ".join(part for part in (verb, named.upper(), tail) if part) if verb else None
    return {"word": unknown, "suggestion": suggestion}


def _names_incident(word: str) -> bool:
    """INC-003 or inc3, not a bare number: titles have numbers ("Checkout 500 errors")."""
    return word[:3].lower() == "inc" and incidents.parse_reference(word) is not None


def usage(services: Services, command: Command) -> None:
    """The commands, and the escalation matrix of the channel's team when there is one."""
    with services.transaction() as session:
        team = routing.team_for_channel(session, command.workspace_id, command.channel_id)
    if team is None:
        return _say(command, "incidents.usage")
    _say(command, "incidents.usage", team=team.name, thresholds=incidents.all_thresholds(team))


# --- declaring -----------------------------------------------------------------------------------------------
def open_declaration(services: Services, command: Command, *, title: str = "") -> None:
    command.ack()  # the trigger_id lives 3 s: acknowledge, then open the modal straight away
    with services.transaction() as session:
        team = command.team(session)
    form = incidents.IncidentForm(title=title[: incidents.TITLE_MAX], severity=None, commander_id=command.user_id)
    state = json.dumps({"team_id": team.id, "channel_id": command.channel_id})
    command.client.views_open(trigger_id=command.trigger_id, view=render.view(
        "incidents/declare_modal.json.j2", form=form, metadata=state, duplicate=None,
        thresholds=incidents.all_thresholds(team), now=utcnow()))


# --- reading ----------------------------------------------------------------------------------------------------
def list_open(services: Services, command: Command) -> None:
    now = utcnow()

    def compute(session):  # the channel's team (an incident's channel: its team), or all
        team = routing.team_for_channel(session, command.workspace_id, command.channel_id)
        found = store.open_incidents(session, command.workspace_id, team.id if team else None)
        names = {t.id: t.name for t in team_store.teams(session, command.workspace_id)}
        return render.message("incidents/list.json.j2", incidents=found, team_names=names,
                              scope=team.name if team else None, now=now)

    key = ("incident list", command.workspace_id, command.channel_id)
    command.ack(**remembered.answer(services, key, now=now, compute=compute))


def timeline(services: Services, command: Command, text: str, page: int) -> None:
    with services.transaction() as session:
        incident = incidents.find(session, command.workspace_id, text)
        events = store.events(session, incident)
        team = team_store.get_team(session, command.workspace_id, incident.team_id)
    pages = max(1, -(-len(events) // TIMELINE_PAGE))
    page = min(max(page, 1), pages)
    shown = events[(page - 1) * TIMELINE_PAGE: page * TIMELINE_PAGE]
    command.reply("incidents/timeline.json.j2", incident=incident, team_name=team.name, events=shown, page=page,
                  pages=pages, total=len(events), now=utcnow())


# --- acting by text -----------------------------------------------------------------------------------------------
def act(services: Services, command: Command, action: str, rest: str) -> None:
    """ack | update | escalate | resolve, by text; the answer says what happened or why not."""
    incident, text = _named_incident(services, command, action, rest)
    name = reference(incident)
    if action == "update" and not text:
        raise Refusal("incidents.update_needs_text", incident=name)
    admin = people.lookup(command.client, command.user_id).is_workspace_admin if action == "resolve" else False
    if action == "resolve" and not text:  # whether they may comes first: no use asking for a summary otherwise
        with services.transaction() as session:
            incidents.check_may_resolve(session, command.workspace_id, incident.id, actor_id=command.user_id,
                                        workspace_admin=admin)
        raise Refusal("incidents.resolve_needs_summary", incident=name)
    try:
        with services.transaction() as session:
            key, params = _apply(session, action, command, incident.id, text, admin)
    except Invalid as invalid:  # by text there is no field to point at: say the first problem
        problem = next(iter(invalid.problems.values()))
        return _say(command, problem.key, **problem.params)
    _say(command, key, incident=name, **params)


def _named_incident(services: Services, command: Command, action: str, rest: str):
    """(the incident the command names, the rest of its text)."""
    first, _, text = rest.partition(" ")
    with services.transaction() as session:
        here = store.by_channel(session, command.workspace_id, command.channel_id)
        # In an incident's own channel the reference may be left out, so there "update 5 servers down"
        # is an update: only INC-5 names another incident. Elsewhere a bare 5 is INC-005.
        if incidents.parse_reference(first) is not None and (here is None or first[:3].lower() == "inc"):
            return incidents.find(session, command.workspace_id, first), text.strip()
    if here is None:
        raise Refusal("incidents.which_incident", action=action)
    return here, rest.strip()


def _apply(session, action: str, command: Command, incident_id: int, text: str, admin: bool):
    """Do one text action; returns the phrase that answers it."""
    now, actor, workspace = utcnow(), command.user_id, command.workspace_id
    if action == "ack":
        incidents.acknowledge(session, workspace, incident_id, actor_id=actor, now=now)
        return "incidents.acknowledged", {}
    if action == "update":
        incidents.post_update(session, workspace, incident_id, incidents.UpdateForm(text=text), actor_id=actor,
                              workspace_admin=admin, now=now)
        return "incidents.update_posted", {}
    if action == "escalate":
        moved = incidents.escalate_now(session, workspace, incident_id, actor_id=actor, now=now)
        return "incidents.escalated", {"level": moved.level}
    incidents.resolve(session, workspace, incident_id, summary=text, actor_id=actor, workspace_admin=admin, now=now)
    return "incidents.resolved", {}


def _say(command: Command, key: str, **params) -> None:
    command.ack(response_type="ephemeral", text=render.phrase(key, **params))


# --- the escalation thresholds of a team -----------------------------------------------------------------------------
def setup_escalation(services: Services, command: Command) -> None:
    """`/qms setup escalation` opens the thresholds; `/qms setup escalation SEV1 4 8` sets one."""
    words = command.args.split(None, 1)
    if words and words[0].lower() == "help":
        return _say(command, "incidents.escalation_usage")
    person = people.lookup(command.client, command.user_id)
    if not words:
        command.ack()
    with services.transaction() as session:
        team = command.team(session)
        if not teams.may_manage(session, team, command.user_id, workspace_admin=person.is_workspace_admin):
            raise Refusal("incidents.only_managers_may_change_escalation", team=team.name)
        if words:
            values = {words[0].upper(): words[1] if len(words) > 1 else ""}
            try:
                current = incidents.save_thresholds(session, team, values, actor_id=command.user_id, now=utcnow())
            except Invalid as invalid:
                problem = next(iter(invalid.problems.values()))
                return command.ack(response_type="ephemeral", text=render.phrase(problem.key, **problem.params)
                                   + " " + render.phrase("incidents.escalation_usage"))
            return command.reply("incidents/escalation_saved.json.j2", team_name=team.name, current=current)
        current = incidents.all_thresholds(team)
    command.client.views_open(trigger_id=command.trigger_id, view=render.view(
        "incidents/escalation_modal.json.j2", team_name=team.name, current=current,
        metadata=json.dumps({"team_id": team.id, "channel_id": command.channel_id})))
