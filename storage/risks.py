"""The quality risk register (guide, section 5.1): risks and their mitigation checklists.

A risk's `number` is its per-workspace ID (QR-001 is number 1), taken from storage.counters.
Its `score` (probability × impact) is stored so that registers sort and digests rank in SQL;
its band is not: bands are a team setting and may change, so the domain derives them.

The query functions at the bottom (`risk_figures`, `open_score_counts`, `overdue_reviews`)
are for the digests: plain values over indexed columns, no Slack and no wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable

from sqlalchemy import Index, Text, UniqueConstraint, case, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Field, Session, SQLModel, func, select

from storage.types import UTCDateTime

OPEN, CLOSED = "open", "closed"


class Risk(SQLModel, table=True):
    __tablename__ = "risk"
    __table_args__ = (
        UniqueConstraint("workspace_id", "number", name="uq_risk_number"),
        Index("ix_risk_team_status_score", "workspace_id", "team_id", "status", "score"),
        Index("ix_risk_team_created", "workspace_id", "team_id", "created_at"),
        Index("ix_risk_team_closed", "workspace_id", "team_id", "closed_at"),
        Index("ix_risk_owner", "workspace_id", "owner_id", "status"),
        Index("ix_risk_review_by", "workspace_id", "status", "review_by"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE")
    number: int  # QR-001 is 1
    title: str = Field(max_length=150)
    description: str = Field(default="", sa_type=Text)
    category: str = Field(max_length=16)  # technical | process | organizational
    probability: int  # 1–5
    impact: int  # 1–5
    score: int  # probability × impact, 1–25
    owner_id: str = Field(max_length=32)
    review_by: date | None = None
    review_reminded_for: date | None = None  # the review_by date its owner was last reminded of
    status: str = Field(default=OPEN, max_length=8)
    response: str | None = Field(default=None, max_length=16)  # mitigated | accepted | transferred | avoided
    closing_note: str | None = Field(default=None, sa_type=Text)
    closed_by: str | None = Field(default=None, max_length=32)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    version: int = 1  # bumped by every change: names the card update it causes in the outbox

    @property
    def is_open(self) -> bool:
        return self.status == OPEN


class RiskAction(SQLModel, table=True):
    """One line of a risk's mitigation checklist."""

    __tablename__ = "risk_action"
    __table_args__ = (Index("ix_risk_action_risk", "risk_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    risk_id: int = Field(foreign_key="risk.id", ondelete="CASCADE")
    workspace_id: str = Field(max_length=32)
    position: int
    text: str = Field(max_length=150)
    done: bool = False
    done_by: str | None = Field(default=None, max_length=32)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- one risk ------------------------------------------------------------------------------------
def get_risk(session: Session, workspace_id: str, risk_id: int, *, for_update: bool = False) -> Risk | None:
    """A risk by its row id; `for_update` locks it (PostgreSQL) so concurrent changes queue up,
    and reads it afresh once the lock is ours."""
    query = select(Risk).where(Risk.workspace_id == workspace_id, Risk.id == risk_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.exec(query).first()


def bump_version(session: Session, risk: Risk, *, now: datetime) -> int:
    """The risk's next version, counted in the database (`version + 1`, returned), so that a
    change never writes back a version it read before another change committed. Returns it."""
    table = Risk.__table__
    version = session.execute(
        update(table)
        .where(table.c.id == risk.id, table.c.workspace_id == risk.workspace_id)
        .values(version=table.c.version + 1, updated_at=now)
        .returning(table.c.version)
    ).scalar_one()
    set_committed_value(risk, "version", version)
    set_committed_value(risk, "updated_at", now)
    return version


def risk_by_number(session: Session, workspace_id: str, number: int) -> Risk | None:
    return session.exec(select(Risk).where(Risk.workspace_id == workspace_id, Risk.number == number)).first()


def actions_of(session: Session, risk: Risk) -> list[RiskAction]:
    query = (select(RiskAction)
             .where(RiskAction.workspace_id == risk.workspace_id, RiskAction.risk_id == risk.id)
             .order_by(RiskAction.position, RiskAction.id))
    return list(session.exec(query))


def actions_by_risk(session: Session, workspace_id: str, risk_ids: Iterable[int]) -> dict[int, list[RiskAction]]:
    """The checklists of many risks in one query (lists and exports)."""
    ids = list(risk_ids)
    found: dict[int, list[RiskAction]] = {risk_id: [] for risk_id in ids}
    if not ids:
        return found
    query = (select(RiskAction)
             .where(RiskAction.workspace_id == workspace_id, RiskAction.risk_id.in_(ids))
             .order_by(RiskAction.risk_id, RiskAction.position, RiskAction.id))
    for action in session.exec(query):
        found[action.risk_id].append(action)
    return found


def remove_action(session: Session, action: RiskAction) -> None:
    session.delete(action)


# --- registers -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Page:
    risks: list[Risk]
    total: int
    offset: int
    limit: int

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.risks) < self.total

    @property
    def has_previous(self) -> bool:
        return self.offset > 0


def register_page(session: Session, workspace_id: str, *, team_id: int | None = None, owner_id: str | None = None,
                  include_closed: bool = False, offset: int = 0, limit: int = 10) -> Page:
    """A page of a register: open risks by score (highest first), then oldest first.
    With `include_closed`, closed risks follow the open ones, in the same order."""
    conditions = [Risk.workspace_id == workspace_id]
    if team_id is not None:
        conditions.append(Risk.team_id == team_id)
    if owner_id is not None:
        conditions.append(Risk.owner_id == owner_id)
    if not include_closed:
        conditions.append(Risk.status == OPEN)
    total = session.exec(select(func.count()).select_from(Risk).where(*conditions)).one()
    closed_last = case((Risk.status == OPEN, 0), else_=1)
    query = (select(Risk).where(*conditions)
             .order_by(closed_last, Risk.score.desc(), Risk.created_at, Risk.number)
             .offset(offset).limit(limit))
    return Page(list(session.exec(query)), total, offset, limit)


def team_register(session: Session, workspace_id: str, team_id: int) -> list[Risk]:
    """Every risk of a team, open and closed, in ID order: for exports."""
    query = select(Risk).where(Risk.workspace_id == workspace_id, Risk.team_id == team_id).order_by(Risk.number)
    return list(session.exec(query))


def open_risks(session: Session, workspace_id: str, team_id: int, *, for_update: bool = False) -> list[Risk]:
    """A team's open risks in ID order; `for_update` locks them (in that order, so two lockers
    never deadlock) and reads them afresh once the locks are ours."""
    query = select(Risk).where(Risk.workspace_id == workspace_id, Risk.team_id == team_id, Risk.status == OPEN)
    query = query.order_by(Risk.number)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return list(session.exec(query))


# --- the clock: review dates ---------------------------------------------------------------------
def reviews_to_remind(session: Session, workspace_id: str, *, due_on_or_before: date) -> list[Risk]:
    """Open risks whose review date has come and whose owner was not yet reminded of that date."""
    query = select(Risk).where(
        Risk.workspace_id == workspace_id,
        Risk.status == OPEN,
        Risk.review_by.is_not(None),
        Risk.review_by <= due_on_or_before,
        (Risk.review_reminded_for.is_(None)) | (Risk.review_reminded_for != Risk.review_by),
    )
    return list(session.exec(query.order_by(Risk.review_by, Risk.number)))


def claim_review_reminder(session: Session, risk: Risk) -> bool:
    """Compare-and-set: mark this risk's review date as reminded, unless another clock already did."""
    table = Risk.__table__
    result = session.execute(
        update(table)
        .where(table.c.id == risk.id, table.c.workspace_id == risk.workspace_id, table.c.status == OPEN,
               table.c.review_by == risk.review_by,
               (table.c.review_reminded_for.is_(None)) | (table.c.review_reminded_for != risk.review_by))
        .values(review_reminded_for=risk.review_by)
    )
    return result.rowcount == 1


def workspaces_with_open_reviews(session: Session) -> list[str]:
    """Workspaces that have open risks with a review date (the clock sweeps each of them)."""
    query = select(Risk.workspace_id).where(Risk.status == OPEN, Risk.review_by.is_not(None)).distinct()
    return list(session.exec(query.order_by(Risk.workspace_id)))


# --- for the digests -----------------------------------------------------------------------------
@dataclass(frozen=True)
class RiskFigures:
    """A team's register over a period [start, end): for the daily and weekly digests."""

    opened: int  # risks logged in the period
    closed: int  # risks closed in the period
    open_now: int  # open at the time of the query
    top_open: list[Risk]  # the highest-scoring open risks, highest first, then oldest


def risk_figures(session: Session, workspace_id: str, team_id: int, *, start: datetime, end: datetime,
                 top: int = 5) -> RiskFigures:
    """Risks opened and closed in [start, end) and the top open risks by score, counted in SQL."""
    in_team = (Risk.workspace_id == workspace_id, Risk.team_id == team_id)
    opened = session.exec(select(func.count()).select_from(Risk).where(
        *in_team, Risk.created_at >= start, Risk.created_at < end)).one()
    closed = session.exec(select(func.count()).select_from(Risk).where(
        *in_team, Risk.closed_at.is_not(None), Risk.closed_at >= start, Risk.closed_at < end)).one()
    page = register_page(session, workspace_id, team_id=team_id, limit=top)
    return RiskFigures(opened=opened, closed=closed, open_now=page.total, top_open=page.risks)


def open_score_counts(session: Session, workspace_id: str, team_id: int) -> dict[int, int]:
    """{score: how many open risks have it}: band them with bot.risks.band_counts."""
    query = (select(Risk.score, func.count()).where(Risk.workspace_id == workspace_id, Risk.team_id == team_id,
                                                    Risk.status == OPEN)
             .group_by(Risk.score))
    return {score: count for score, count in session.exec(query)}


def overdue_reviews(session: Session, workspace_id: str, team_id: int, *, today: date) -> list[Risk]:
    """Open risks whose review date is before `today` (the team's local date)."""
    query = select(Risk).where(Risk.workspace_id == workspace_id, Risk.team_id == team_id, Risk.status == OPEN,
                               Risk.review_by.is_not(None), Risk.review_by < today)
    return list(session.exec(query.order_by(Risk.review_by, Risk.number)))
