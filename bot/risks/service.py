"""The quality risk register (guide, section 5.1): logging, re-scoring, the mitigation
checklist, closing, band thresholds and reminders of review dates.

Every change happens in the caller's transaction, is audited, and re-renders the risk's card in
the team's channel through the outbox: the card is posted once under the ref `risk:{id}:card`,
and each later version of the risk (`Risk.version`) queues one chat.update of it, keyed by that
version. A change holds the risk's row locked (FOR UPDATE) while it renders the card, and the
version is counted in the database, so that two changes at once never share a version (a shared
key would drop the later update). The rules themselves (IDs, levels, bands, validation) are in
bot/risks/rules.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from types import EllipsisType
from typing import Any

from sqlmodel import Session

from bot import teams
from bot.core import render
from bot.core.errors import Problems, Refusal
from bot.risks import messages
from bot.risks.rules import (
    DEFAULT_BANDS,
    RESPONSES,
    RiskForm,
    band_of,
    bands_from,
    check_levels,
    check_note,
    check_review_date,
    label,
    level,
    parse_bands,
    validate,
)
from bot.risks.view import RiskView, describe, describe_many, history_of
from storage import audit, counters
from storage import risks as store
from storage import teams as team_store
from storage.db import ID_MAX
from storage.risks import Risk, RiskAction
from storage.teams import Team


def bands_of(team: Team) -> dict[str, int]:
    return bands_from(team.risk_bands)


# --- logging a risk ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Logged:
    risk: Risk
    shown: RiskView  # the risk as its card shows it


def log_risk(session: Session, team: Team, form: RiskForm, *, actor_id: str, now: datetime,
             owner_is_person: bool = True) -> Logged:
    """Register a new risk with the next QR number of the workspace, post its card, tell its owner."""
    validate(form, owner_is_person=owner_is_person, today=teams.local_today(team, now))
    probability, impact = level(form.probability), level(form.impact)
    risk = Risk(workspace_id=team.workspace_id, team_id=team.id,
                number=counters.next_number(session, team.workspace_id, "risk"),
                title=form.title.strip(), description=(form.description or "").strip(), category=form.category,
                probability=probability, impact=impact, score=probability * impact, owner_id=form.owner_id,
                review_by=form.review_by, created_by=actor_id, created_at=now, updated_at=now)
    session.add(risk)
    session.flush()
    for position, text in enumerate(form.actions):
        session.add(RiskAction(risk_id=risk.id, workspace_id=risk.workspace_id, position=position, text=text))
    session.flush()
    _audit(session, risk, actor_id, "created", now, after=_snapshot(session, risk, team))
    shown = describe(session, risk, team, now=now)
    messages.post_card(session, risk, team, shown, now=now)
    messages.tell_owner(session, risk, shown, actor_id, now=now)
    return Logged(risk, shown)


# --- finding a risk to change ----------------------------------------------------------------------
def open_risk(session: Session, workspace_id: str, risk_id: int | str | None) -> tuple[Risk, Team]:
    """The risk a button or modal names, locked for the change; a polite refusal when it was
    deleted or is closed."""
    risk = _existing(session, workspace_id, risk_id, for_update=True)
    if not risk.is_open:
        raise Refusal("risks.already_closed", risk=label(risk.number), response=risk.response,
                      closed_by=risk.closed_by)
    return risk, team_store.get_team(session, workspace_id, risk.team_id)


def _existing(session: Session, workspace_id: str, risk_id: int | str | None, *, for_update: bool = False) -> Risk:
    number = str(risk_id or "").strip()
    # "²".isdigit() is True but int("²") fails; a forged huge number is not one of ours either
    looks_like_an_id = (number.isascii() and number.isdecimal() and len(number) <= len(str(ID_MAX))
                       and 0 < int(number) <= ID_MAX)
    risk = store.get_risk(session, workspace_id, int(number), for_update=for_update) if looks_like_an_id else None
    if risk is None:
        raise Refusal("risks.gone")
    return risk


def require_editor(session: Session, risk: Risk, team: Team, actor_id: str, *, workspace_admin: bool,
                   action: str) -> None:
    """Edits and re-scores: the owner, whoever logged it, the team's leads and managers, admins."""
    if not teams.may_manage(session, team, actor_id, workspace_admin=workspace_admin,
                            also=[risk.owner_id, risk.created_by]):
        raise Refusal("risks.only_editors_may", action=action, risk=label(risk.number), team=team.name)


def require_closer(session: Session, risk: Risk, team: Team, actor_id: str, *, workspace_admin: bool) -> None:
    """Closing: the owner, the team's leads and engineering managers, workspace admins."""
    teams.require_manager(session, team, actor_id, workspace_admin=workspace_admin, action="close_risk",
                          also=[risk.owner_id], also_label=render.phrase("risks.owner_of", risk=label(risk.number)))


# --- changing a risk -----------------------------------------------------------------------------
def edit_risk(session: Session, risk: Risk, team: Team, form: RiskForm, *, actor_id: str, now: datetime,
              workspace_admin: bool = False, owner_is_person: bool = True) -> bool:
    """Change what a risk says (not its score). Returns whether anything changed."""
    require_editor(session, risk, team, actor_id, workspace_admin=workspace_admin, action="edit")
    validate(form, owner_is_person=owner_is_person, today=teams.local_today(team, now),
             previous_review_by=risk.review_by, scored=False)
    before = _snapshot(session, risk, team)
    previous_owner = risk.owner_id
    risk.title, risk.description = form.title.strip(), (form.description or "").strip()
    risk.category, risk.owner_id = form.category, form.owner_id
    if risk.review_by != form.review_by:
        risk.review_by, risk.review_reminded_for = form.review_by, None
    _replace_actions(session, risk, form.actions)
    after = _snapshot(session, risk, team)
    changed = {key for key in after if after[key] != before[key]}
    if not changed:
        return False
    _audit(session, risk, actor_id, "edited", now, before={k: before[k] for k in sorted(changed)},
           after={k: after[k] for k in sorted(changed)})
    shown = new_version(session, risk, team, now=now)
    if risk.owner_id != previous_owner:
        messages.tell_owner(session, risk, shown, actor_id, now=now)
    return True


def rescore(session: Session, risk: Risk, team: Team, probability: str | int | None, impact: str | int | None,
            note: str | None, *, actor_id: str, now: datetime, workspace_admin: bool = False,
            review_by: date | None | EllipsisType = ...) -> None:
    """A new assessment: probability, impact, why, and the next review date (None clears it;
    left out, it stays as it is)."""
    require_editor(session, risk, team, actor_id, workspace_admin=workspace_admin, action="rescore")
    if review_by is ...:
        review_by = risk.review_by
    problems = Problems()
    check_levels(problems, probability, impact)
    check_note(problems, note, required=False)
    check_review_date(problems, review_by, today=teams.local_today(team, now), previous=risk.review_by)
    problems.raise_if_any()
    bands = bands_of(team)
    before = {"probability": risk.probability, "impact": risk.impact, "score": risk.score,
              "band": band_of(risk.score, bands), "review_by": _iso(risk.review_by)}
    risk.probability, risk.impact = level(probability), level(impact)
    risk.score = risk.probability * risk.impact
    if risk.review_by != review_by:
        risk.review_by, risk.review_reminded_for = review_by, None
    after = {"probability": risk.probability, "impact": risk.impact, "score": risk.score,
             "band": band_of(risk.score, bands), "review_by": _iso(risk.review_by), "note": (note or "").strip()}
    if (before["score"], before["probability"], before["review_by"]) == (after["score"], after["probability"],
                                                                         after["review_by"]) and not after["note"]:
        return  # nothing changed: nothing to record or tell
    _audit(session, risk, actor_id, "rescored", now, before=before, after=after)
    new_version(session, risk, team, now=now, note=("risks/rescored_note.json.j2",
                                                 {"before": before, "after": after, "actor_id": actor_id}))


def tick(session: Session, risk: Risk, team: Team, wanted: dict[int, bool], *, actor_id: str,
         now: datetime) -> list[RiskAction]:
    """Mark checklist items done or not done (`wanted`: {action id: done}); anyone may, and the
    audit log says who. Returns the items that changed; the card is refreshed either way, so a
    stale tick on someone's screen is put right."""
    changed = []
    for action in store.actions_of(session, risk):
        if action.id in wanted and action.done != wanted[action.id]:
            action.done = wanted[action.id]
            action.done_by, action.done_at = (actor_id, now) if action.done else (None, None)
            session.add(action)
            _audit(session, risk, actor_id, "action_done" if action.done else "action_reopened", now,
                   after={"action": action.text})
            changed.append(action)
    new_version(session, risk, team, now=now)
    return changed


def close_risk(session: Session, risk: Risk, team: Team, response: str | None, note: str | None, *,
               actor_id: str, now: datetime, workspace_admin: bool = False) -> None:
    """Close with the guide's responses (mitigated, accepted, transferred, avoided) and a note."""
    require_closer(session, risk, team, actor_id, workspace_admin=workspace_admin)
    problems = Problems()
    if response not in RESPONSES:
        problems.add("response", "risks.unknown_response")
    check_note(problems, note, required=True)
    problems.raise_if_any()
    note = note.strip()
    risk.status, risk.response, risk.closing_note = store.CLOSED, response, note
    risk.closed_by, risk.closed_at = actor_id, now
    open_actions = [a.text for a in store.actions_of(session, risk) if not a.done]
    _audit(session, risk, actor_id, "closed", now,
           after={"response": response, "note": note, "open_actions": open_actions})
    new_version(session, risk, team, now=now, note=("risks/closed_note.json.j2", {"risk": risk}))


def set_bands(session: Session, team: Team, values: dict[str, Any], *, actor_id: str, now: datetime,
              workspace_admin: bool = False) -> tuple[dict[str, int], int]:
    """Change a team's band thresholds (the lowest score of medium, high, critical) and
    re-render the cards of its open risks, whose bands may have moved. Returns the thresholds
    and how many cards are being updated (0 when nothing changed)."""
    if not teams.may_manage(session, team, actor_id, workspace_admin=workspace_admin):
        raise Refusal("risks.only_managers_may_change_bands", team=team.name)
    parsed = parse_bands(values)
    before = bands_of(team)
    if parsed == before:
        return before, 0
    team.risk_bands = None if parsed == DEFAULT_BANDS else parsed
    team.updated_at = now
    session.add(team)
    audit.record(session, workspace_id=team.workspace_id, actor_id=actor_id, entity_type="team", entity_id=team.id,
                 action="risk_bands_changed", before=before, after=parsed, at=now)
    cards = store.open_risks(session, team.workspace_id, team.id, for_update=True)  # changes in flight finish first
    for risk in cards:
        new_version(session, risk, team, now=now)
    return parsed, len(cards)


# --- detail ----------------------------------------------------------------------------------------
def risk_detail(session: Session, workspace_id: str, *, number: int | None = None, risk_id: int | str | None = None,
                now: datetime) -> dict[str, Any]:
    """What `/qms risk QR-007` (by number) or a View button (by row id) shows: the risk and its
    history from the audit log."""
    if number is not None:
        risk = store.risk_by_number(session, workspace_id, number)
        if risk is None:
            raise Refusal("risks.no_such_risk", risk=label(number))
    else:
        risk = _existing(session, workspace_id, risk_id)
    team = team_store.get_team(session, workspace_id, risk.team_id)
    return {"risk": describe(session, risk, team, now=now), "history": history_of(session, risk)}


def checklist_part(session: Session, risk: Risk, part: int, size: int = 10) -> list[RiskAction]:
    """The items of one checkboxes element of the card (ten to an element, numbered from 0)."""
    return store.actions_of(session, risk)[part * size:(part + 1) * size]


# --- registers -----------------------------------------------------------------------------------
PAGE_SIZE = 10


def listing(session: Session, workspace_id: str, user_id: str, scope: str, team_id: int | None, *, page: int,
            now: datetime) -> dict[str, Any]:
    """One page of a register, as risks/list.json.j2 shows it. scope: "open" (the team's open
    risks), "all" (closed too) or "mine" (the open risks `user_id` owns, in any team). A page
    past the end (the register shrank since its button was drawn) shows the last one."""
    team = team_store.get_team(session, workspace_id, team_id) if team_id is not None else None
    if scope != "mine" and team is None:
        raise Refusal("teams.team_gone")
    owner_id = user_id if scope == "mine" else None

    def fetch(number: int) -> store.Page:
        return store.register_page(session, workspace_id, team_id=team_id, owner_id=owner_id,
                                   include_closed=scope == "all", offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)

    page = max(page, 1)
    found = fetch(page)
    pages = max(1, -(-found.total // PAGE_SIZE))
    if page > pages:
        page = pages
        found = fetch(page)
    teams_by_id = {t.id: t for t in team_store.teams(session, workspace_id)}

    def turn(to: int) -> str | None:
        return json.dumps({"scope": scope, "team": team_id, "page": to}) if 1 <= to <= pages and to != page else None

    return {"scope": scope, "team": team.name if team else None, "total": found.total, "page": page,
            "pages": pages, "rows": describe_many(session, found.risks, teams_by_id, now=now),
            "previous": turn(page - 1), "next": turn(page + 1)}


# --- inside -----------------------------------------------------------------------------------------
def _replace_actions(session: Session, risk: Risk, lines: list[str]) -> None:
    """Keep the items whose text is unchanged (with their ticks); add new lines; drop the rest."""
    existing = store.actions_of(session, risk)
    unused = list(existing)
    for position, text in enumerate(lines):
        kept = next((a for a in unused if a.text == text), None)
        if kept is not None:
            unused.remove(kept)
            kept.position = position
            session.add(kept)
        else:
            session.add(RiskAction(risk_id=risk.id, workspace_id=risk.workspace_id, position=position, text=text))
    for gone in unused:
        store.remove_action(session, gone)
    session.flush()


def new_version(session: Session, risk: Risk, team: Team, *, now: datetime,
                note: tuple[str, dict[str, Any]] | None = None) -> RiskView:
    """A new version of the risk: update its card in place, and say why under it if asked. The
    caller holds the risk locked (open_risk, or FOR UPDATE), so the card shows what is committed
    plus this change; the version is counted in the database all the same. Returns the card's view."""
    session.add(risk)
    session.flush()
    store.bump_version(session, risk, now=now)
    shown = describe(session, risk, team, now=now)
    messages.update_card(session, risk, shown, now=now, note=note)
    return shown


def _snapshot(session: Session, risk: Risk, team: Team) -> dict[str, Any]:
    """A risk as plain data, for the audit log."""
    return {"id": label(risk.number), "team": team.name, "title": risk.title, "description": risk.description,
            "category": risk.category, "probability": risk.probability, "impact": risk.impact, "score": risk.score,
            "band": band_of(risk.score, bands_of(team)), "owner": risk.owner_id, "review_by": _iso(risk.review_by),
            "actions": [a.text for a in store.actions_of(session, risk)]}


def _audit(session: Session, risk: Risk, actor_id: str, action: str, now: datetime, *,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
    audit.record(session, workspace_id=risk.workspace_id, actor_id=actor_id, entity_type="risk",
                 entity_id=risk.id, action=action, before=before, after=after, at=now)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
