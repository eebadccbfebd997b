"""Daily totals of quality-gate results: one row per team, gate and UTC day, kept up to date in the
transaction that stores the results (storage.metrics.add_gate_results) and backfilled by migration 0014.

The dashboard reads its 8-week gate figures from here (a few hundred rows a team) instead of counting a
million gate results per request. `tests/storage/test_gate_days.py` checks the totals equal a recount.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Iterable

from sqlalchemy import Float, Index
from sqlmodel import Field, Session, SQLModel

from storage.db import dialect_insert


class GateDay(SQLModel, table=True):
    __tablename__ = "gate_day"
    __table_args__ = (Index("ix_gate_day_team_day", "workspace_id", "team_id", "day"),)

    team_id: int = Field(foreign_key="team.id", primary_key=True, ondelete="CASCADE")
    gate: str = Field(max_length=40, primary_key=True)
    day: date = Field(primary_key=True)  # the UTC day the results happened on
    workspace_id: str = Field(max_length=32)
    runs: int = 0
    passed: int = 0
    value_total: float = Field(default=0.0, sa_type=Float)
    valued: int = 0
    seconds_total: float = Field(default=0.0, sa_type=Float)
    timed: int = 0


def add(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """Add stored gate results (dicts with workspace_id, team_id, gate, passed, value, duration_seconds,
    happened_at) to their days' totals: one upsert that adds to what is there."""
    totals: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        day = row["happened_at"].astimezone(UTC).date()
        total = totals.setdefault((row["team_id"], row["gate"], day), {
            "team_id": row["team_id"], "gate": row["gate"], "day": day, "workspace_id": row["workspace_id"],
            "runs": 0, "passed": 0, "value_total": 0.0, "valued": 0, "seconds_total": 0.0, "timed": 0})
        total["runs"] += 1
        total["passed"] += 1 if row["passed"] else 0
        if row.get("value") is not None:
            total["value_total"] += float(row["value"])
            total["valued"] += 1
        if row.get("duration_seconds") is not None:
            total["seconds_total"] += float(row["duration_seconds"])
            total["timed"] += 1
    if not totals:
        return
    table = GateDay.__table__
    statement = dialect_insert(session, table).values(list(totals.values()))
    added = ("runs", "passed", "value_total", "valued", "seconds_total", "timed")
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.team_id, table.c.gate, table.c.day],
        set_={name: table.c[name] + statement.excluded[name] for name in added})
    session.execute(statement)


def day_of(moment: datetime) -> date:
    return moment.astimezone(UTC).date()
