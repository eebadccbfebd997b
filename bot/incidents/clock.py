"""What the clock does for incidents: escalate what came due, remind of post-incident reviews, and
place any card a crashed process left unplaced.

Safe with any number of clocks on one database, and after downtime: each sweep derives what is due
from the rows at `now` (an incident 50 h old is due at Level 3, however many sweeps were missed), and
each move is a compare-and-set on the incident's row plus outbox rows under unique keys, in one
transaction. Of two clocks that find the same due escalation, one moves the level and queues the
ping; the other's compare-and-set changes nothing and it queues nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.incidents import messages
from bot.incidents import service as incidents
from bot.incidents.rules import thresholds
from bot.teams import notices
from storage import audit
from storage import incidents as store
from storage import teams as team_store
from storage.db import Database

log = logging.getLogger(__name__)

# A declaration in a team with incident channels places its card within seconds; one still
# unplaced after this long lost its process, and the card goes to the team's channel instead.
PLACEMENT_GRACE = timedelta(minutes=2)


@dataclass(frozen=True)
class DueEscalation:
    workspace_id: str
    incident_id: int
    from_level: int
    to_level: int


def due_escalations(db: Database, *, now: datetime) -> list[DueEscalation]:
    """Every open incident whose level is below the one its age calls for. A workspace whose rows
    cannot be read is logged and left for the next sweep; the others' escalations still go out."""
    with db.transaction() as session:
        workspaces = team_store.workspaces(session)
    due: list[DueEscalation] = []
    for workspace_id in workspaces:
        try:
            due.extend(_due_in(db, workspace_id, now=now))
        except Exception:
            log.exception("finding due escalations in %s failed; retrying at the next sweep", workspace_id)
    return due


def _due_in(db: Database, workspace_id: str, *, now: datetime) -> list[DueEscalation]:
    due: list[DueEscalation] = []
    with db.transaction() as session:
        teams = {team.id: team for team in team_store.teams(session, workspace_id)}
        for incident in store.escalation_candidates(session, workspace_id):
            team = teams.get(incident.team_id)
            if team is None:
                continue
            level = thresholds(team, incident.severity).due_level(incident.declared_at, now)
            if level > incident.level:
                due.append(DueEscalation(workspace_id, incident.id, incident.level, level))
    return due


def apply_escalation(db: Database, due: DueEscalation, *, now: datetime, release: bool = True) -> bool:
    """Move one incident from `due.from_level` to `due.to_level` unless someone else already did.
    Its DMs are held; `release` sends them in the same transaction (the sweep releases them all at its
    end instead, one message per person)."""
    with db.transaction() as session:
        incident = store.get(session, due.workspace_id, due.incident_id)
        team = team_store.get_team(session, due.workspace_id, incident.team_id) if incident else None
        if incident is None or team is None:
            return False
        moved = incidents.move_to_level(session, incident, team, due.to_level, actor_id=audit.BOT_ACTOR,
                                        automatic=True, from_level=due.from_level, now=now)
        if moved and release:
            notices.release_held(session, now=now)
        return moved


def escalate_due(db: Database, *, now: datetime) -> int:
    """The escalation sweep: returns how many incidents this clock moved."""
    moved = 0
    for due in due_escalations(db, now=now):
        try:
            moved += apply_escalation(db, due, now=now, release=False)
        except Exception:  # one broken incident must not stop the others' escalations
            log.exception("escalating incident %s failed; retrying at the next sweep", due.incident_id)
    with db.transaction() as session:  # the DMs of this sweep: one message per person and kind
        notices.release_held(session, now=now)
    return moved


def place_unplaced_cards(db: Database, *, now: datetime) -> int:
    """Cards whose incident channel was never opened (the process died) go to the team's channel.
    One card that cannot be placed is logged and retried at the next sweep; the others are placed."""
    placed = 0
    with db.transaction() as session:
        stuck = [(incident.workspace_id, incident.id) for workspace_id in team_store.workspaces(session)
                 for incident in store.unplaced(session, workspace_id, now - PLACEMENT_GRACE)]
    for workspace_id, incident_id in stuck:
        try:
            with db.transaction() as session:
                incident = store.get(session, workspace_id, incident_id)
                team = team_store.get_team(session, workspace_id, incident.team_id) if incident else None
                if incident is None or team is None:
                    continue
                placed += incidents.place_card(session, incident, team, channel_id=team.home_channel_id,
                                               own_channel=False, now=now)
        except Exception:
            log.exception("placing the card of incident %s failed; retrying at the next sweep", incident_id)
    return placed


def remind_reviews(db: Database, *, now: datetime) -> int:
    """DM each resolved incident's commander once its post-incident review is due."""
    reminded = 0
    with db.transaction() as session:
        due = [(incident.workspace_id, incident.id) for workspace_id in team_store.workspaces(session)
               for incident in store.reviews_due(session, workspace_id, now)]
    for workspace_id, incident_id in due:
        try:
            reminded += _remind_review(db, workspace_id, incident_id, now=now)
        except Exception:  # one broken incident must not keep the others' reminders back
            log.exception("reminding of the review of incident %s failed; retrying at the next sweep", incident_id)
    with db.transaction() as session:  # one message per commander, however many reviews came due
        notices.release_held(session, now=now)
    return reminded


def _remind_review(db: Database, workspace_id: str, incident_id: int, *, now: datetime) -> bool:
    with db.transaction() as session:
        incident = store.get(session, workspace_id, incident_id)
        if incident is None or not store.mark_review_reminded(session, incident, now=now):
            return False  # gone, or another clock sent it
        team = team_store.get_team(session, workspace_id, incident.team_id)
        messages.review_reminder(session, incident, team, now=now)
        store.add_event(session, incident, kind="review_reminder", actor_id=audit.BOT_ACTOR, at=now,
                        data={"to": incident.commander_id})
        audit.record(session, workspace_id=workspace_id, actor_id=audit.BOT_ACTOR, entity_type="incident",
                     entity_id=incident.id, action="review_reminded", after={"to": incident.commander_id},
                     at=now)
    return True


def sweep(db: Database, *, now: datetime) -> None:
    """The clock's minutely job: place stuck cards, then escalate what is due. A failure in the first
    must not hold back the escalations (each of which is isolated too, in `escalate_due`)."""
    try:
        place_unplaced_cards(db, now=now)
    except Exception:
        log.exception("placing unplaced incident cards failed; escalating anyway")
    escalate_due(db, now=now)
