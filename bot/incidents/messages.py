"""Everything an incident says in Slack, queued in the outbox in the caller's transaction.

Keys name the side effect, so nothing can be sent twice however often a step is retried:
- `incident:{id}:card` — the card (remembered under ref `incident:{id}:card`), and
  `incident:{id}:card:v{n}` for its n-th change (chat.update);
- `incident:{id}:checklist` — the crisis checklist in the card's thread, `…:checklist:v{n}` its ticks;
- `escalation:{id}:{level}` — the ping of a level in the incident's channel, and
  `escalation:{id}:{level}:dm:{user}` the DM to each person of it;
- `incident:{id}:event:{event}` — a note in the card's thread (acknowledged, update, resolved);
- `incident:{id}:announce`, `incident:{id}:invite:{n}`, `incident:{id}:review-reminder`.

The clock's DMs to one person (an automatic escalation's ping, a post-incident review reminder) are
held (bot/teams/notices.py) and go out as one message per person and kind per sweep; the ping in the
incident's channel stays one per incident. A review reminder offers "Remind me later" and waits for
the person's quiet hours; an escalation ping never waits: an incident that climbs is urgent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.core import render
from bot.incidents.rules import LEVELS, Thresholds, thresholds
from bot.teams import notices, people_in
from storage import outbox
from storage.incidents import Incident, IncidentEvent
from storage.teams import Team

# The guide's crisis response playbook: six steps of four items. Keys only; the wording of each
# item is in templates/incidents/_checklist.j2.
CHECKLIST: dict[int, tuple[str, ...]] = {step: tuple(f"{step}.{item}" for item in range(1, 5)) for step in range(1, 7)}
CHECKLIST_KEYS = tuple(key for items in CHECKLIST.values() for key in items)


def reference(incident: Incident) -> str:
    """INC-001: how people name an incident."""
    return f"INC-{incident.number:03d}"


@dataclass(frozen=True)
class CardContext:
    """What the card and the pings show besides the incident row itself."""

    team_name: str
    level_people: dict[int, list[str]]  # who is pinged at each level
    thresholds: Thresholds
    next_escalation: tuple[int, datetime] | None

    def as_dict(self) -> dict[str, Any]:
        return {"team_name": self.team_name, "level_people": self.level_people, "thresholds": self.thresholds,
                "next_escalation": self.next_escalation}


def card_context(session: Session, incident: Incident, team: Team) -> CardContext:
    limits = thresholds(team, incident.severity)
    return CardContext(
        team_name=team.name,
        level_people={number: people_in(session, team, level.role) for number, level in LEVELS.items()},
        thresholds=limits,
        next_escalation=limits.next_escalation(incident.declared_at, incident.level) if incident.is_open else None,
    )


def _enqueue(session: Session, incident: Incident, key: str, method: str, payload: dict[str, Any], *,
             now: datetime, ref: str | None = None) -> bool:
    return outbox.enqueue(session, workspace_id=incident.workspace_id, key=key, method=method, payload=payload,
                          now=now, ref=ref)


# --- the card and its checklist ------------------------------------------------------------------------
def post_card(session: Session, incident: Incident, team: Team, *, now: datetime) -> None:
    """The card in the incident's channel, then the checklist in its thread."""
    context = card_context(session, incident, team).as_dict()
    ref = f"incident:{incident.id}:card"
    card = render.message("incidents/card.json.j2", incident=incident, **context)
    _enqueue(session, incident, ref, "chat.postMessage", {**card, "channel": incident.channel_id}, now=now, ref=ref)
    checklist_ref = f"incident:{incident.id}:checklist"
    checklist = render.message("incidents/checklist.json.j2", incident=incident, steps=CHECKLIST)
    _enqueue(session, incident, checklist_ref, "chat.postMessage", {**checklist, "thread_ref": ref}, now=now,
             ref=checklist_ref)


def tell_commander(session: Session, incident: Incident, team: Team, *, actor_id: str, key: str,
                   now: datetime) -> None:
    """A commander named by someone else hears it by DM, with the card."""
    if incident.commander_id == actor_id or not incident.commander_id:
        return
    context = card_context(session, incident, team).as_dict()
    card = render.message("incidents/card.json.j2", incident=incident, **context)
    intro = render.message("incidents/commander_dm.json.j2", incident=incident, actor_id=actor_id)
    _enqueue(session, incident, f"incident:{incident.id}:commander:{key}", "chat.postMessage",
             {"text": intro["text"], "blocks": [*intro["blocks"], *card["blocks"]][:50],
              "channel": incident.commander_id}, now=now)


def update_card(session: Session, incident: Incident, team: Team, *, now: datetime) -> None:
    """The card as it is now. Callers have raised `card_version`, so each change has its own key."""
    context = card_context(session, incident, team).as_dict()
    card = render.message("incidents/card.json.j2", incident=incident, **context)
    _enqueue(session, incident, f"incident:{incident.id}:card:v{incident.card_version}", "chat.update",
             {**card, "update_ref": f"incident:{incident.id}:card"}, now=now)


def update_checklist(session: Session, incident: Incident, *, now: datetime) -> None:
    checklist = render.message("incidents/checklist.json.j2", incident=incident, steps=CHECKLIST)
    _enqueue(session, incident, f"incident:{incident.id}:checklist:v{incident.checklist_version}", "chat.update",
             {**checklist, "update_ref": f"incident:{incident.id}:checklist"}, now=now)


def announce_in_team_channel(session: Session, incident: Incident, team: Team, *, now: datetime) -> None:
    """When the incident has a channel of its own, the team's channel hears where to follow it."""
    message = render.message("incidents/announce.json.j2", incident=incident, team_name=team.name)
    _enqueue(session, incident, f"incident:{incident.id}:announce", "chat.postMessage",
             {**message, "channel": team.home_channel_id}, now=now)


def thread_note(session: Session, incident: Incident, event: IncidentEvent, *, now: datetime,
                broadcast: bool = False) -> None:
    """A timeline event told in the card's thread (optionally also shown in the channel)."""
    note = render.message("incidents/note.json.j2", incident=incident, event=event)
    payload = {**note, "thread_ref": f"incident:{incident.id}:card"}
    if broadcast:
        payload["reply_broadcast"] = True
    _enqueue(session, incident, f"incident:{incident.id}:event:{event.id}", "chat.postMessage", payload, now=now)


def invite(session: Session, incident: Incident, users: list[str], *, now: datetime) -> list[str]:
    """Invite people into the incident's own channel (once each); returns who was newly invited."""
    new = [user for user in dict.fromkeys(users) if user not in incident.responders]
    if not incident.own_channel or not incident.channel_id or not new:
        return []
    incident.responders = [*incident.responders, *new]
    _enqueue(session, incident, f"incident:{incident.id}:invite:{len(incident.responders)}", "conversations.invite",
             {"channel": incident.channel_id, "users": ",".join(new), "force": True}, now=now)
    return new


# --- pings ---------------------------------------------------------------------------------------------
def ping_levels(session: Session, incident: Incident, team: Team, levels: list[int], *, actor_id: str,
                automatic: bool, now: datetime) -> list[str]:
    """Ping the people of `levels` (one level, or the ones a catch-up passed at once): one message
    in the incident's channel naming them all, and one DM to each. Returns who was pinged."""
    context = card_context(session, incident, team)
    top = max(levels)
    people = list(dict.fromkeys(user for level in levels for user in context.level_people[level]))
    # Nobody in the role: say so in the channel, and tell the commander instead, so no ping goes nowhere.
    direct = [user for user in people if user != actor_id] or ([incident.commander_id] if not people else [])
    ping = render.message("incidents/ping.json.j2", incident=incident, levels=levels, people=people,
                          automatic=automatic, actor_id=actor_id, **context.as_dict())
    _enqueue(session, incident, f"escalation:{incident.id}:{top}", "chat.postMessage",
             {**ping, "channel": incident.channel_id}, now=now)
    for user in direct:
        dm = render.message("incidents/ping_dm.json.j2", incident=incident, levels=levels, people=people,
                            automatic=automatic, actor_id=actor_id, **context.as_dict())
        key = f"escalation:{incident.id}:{top}:dm:{user}"
        if automatic:  # the clock's: one message per person with the others this sweep moves
            notices.hold(session, workspace_id=incident.workspace_id, person_id=user, kind="escalation", key=key,
                         message=dm, team_id=incident.team_id, now=now)
        else:
            _enqueue(session, incident, key, "chat.postMessage", {**dm, "channel": user}, now=now)
    invite(session, incident, people, now=now)
    return people


def review_reminder(session: Session, incident: Incident, team: Team, *, now: datetime) -> None:
    message = render.message("incidents/review_reminder.json.j2", incident=incident, team_name=team.name,
                             steps=CHECKLIST)
    notices.hold(session, workspace_id=incident.workspace_id, person_id=incident.commander_id,
                 kind="incident_review", key=f"incident:{incident.id}:review-reminder", message=message,
                 team_id=incident.team_id, now=now)
