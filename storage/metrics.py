"""Quality data: DoR/DoD checks, quality-gate results and defects from CI, the CI tokens, and the
record of which digests were posted.

KPIs are aggregates computed by the database over indexed columns (team_id + time), never by
loading rows into Python. Period queries take `bounds` — ascending instants t0 < t1 < … < tn —
and answer one row per bucket [t(i), t(i+1)), so "this week and the seven before it" is one scan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import Index, Text, UniqueConstraint, and_, case, delete, func, update
from sqlmodel import Field, Session, SQLModel, select

from storage import gate_days
from storage.db import dialect_insert
from storage.sql import epoch_seconds
from storage.types import UTCDateTime

DOR, DOD = "dor", "dod"
PRODUCTION, BEFORE_RELEASE = "production", "before_release"
POSTED, SKIPPED = "posted", "skipped"


class ItemCheck(SQLModel, table=True):
    """One Definition of Ready or Definition of Done check of a work item."""

    __tablename__ = "item_check"
    __table_args__ = (
        Index("ix_item_check_period", "team_id", "kind", "checked_at"),
        Index("ix_item_check_item", "team_id", "work_item", "kind", "checked_at"),  # cycle time's seek
        # covering: every team's checks of a few weeks at once (the dashboard's overview)
        Index("ix_item_check_team_time", "workspace_id", "team_id", "checked_at", "kind", "passed", "minutes"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE")
    kind: str = Field(max_length=3)  # "dor" | "dod"
    work_item: str = Field(max_length=100)  # PROJ-123, or a link
    passed: bool
    reason: str | None = Field(default=None, max_length=32)  # why it failed (a key, see bot.metrics)
    minutes: int | None = None  # time spent validating
    note: str | None = Field(default=None, max_length=500)
    checked_by: str = Field(max_length=32)
    checked_at: datetime = Field(sa_type=UTCDateTime)


class GateResult(SQLModel, table=True):
    """One run of one automated quality gate, posted by CI."""

    __tablename__ = "gate_result"
    __table_args__ = (
        Index("ix_gate_result_period", "team_id", "happened_at"),
        UniqueConstraint("team_id", "source_id", name="uq_gate_result_source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE")
    gate: str = Field(max_length=40)  # unit, integration, security, performance, coverage or a team's own
    passed: bool
    value: float | None = None  # e.g. coverage in %
    duration_seconds: float | None = None
    commit: str | None = Field(default=None, max_length=64)
    ref: str | None = Field(default=None, max_length=255)
    source_id: str | None = Field(default=None, max_length=100)  # CI's own id: a repeated post is stored once
    happened_at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(sa_type=UTCDateTime)


class Defect(SQLModel, table=True):
    """A defect, found in production (escaped) or before release."""

    __tablename__ = "defect"
    __table_args__ = (
        Index("ix_defect_period", "team_id", "found_at"),
        UniqueConstraint("team_id", "source_id", name="uq_defect_source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE")
    found_in: str = Field(max_length=16)  # "production" | "before_release"
    severity: str | None = Field(default=None, max_length=20)
    title: str | None = Field(default=None, max_length=200)
    source_id: str | None = Field(default=None, max_length=100)
    found_at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    """A team's bearer token for the CI API. Only its SHA-256 is kept; the token is shown once."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)  # the first characters, to tell tokens apart in lists
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by: str | None = Field(default=None, max_length=32)


class IdempotencyKey(SQLModel, table=True):
    """A CI batch posted with an Idempotency-Key header, and the answer it got: a retry with the same
    key within a day is given that answer again and stores nothing (bot/metrics/ci.py)."""

    __tablename__ = "ci_idempotency_key"
    __table_args__ = (
        UniqueConstraint("team_id", "key", name="uq_ci_idempotency_key"),
        Index("ix_ci_idempotency_key_age", "team_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE")
    key: str = Field(max_length=255)
    fingerprint: str = Field(max_length=64)  # SHA-256 of the endpoint and the body: the same batch, or not
    status: int  # the HTTP status answered
    response: str = Field(sa_type=Text)  # the JSON body answered, byte for byte
    created_at: datetime = Field(sa_type=UTCDateTime)


class DigestRun(SQLModel, table=True):
    """That a team's digest for a period was posted or skipped: inserted once, by one clock."""

    __tablename__ = "digest_run"

    team_id: int = Field(foreign_key="team.id", primary_key=True, ondelete="CASCADE")
    kind: str = Field(max_length=8, primary_key=True)  # "daily" | "weekly"
    period: str = Field(max_length=16, primary_key=True)  # "2026-03-09" | "2026-W10"
    workspace_id: str = Field(max_length=32)
    status: str = Field(max_length=8)  # "posted" | "skipped"
    scheduled_for: datetime = Field(sa_type=UTCDateTime)
    decided_at: datetime = Field(sa_type=UTCDateTime)


# --- writing ---------------------------------------------------------------------------------------
def add_check(session: Session, check: ItemCheck) -> ItemCheck:
    session.add(check)
    session.flush()
    return check


def add_gate_results(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert CI results; a row whose (team, source_id) is already stored is skipped. Returns how many
    were stored. The stored ones are added to their days' totals (storage/gate_days.py) here too."""
    if not rows:
        return 0
    table = GateResult.__table__
    statement = (
        dialect_insert(session, table)
        .values(rows)
        .on_conflict_do_nothing(index_elements=[table.c.team_id, table.c.source_id])
        .returning(table.c.workspace_id, table.c.team_id, table.c.gate, table.c.passed, table.c.value,
                   table.c.duration_seconds, table.c.happened_at)
    )
    stored = [dict(row._mapping) for row in session.execute(statement)]
    gate_days.add(session, stored)
    return len(stored)


def add_defects(session: Session, rows: list[dict[str, Any]]) -> int:
    return _insert_new(session, Defect, rows)


def _insert_new(session: Session, model, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    table = model.__table__
    statement = (
        dialect_insert(session, table)
        .values(rows)
        .on_conflict_do_nothing(index_elements=[table.c.team_id, table.c.source_id])
        .returning(table.c.id)
    )
    return len(session.execute(statement).all())


# --- idempotency keys ------------------------------------------------------------------------------
def idempotent_answer(session: Session, workspace_id: str, team_id: int, key: str, *,
                      since: datetime) -> IdempotencyKey | None:
    """The answer a batch posted under `key` got, if it was posted at `since` or later."""
    query = select(IdempotencyKey).where(IdempotencyKey.workspace_id == workspace_id,
                                         IdempotencyKey.team_id == team_id, IdempotencyKey.key == key,
                                         IdempotencyKey.created_at >= since)
    return session.exec(query).first()


def claim_idempotency_key(session: Session, *, workspace_id: str, team_id: int, key: str, fingerprint: str,
                          now: datetime, since: datetime) -> bool:
    """Take `key` for a batch being stored in this transaction, forgetting the team's keys older than
    `since` on the way. False when another batch holds it: on PostgreSQL, a concurrent one with the
    same key waits here for the first to commit (the unique index), then gets False."""
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.workspace_id == workspace_id,
                                                 IdempotencyKey.team_id == team_id,
                                                 IdempotencyKey.created_at < since))
    table = IdempotencyKey.__table__
    statement = (
        dialect_insert(session, table)
        .values(workspace_id=workspace_id, team_id=team_id, key=key, fingerprint=fingerprint, status=0,
                response="", created_at=now)
        .on_conflict_do_nothing(index_elements=[table.c.team_id, table.c.key])
        .returning(table.c.id)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def record_idempotent_answer(session: Session, workspace_id: str, team_id: int, key: str, *, status: int,
                             response: str) -> None:
    session.execute(update(IdempotencyKey)
                    .where(IdempotencyKey.workspace_id == workspace_id, IdempotencyKey.team_id == team_id,
                           IdempotencyKey.key == key)
                    .values(status=status, response=response))


# --- tokens ----------------------------------------------------------------------------------------
def add_token(session: Session, token: ApiToken) -> ApiToken:
    session.add(token)
    session.flush()
    return token


def token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    """The live token with this hash. (The hash is the only thing the caller knows, so this is the
    one lookup that cannot start from a workspace; the row it finds names the workspace.)"""
    query = select(ApiToken).where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
    return session.exec(query).first()


def live_tokens(session: Session, workspace_id: str, team_id: int) -> list[ApiToken]:
    query = (select(ApiToken)
             .where(ApiToken.workspace_id == workspace_id, ApiToken.team_id == team_id,
                    ApiToken.revoked_at.is_(None))
             .order_by(ApiToken.created_at, ApiToken.id))
    return list(session.exec(query))


def touch_token(session: Session, token: ApiToken, *, now: datetime) -> None:
    token.last_used_at = now
    session.add(token)


# --- digests ---------------------------------------------------------------------------------------
def digest_decided(session: Session, workspace_id: str, team_id: int, kind: str, period: str) -> bool:
    query = select(DigestRun.status).where(DigestRun.workspace_id == workspace_id, DigestRun.team_id == team_id,
                                           DigestRun.kind == kind, DigestRun.period == period)
    return session.exec(query).first() is not None


def claim_digest(session: Session, *, workspace_id: str, team_id: int, kind: str, period: str, status: str,
                 scheduled_for: datetime, now: datetime) -> bool:
    """Record the decision for a team's digest of a period. Exactly one of two racing clocks gets True:
    ON CONFLICT DO NOTHING makes the second wait for the first and then insert nothing."""
    table = DigestRun.__table__
    statement = (
        dialect_insert(session, table)
        .values(team_id=team_id, kind=kind, period=period, workspace_id=workspace_id, status=status,
                scheduled_for=scheduled_for, decided_at=now)
        .on_conflict_do_nothing(index_elements=[table.c.team_id, table.c.kind, table.c.period])
        .returning(table.c.team_id)
    )
    return session.execute(statement).scalar_one_or_none() is not None


# --- period aggregates -----------------------------------------------------------------------------
@dataclass
class CheckCounts:
    checks: int = 0
    passed: int = 0
    minutes_total: float = 0.0  # over the checks that gave minutes
    timed: int = 0  # how many gave minutes


@dataclass
class GateCounts:
    runs: int = 0
    passed: int = 0
    value_total: float = 0.0
    valued: int = 0
    seconds_total: float = 0.0
    timed: int = 0


@dataclass
class DefectCounts:
    found: int = 0
    production: int = 0


@dataclass
class CycleTimes:
    items: int = 0
    hours_total: float = 0.0


@dataclass
class Bucket:
    """Everything counted in one period [start, end) for one team."""

    start: datetime
    end: datetime
    dor: CheckCounts = field(default_factory=CheckCounts)
    dod: CheckCounts = field(default_factory=CheckCounts)
    gates: dict[str, GateCounts] = field(default_factory=dict)
    defects: DefectCounts = field(default_factory=DefectCounts)
    cycle: CycleTimes = field(default_factory=CycleTimes)


def buckets(session: Session, workspace_id: str, team_id: int, bounds: Sequence[datetime], *,
            gates: bool = True) -> list[Bucket]:
    """The team's counts in each period between consecutive `bounds`: a handful of grouped queries.
    `gates=False` leaves the gate results out (the dashboard reads them from storage/gate_days.py)."""
    return buckets_by_team(session, workspace_id, [team_id], bounds, gates=gates)[team_id]


def buckets_by_team(session: Session, workspace_id: str, team_ids: Sequence[int], bounds: Sequence[datetime], *,
                    gates: bool = True) -> dict[int, list[Bucket]]:
    """`buckets` for several teams sharing the same `bounds`, in the same handful of grouped queries
    (grouped by team too): the dashboard's overview asks for every team at once."""
    found = {team_id: [Bucket(start, end) for start, end in zip(bounds, bounds[1:])] for team_id in team_ids}
    if not team_ids or len(bounds) < 2:
        return found
    for team_id, index, kind, checks, passed, minutes, timed in _check_rows(session, workspace_id, team_ids, bounds):
        counts = CheckCounts(checks, int(passed or 0), float(minutes or 0), timed)
        setattr(found[team_id][index], kind, counts)
    for team_id, index, gate, runs, passed, value, valued, seconds, timed in (
            _gate_rows(session, workspace_id, team_ids, bounds) if gates else ()):
        found[team_id][index].gates[gate] = GateCounts(runs, int(passed or 0), float(value or 0), valued,
                                                       float(seconds or 0), timed)
    for team_id, index, total, production in _defect_rows(session, workspace_id, team_ids, bounds):
        found[team_id][index].defects = DefectCounts(total, int(production or 0))
    for team_id, index, items, hours in _cycle_rows(session, workspace_id, team_ids, bounds):
        found[team_id][index].cycle = CycleTimes(items, float(hours or 0))
    return found


def rejection_reasons(session: Session, workspace_id: str, team_id: int, kind: str, *, start: datetime,
                      end: datetime) -> dict[str, int]:
    """How many failed checks gave each reason in [start, end), most frequent first."""
    count = func.count().label("count")
    query = (
        select(ItemCheck.reason, count)
        .where(ItemCheck.workspace_id == workspace_id, ItemCheck.team_id == team_id, ItemCheck.kind == kind,
               ItemCheck.checked_at >= start, ItemCheck.checked_at < end,
               ItemCheck.passed == False)  # noqa: E712 (SQL, not Python)
        .group_by(ItemCheck.reason)
        .order_by(count.desc(), ItemCheck.reason)
    )
    return {reason or "other": n for reason, n in session.exec(query)}


def rejection_reasons_by_team(session: Session, workspace_id: str, team_ids: Sequence[int], *, start: datetime,
                              end: datetime) -> dict[tuple[int, str], dict[str, int]]:
    """`rejection_reasons` of several teams and both kinds in one query: (team_id, kind) → {reason: count},
    most frequent first."""
    found: dict[tuple[int, str], dict[str, int]] = {(t, k): {} for t in team_ids for k in (DOR, DOD)}
    if not team_ids:
        return found
    count = func.count().label("count")
    query = (
        select(ItemCheck.team_id, ItemCheck.kind, ItemCheck.reason, count)
        .where(ItemCheck.workspace_id == workspace_id, ItemCheck.team_id.in_(list(team_ids)),
               ItemCheck.checked_at >= start, ItemCheck.checked_at < end,
               ItemCheck.passed == False)  # noqa: E712 (SQL, not Python)
        .group_by(ItemCheck.team_id, ItemCheck.kind, ItemCheck.reason)
        .order_by(ItemCheck.team_id, ItemCheck.kind, count.desc(), ItemCheck.reason)
    )
    for team_id, kind, reason, n in session.exec(query):
        reasons = found.setdefault((team_id, kind), {})
        reasons[reason or "other"] = reasons.get(reason or "other", 0) + n
    return found


def _bucket_of(column, bounds: Sequence[datetime]):
    """0 for [t0, t1), 1 for [t1, t2), …: a CASE the database evaluates per row."""
    return case(*[(column < bound, index) for index, bound in enumerate(bounds[1:])], else_=None)


def _passed_count(column):
    return func.sum(case((column == True, 1), else_=0))  # noqa: E712 (SQL, not Python)


def _check_rows(session, workspace_id, team_ids, bounds):
    inner = (
        select(ItemCheck.team_id, _bucket_of(ItemCheck.checked_at, bounds).label("bucket"), ItemCheck.kind,
               ItemCheck.passed, ItemCheck.minutes)
        .where(ItemCheck.workspace_id == workspace_id, ItemCheck.team_id.in_(list(team_ids)),
               ItemCheck.checked_at >= bounds[0], ItemCheck.checked_at < bounds[-1])
        .subquery()
    )
    query = (select(inner.c.team_id, inner.c.bucket, inner.c.kind, func.count(), _passed_count(inner.c.passed),
                    func.sum(inner.c.minutes), func.count(inner.c.minutes))
             .group_by(inner.c.team_id, inner.c.bucket, inner.c.kind))
    return session.exec(query).all()


def _gate_rows(session, workspace_id, team_ids, bounds):
    inner = (
        select(GateResult.team_id, _bucket_of(GateResult.happened_at, bounds).label("bucket"), GateResult.gate,
               GateResult.passed, GateResult.value, GateResult.duration_seconds)
        .where(GateResult.workspace_id == workspace_id, GateResult.team_id.in_(list(team_ids)),
               GateResult.happened_at >= bounds[0], GateResult.happened_at < bounds[-1])
        .subquery()
    )
    query = (select(inner.c.team_id, inner.c.bucket, inner.c.gate, func.count(), _passed_count(inner.c.passed),
                    func.sum(inner.c.value), func.count(inner.c.value),
                    func.sum(inner.c.duration_seconds), func.count(inner.c.duration_seconds))
             .group_by(inner.c.team_id, inner.c.bucket, inner.c.gate))
    return session.exec(query).all()


def _defect_rows(session, workspace_id, team_ids, bounds):
    inner = (
        select(Defect.team_id, _bucket_of(Defect.found_at, bounds).label("bucket"), Defect.found_in)
        .where(Defect.workspace_id == workspace_id, Defect.team_id.in_(list(team_ids)),
               Defect.found_at >= bounds[0], Defect.found_at < bounds[-1])
        .subquery()
    )
    production = func.sum(case((inner.c.found_in == PRODUCTION, 1), else_=0))
    query = select(inner.c.team_id, inner.c.bucket, func.count(), production).group_by(inner.c.team_id, inner.c.bucket)
    return session.exec(query).all()


def _cycle_rows(session, workspace_id, team_ids, bounds):
    """Cycle time: from a work item's first passed DoR check to its passed DoD check, for the DoD
    passes in each period (items that never passed DoR here are left out). One index seek per DoD
    pass (ix_item_check_item), then one aggregate."""
    done, ready = ItemCheck.__table__.alias("done"), ItemCheck.__table__.alias("ready")
    pairs = (
        select(done.c.team_id, done.c.checked_at.label("done_at"), func.min(ready.c.checked_at).label("ready_at"))
        .join(ready, and_(ready.c.team_id == done.c.team_id, ready.c.work_item == done.c.work_item,
                          ready.c.kind == DOR, ready.c.passed == True,  # noqa: E712 (SQL, not Python)
                          ready.c.checked_at <= done.c.checked_at))
        .where(done.c.workspace_id == workspace_id, done.c.team_id.in_(list(team_ids)), done.c.kind == DOD,
               done.c.passed == True,  # noqa: E712 (SQL, not Python)
               done.c.checked_at >= bounds[0], done.c.checked_at < bounds[-1])
        .group_by(done.c.id, done.c.team_id, done.c.checked_at)
        .subquery()
    )
    hours = (epoch_seconds(pairs.c.done_at) - epoch_seconds(pairs.c.ready_at)) / 3600.0
    inner = select(pairs.c.team_id, _bucket_of(pairs.c.done_at, bounds).label("bucket"),
                   hours.label("hours")).subquery()
    query = (select(inner.c.team_id, inner.c.bucket, func.count(inner.c.hours), func.sum(inner.c.hours))
             .group_by(inner.c.team_id, inner.c.bucket))
    return session.exec(query).all()


def revoke(session: Session, token: ApiToken, *, actor_id: str, now: datetime) -> bool:
    """Revoke a live token (compare-and-set on revoked_at)."""
    table = ApiToken.__table__
    result = session.execute(update(table)
                             .where(table.c.workspace_id == token.workspace_id, table.c.id == token.id,
                                    table.c.revoked_at.is_(None))
                             .values(revoked_at=now, revoked_by=actor_id))
    return result.rowcount == 1
