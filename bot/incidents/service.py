"""Incidents: declare, acknowledge, update, escalate, tick the crisis checklist, resolve.

Every function takes a session (the caller's transaction) and `now`; it changes the incident,
writes the timeline event and the audit record, and queues what Slack must hear in the outbox,
all in that one transaction. Every change locks the incident's row first
(`storage.incidents.get_for_update`), so two people, or a person and the clock, acting on one
incident at once are applied one after the other, each seeing the other's result.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from difflib import SequenceMatcher

from sqlmodel import Session

from bot.core.errors import Problems, Refusal
from bot.incidents import messages
from bot.incidents import rules as escalation
from bot.incidents.messages import CHECKLIST, reference
from bot.incidents.rules import SEVERITIES, TOP_LEVEL
from bot.teams import may_manage, working_hours
from storage import audit
from storage import incidents as store
from storage import teams as team_store
from storage.counters import next_number
from storage.incidents import Incident
from storage.teams import Team

TITLE_MAX, SYSTEMS_MAX, TEXT_MAX = 150, 500, 3000
DUPLICATE_WINDOW = timedelta(minutes=30)
REVIEW_DAYS_DEFAULT, REVIEW_DAYS_MAX = 5, 30
CHANNEL_NAME_MAX, CHANNEL_SLUG_MAX = 80, 40
INCIDENT_REFERENCE = re.compile(r"^(?:inc-?)?0*([0-9]{1,9})$", re.IGNORECASE)


# --- declaring ------------------------------------------------------------------------------------------
@dataclass
class IncidentForm:
    """What the declaration modal says."""

    title: str
    severity: str | None
    commander_id: str
    affected_systems: str | None = None
    description: str | None = None


def validate(form: IncidentForm, *, commander_is_person: bool = True) -> None:
    problems = Problems()
    if not form.title.strip():
        problems.add("title", "incidents.title_required")
    elif len(form.title.strip()) > TITLE_MAX:
        problems.add("title", "incidents.too_long", limit=TITLE_MAX)
    if form.severity not in SEVERITIES:
        problems.add("severity", "incidents.severity_required")
    if len(form.affected_systems or "") > SYSTEMS_MAX:
        problems.add("affected_systems", "incidents.too_long", limit=SYSTEMS_MAX)
    if len(form.description or "") > TEXT_MAX:
        problems.add("description", "incidents.too_long", limit=TEXT_MAX)
    if not commander_is_person:
        problems.add("commander", "incidents.commander_not_a_person")
    problems.raise_if_any()


# Words that say nothing about what broke: "Checkout is down" and "Checkout down again" are one outage.
STOP_WORDS = frozenset("""
    a an the is are was were be been being am it its this that these those there here
    again still now just also already yet anymore currently very really totally completely
    of on in at to for from with by and or as into onto
    we our us i my you your they their some all any seems seem looks look appears appear
""".split())
WORDS_ALIKE = 0.85  # how alike two long words must be to count as one ("chekout", "checkout")


def titles_match(first: str, second: str) -> bool:
    """Whether two titles probably name the same incident ("Checkout is down" / "checkout down again").

    Both titles are reduced to their telling words (lower case, "fail-over" → "failover", stop-words
    dropped, "errors" → "error"), and a word has a counterpart in the other title when that has the
    same word, or a long word spelt nearly alike. They match when every word of one title has a
    counterpart and so do at least half of the other's ("Checkout down" / "Checkout still down for EU
    customers"), or when long titles share nearly all their words. A word on each side without a
    counterpart tells them apart: "iOS app crashes" is not "Android app crashes"."""
    words_a, words_b = title_words(first), title_words(second)
    if not words_a or not words_b:  # nothing telling (emoji, "It is down"): only the same text matches
        return first.strip().casefold() == second.strip().casefold()
    matched_a = sum(1 for word in words_a if any(_alike(word, other) for other in words_b))
    matched_b = sum(1 for word in words_b if any(_alike(word, other) for other in words_a))
    if matched_a == len(words_a) and 2 * matched_b >= len(words_b):
        return True
    if matched_b == len(words_b) and 2 * matched_a >= len(words_a):
        return True
    shared = (matched_a + matched_b) / (len(words_a) + len(words_b))
    return min(matched_a, matched_b) >= 3 and shared >= 0.7


def title_words(title: str) -> set[str]:
    """The telling words of a title, normalised."""
    text = unicodedata.normalize("NFKC", title).casefold()
    text = re.sub(r"(?<=\w)[-'’.](?=\w)", "", text)  # fail-over, can't, node.js: one word each
    return {_stem(word) for word in re.findall(r"\w+", text) if word not in STOP_WORDS}


def _stem(word: str) -> str:
    """A light stemmer for titles: "errors" → "error", "failing"/"failed"/"fails" → "fail"."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix) and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def _alike(first: str, second: str) -> bool:
    if first == second:
        return True
    if min(len(first), len(second)) < 5:
        return False
    low, high = sorted((first, second))  # SequenceMatcher is not quite symmetric: always ask in one order
    return SequenceMatcher(None, low, high).ratio() >= WORDS_ALIKE


def possible_duplicate(session: Session, team: Team, title: str, *, now: datetime) -> Incident | None:
    """The team's newest incident of the last 30 minutes whose title closely matches this one."""
    recent = store.declared_since(session, team.workspace_id, team.id, now - DUPLICATE_WINDOW)
    return next((incident for incident in recent if titles_match(incident.title, title)), None)


def declare(session: Session, team: Team, form: IncidentForm, *, actor_id: str, now: datetime) -> Incident:
    """A new incident at Level 1. Its card is placed at once in the team's channel, or, when the team
    has incident channels, by `place_card` once the handler has opened one."""
    validate(form)
    incident = Incident(
        workspace_id=team.workspace_id, team_id=team.id,
        number=next_number(session, team.workspace_id, "incident"),
        title=form.title.strip(), severity=form.severity, commander_id=form.commander_id, declared_by=actor_id,
        affected_systems=(form.affected_systems or "").strip() or None,
        description=(form.description or "").strip() or None,
        declared_at=now, level_changed_at=now, responders=[], checklist_done=[],
    )
    session.add(incident)
    session.flush()
    store.add_event(session, incident, kind="declared", actor_id=actor_id, at=now,
                    data={"severity": incident.severity, "commander": incident.commander_id})
    audit.record(session, workspace_id=team.workspace_id, actor_id=actor_id, entity_type="incident",
                 entity_id=incident.id, action="declared", after=describe(incident), at=now)
    if not team.incident_channels:
        place_card(session, incident, team, channel_id=team.home_channel_id, own_channel=False, now=now)
    return incident


def place_card(session: Session, incident: Incident, team: Team, *, channel_id: str, own_channel: bool,
               now: datetime, invited: list[str] = ()) -> bool:
    """Put the card, its checklist and the Level 1 ping in `channel_id`, once."""
    if not store.place_card(session, incident, channel_id=channel_id, own_channel=own_channel):
        return False
    incident.channel_id, incident.own_channel = channel_id, own_channel
    incident.responders = list(dict.fromkeys(invited))
    session.add(incident)
    if own_channel:
        store.add_event(session, incident, kind="channel", actor_id=audit.BOT_ACTOR, at=now, data={"channel": channel_id})
        messages.announce_in_team_channel(session, incident, team, now=now)
    messages.post_card(session, incident, team, now=now)
    messages.ping_levels(session, incident, team, [1], actor_id=incident.declared_by, automatic=False, now=now)
    messages.tell_commander(session, incident, team, actor_id=incident.declared_by, key="declared", now=now)
    return True


def channel_name(incident: Incident, attempt: int = 1) -> str:
    """#inc-001-checkout-is-down: Slack's rules (lowercase letters, digits, hyphens; ≤ 80)."""
    ascii_title = unicodedata.normalize("NFKD", incident.title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    if len(slug) > CHANNEL_SLUG_MAX:
        slug = slug[:CHANNEL_SLUG_MAX].rsplit("-", 1)[0] if "-" in slug[:CHANNEL_SLUG_MAX] else slug[:CHANNEL_SLUG_MAX]
    name = f"inc-{incident.number:03d}" + (f"-{slug}" if slug else "")
    suffix = f"-{attempt}" if attempt > 1 else ""
    return name[: CHANNEL_NAME_MAX - len(suffix)] + suffix


# --- finding one -------------------------------------------------------------------------------------------
def parse_reference(text: str | None) -> int | None:
    """"INC-001", "inc-1", "1" → 1; None when it is not an incident reference."""
    match = INCIDENT_REFERENCE.match((text or "").strip())
    return int(match.group(1)) if match else None


def find(session: Session, workspace_id: str, text: str) -> Incident:
    number = parse_reference(text)
    incident = store.by_number(session, workspace_id, number) if number is not None else None
    if incident is None:
        raise Refusal("incidents.no_such_incident", reference=text.strip())
    return incident


def _locked(session: Session, workspace_id: str, incident_id: int) -> tuple[Incident, Team]:
    incident = store.get_for_update(session, workspace_id, incident_id)
    if incident is None:
        raise Refusal("incidents.gone")
    return incident, team_store.get_team(session, workspace_id, incident.team_id)


def _changed(session: Session, incident: Incident, team: Team, *, now: datetime) -> None:
    """After any change: the card shows it."""
    incident.card_version += 1
    session.add(incident)
    session.flush()
    if incident.channel_id:
        messages.update_card(session, incident, team, now=now)


# --- acting on one ---------------------------------------------------------------------------------------------
def acknowledge(session: Session, workspace_id: str, incident_id: int, *, actor_id: str, now: datetime) -> Incident:
    incident, team = _locked(session, workspace_id, incident_id)
    if not incident.is_open:
        raise Refusal("incidents.resolved_cannot_ack", incident=reference(incident), by=incident.resolved_by)
    if incident.acknowledged_by:
        raise Refusal("incidents.already_acknowledged", incident=reference(incident), by=incident.acknowledged_by)
    incident.acknowledged_by, incident.acknowledged_at = actor_id, now
    event = store.add_event(session, incident, kind="acknowledged", actor_id=actor_id, at=now)
    _audit(session, incident, actor_id, "acknowledged", now, before={"acknowledged_by": None},
           after={"acknowledged_by": actor_id})
    _changed(session, incident, team, now=now)
    _note(session, incident, event, now=now)
    return incident


@dataclass
class UpdateForm:
    """Post update: a text, and optionally a new severity or commander.

    `opened_severity` and `opened_commander_id` are what the modal showed when it was opened: a
    field still showing that value is not a change, even if someone changed the incident meanwhile
    (so a responder's plain update is not refused, and a lead's does not undo the other change)."""

    text: str | None = None
    severity: str | None = None
    commander_id: str | None = None
    opened_severity: str | None = None
    opened_commander_id: str | None = None


def post_update(session: Session, workspace_id: str, incident_id: int, form: UpdateForm, *, actor_id: str,
                workspace_admin: bool, now: datetime, commander_is_person: bool = True) -> Incident:
    incident, team = _locked(session, workspace_id, incident_id)
    text = (form.text or "").strip()
    severity = _new_value(form.severity, opened=form.opened_severity, current=incident.severity)
    commander = _new_value(form.commander_id, opened=form.opened_commander_id, current=incident.commander_id)
    problems = Problems()
    if severity is not None and severity not in SEVERITIES:
        problems.add("severity", "incidents.severity_required")
    if commander is not None and not commander_is_person:
        problems.add("commander", "incidents.commander_not_a_person")
    if len(text) > TEXT_MAX:
        problems.add("update", "incidents.too_long", limit=TEXT_MAX)
    if not (text or severity or commander):
        problems.add("update", "incidents.update_required")
    problems.raise_if_any()
    if (severity or commander) and not _may_lead(session, team, incident, actor_id, workspace_admin):
        raise Refusal("incidents.only_commander_or_managers_may", action="change", incident=reference(incident),
                      commander=incident.commander_id, team=team.name)
    before = describe(incident)
    if severity:
        incident.severity = severity
        store.add_event(session, incident, kind="severity", actor_id=actor_id, at=now,
                        data={"from": before["severity"], "to": severity})
    if commander:
        incident.commander_id = commander
        named = store.add_event(session, incident, kind="commander", actor_id=actor_id, at=now,
                                data={"from": before["commander"], "to": commander})
        messages.invite(session, incident, [commander], now=now)
        messages.tell_commander(session, incident, team, actor_id=actor_id, key=f"event:{named.id}", now=now)
    event = None
    if text:
        incident.latest_update, incident.latest_update_by, incident.latest_update_at = text, actor_id, now
        event = store.add_event(session, incident, kind="update", actor_id=actor_id, at=now, text=text)
    _audit(session, incident, actor_id, "updated", now, before=before, after=describe(incident))
    _changed(session, incident, team, now=now)
    if event is not None:
        _note(session, incident, event, now=now)
    return incident


def _new_value(value: str | None, *, opened: str | None, current: str) -> str | None:
    """The value a field changes to, or None: left empty, left as the modal showed it, or already so."""
    if not value or value == current or (opened is not None and value == opened):
        return None
    return value


def resolve(session: Session, workspace_id: str, incident_id: int, *, summary: str | None, actor_id: str,
            workspace_admin: bool, now: datetime, review_days: int = REVIEW_DAYS_DEFAULT) -> Incident:
    """Resolve with a summary; stops escalation and schedules the post-incident review reminder."""
    incident, team = _locked(session, workspace_id, incident_id)
    _require_resolvable(session, incident, team, actor_id, workspace_admin)
    summary = (summary or "").strip()
    problems = Problems()
    if not summary:
        problems.add("summary", "incidents.summary_required")
    elif len(summary) > TEXT_MAX:
        problems.add("summary", "incidents.too_long", limit=TEXT_MAX)
    if not 1 <= review_days <= REVIEW_DAYS_MAX:
        problems.add("review_days", "incidents.bad_review_days", high=REVIEW_DAYS_MAX)
    problems.raise_if_any()
    before = describe(incident)
    incident.status, incident.resolved_by, incident.resolved_at, incident.summary = store.RESOLVED, actor_id, now, summary
    # The reminder lands in working hours: five days after a Thursday evening is Tuesday morning.
    incident.review_due_at = working_hours(team).next_working_moment(now + timedelta(days=review_days))
    event = store.add_event(session, incident, kind="resolved", actor_id=actor_id, at=now, text=summary,
                            data={"review_due_at": incident.review_due_at.isoformat()})
    _audit(session, incident, actor_id, "resolved", now, before=before, after=describe(incident))
    _changed(session, incident, team, now=now)
    _note(session, incident, event, now=now, broadcast=True)
    return incident


def check_may_resolve(session: Session, workspace_id: str, incident_id: int, *, actor_id: str,
                      workspace_admin: bool) -> Incident:
    """The incident, if it is open and this person may resolve it; else the refusal resolving would
    get. For asking before the summary is written; `resolve` checks again."""
    incident = store.get(session, workspace_id, incident_id)
    if incident is None:
        raise Refusal("incidents.gone")
    _require_resolvable(session, incident, team_store.get_team(session, workspace_id, incident.team_id), actor_id,
                        workspace_admin)
    return incident


def _require_resolvable(session: Session, incident: Incident, team: Team, actor_id: str,
                        workspace_admin: bool) -> None:
    if not incident.is_open:
        raise Refusal("incidents.already_resolved", incident=reference(incident), by=incident.resolved_by)
    if not _may_lead(session, team, incident, actor_id, workspace_admin):
        raise Refusal("incidents.only_commander_or_managers_may", action="resolve", incident=reference(incident),
                      commander=incident.commander_id, team=team.name)


def escalate_now(session: Session, workspace_id: str, incident_id: int, *, actor_id: str, now: datetime,
                 seen_level: int | None = None) -> Incident:
    """Escalate one level by hand. `seen_level`: the level the person saw on the card; if the clock
    moved it meanwhile, they are told instead of escalating twice."""
    incident, team = _locked(session, workspace_id, incident_id)
    if not incident.is_open:
        raise Refusal("incidents.resolved_cannot_escalate", incident=reference(incident))
    if seen_level is not None and seen_level != incident.level:
        raise Refusal("incidents.level_changed", incident=reference(incident), level=incident.level)
    if incident.level >= TOP_LEVEL:
        raise Refusal("incidents.already_top_level", incident=reference(incident))
    move_to_level(session, incident, team, incident.level + 1, actor_id=actor_id, automatic=False, now=now)
    return incident


def move_to_level(session: Session, incident: Incident, team: Team, to_level: int, *, actor_id: str,
                  automatic: bool, now: datetime, from_level: int | None = None) -> bool:
    """Raise the level from `from_level` (by default the one the row showed when read) to `to_level`:
    a compare-and-set, then ping every level passed, update the card, write the timeline and the
    audit log. False, and nothing written, when the level was no longer `from_level`."""
    from_level = incident.level if from_level is None else from_level
    if to_level <= from_level:
        return False
    if not store.move_level(session, incident, from_level=from_level, to_level=to_level, now=now):
        return False
    session.refresh(incident)
    store.add_event(session, incident, kind="escalated", actor_id=actor_id, at=now,
                    data={"from": from_level, "to": to_level, "automatic": automatic})
    _audit(session, incident, actor_id, "escalated", now, before={"level": from_level},
           after={"level": to_level, "automatic": automatic})
    messages.ping_levels(session, incident, team, list(range(from_level + 1, to_level + 1)), actor_id=actor_id,
                         automatic=automatic, now=now)
    session.add(incident)
    session.flush()
    if incident.channel_id:
        messages.update_card(session, incident, team, now=now)
    return True


def tick(session: Session, workspace_id: str, incident_id: int, step: int, wanted: dict[str, bool], *,
         actor_id: str, now: datetime) -> list[tuple[str, bool]]:
    """Tick or untick items of one step of the checklist (`wanted`: {item: ticked}, only the items
    the person changed); the others stay as they are. Returns what changed (key, ticked)."""
    incident, team = _locked(session, workspace_id, incident_id)
    items = CHECKLIST[step]
    done = set(incident.checklist_done)
    changes = [(key, wanted[key]) for key in items if key in wanted and wanted[key] != (key in done)]
    if not changes:
        return []
    after = (done | {key for key, ticked in changes if ticked}) - {key for key, ticked in changes if not ticked}
    incident.checklist_done = [key for key in messages.CHECKLIST_KEYS if key in after]
    for key, ticked in changes:
        store.add_event(session, incident, kind="checklist", actor_id=actor_id, at=now,
                        data={"item": key, "done": ticked})
    _audit(session, incident, actor_id, "checklist", now, before={"done": sorted(done)},
           after={"done": incident.checklist_done})
    incident.checklist_version += 1
    _changed(session, incident, team, now=now)
    messages.update_checklist(session, incident, now=now)
    return changes


def _may_lead(session: Session, team: Team, incident: Incident, actor_id: str, workspace_admin: bool) -> bool:
    """The commander, the team's leads and engineering managers, and workspace admins."""
    return may_manage(session, team, actor_id, workspace_admin=workspace_admin, also=[incident.commander_id])


def _note(session: Session, incident: Incident, event, *, now: datetime, broadcast: bool = False) -> None:
    if incident.channel_id:
        messages.thread_note(session, incident, event, now=now, broadcast=broadcast)


def _audit(session: Session, incident: Incident, actor_id: str, action: str, now: datetime, *, before=None,
           after=None) -> None:
    audit.record(session, workspace_id=incident.workspace_id, actor_id=actor_id, entity_type="incident",
                 entity_id=incident.id, action=action, before=before, after=after, at=now)


def describe(incident: Incident) -> dict:
    """An incident as plain data, for the audit log."""
    return {"reference": reference(incident), "title": incident.title, "severity": incident.severity,
            "commander": incident.commander_id, "status": incident.status, "level": incident.level}


# --- the team's escalation matrix ----------------------------------------------------------------
def save_thresholds(session: Session, team: Team, values: dict[str, str | None], *, actor_id: str,
                    now: datetime) -> dict[str, escalation.Thresholds]:
    """Change some severities' thresholds (the others keep theirs) and audit it."""
    changed = escalation.validate_thresholds(values)
    before = {severity: [t.level2, t.level3] for severity, t in escalation.all_thresholds(team).items()}
    after = {**before, **{severity: [t.level2, t.level3] for severity, t in changed.items()}}
    if after != before:
        # Store only what differs from the guide, so a later change of the defaults reaches everyone else.
        team.escalation_hours = {s: hours for s, hours in after.items() if tuple(hours) != escalation.DEFAULT_HOURS} or None
        team.updated_at = now
        session.add(team)
        audit.record(session, workspace_id=team.workspace_id, actor_id=actor_id, entity_type="team",
                     entity_id=team.id, action="escalation_changed", before=before, after=after, at=now)
    return escalation.all_thresholds(team)
