"""Risks as plain values for templates and exports: one risk with its checklist and band, and
its history read back from the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.risks.rules import LEVELS, band_of, bands_from, checkbox_text, label
from storage import audit
from storage import risks as store
from storage.risks import Risk, RiskAction
from storage.teams import Team

CHECKBOXES_PER_BLOCK = 10  # Slack's limit for one checkboxes element


@dataclass(frozen=True)
class ActionView:
    id: int
    text: str
    head: str  # what fits in a checkbox's text
    tail: str | None  # the rest, shown as the checkbox's description
    done: bool
    done_by: str | None
    done_at: datetime | None


@dataclass(frozen=True)
class RiskView:
    id: int
    label: str  # QR-001
    team: str
    title: str
    description: str
    category: str
    probability: int
    impact: int
    score: int
    band: str
    owner_id: str
    review_by: date | None
    review_due: bool  # the review date has come and the risk is still open
    status: str
    response: str | None
    closing_note: str | None
    closed_by: str | None
    closed_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    actions: tuple[ActionView, ...]

    @property
    def is_open(self) -> bool:
        return self.status == store.OPEN

    @property
    def probability_word(self) -> str:
        return LEVELS.get(self.probability, "")

    @property
    def impact_word(self) -> str:
        return LEVELS.get(self.impact, "")

    @property
    def done_count(self) -> int:
        return sum(1 for action in self.actions if action.done)

    @property
    def checklist_blocks(self) -> list[tuple[int, tuple[ActionView, ...]]]:
        """The checklist cut into checkboxes elements of at most ten, numbered from 0."""
        size = CHECKBOXES_PER_BLOCK
        return [(n, self.actions[i:i + size]) for n, i in enumerate(range(0, len(self.actions), size))]


def describe(session: Session, risk: Risk, team: Team, *, now: datetime,
             actions: list[RiskAction] | None = None) -> RiskView:
    """A risk as its card, DM, list row and export show it, at `now`."""
    actions = store.actions_of(session, risk) if actions is None else actions
    today = now.astimezone(ZoneInfo(team.timezone)).date()
    return RiskView(
        id=risk.id, label=label(risk.number), team=team.name, title=risk.title, description=risk.description,
        category=risk.category, probability=risk.probability, impact=risk.impact, score=risk.score,
        band=band_of(risk.score, bands_from(team.risk_bands)), owner_id=risk.owner_id, review_by=risk.review_by,
        review_due=risk.is_open and risk.review_by is not None and risk.review_by <= today,
        status=risk.status, response=risk.response, closing_note=risk.closing_note, closed_by=risk.closed_by,
        closed_at=risk.closed_at, created_by=risk.created_by, created_at=risk.created_at,
        updated_at=risk.updated_at, actions=tuple(_action(a) for a in actions))


def describe_many(session: Session, risks: list[Risk], teams_by_id: dict[int, Team], *,
                  now: datetime) -> list[RiskView]:
    """Several risks with their checklists read in one query (lists, exports)."""
    if not risks:
        return []
    checklists = store.actions_by_risk(session, risks[0].workspace_id, [r.id for r in risks])
    return [describe(session, r, teams_by_id[r.team_id], now=now, actions=checklists[r.id]) for r in risks]


def _action(action: RiskAction) -> ActionView:
    head, tail = checkbox_text(action.text)
    return ActionView(id=action.id, text=action.text, head=head, tail=tail, done=action.done,
                      done_by=action.done_by, done_at=action.done_at)


# --- history -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HistoryEntry:
    """One audited change: `action` is created, edited, rescored, action_done,
    action_reopened or closed; `before` and `after` are what the audit log recorded."""

    at: datetime
    actor_id: str
    action: str
    before: dict[str, Any]
    after: dict[str, Any]


def history_of(session: Session, risk: Risk) -> list[HistoryEntry]:
    """Everything that happened to a risk, oldest first, from the audit log."""
    return [HistoryEntry(at=e.at, actor_id=e.actor_id, action=e.action, before=e.before or {}, after=e.after or {})
            for e in audit.history(session, risk.workspace_id, "risk", risk.id)]
