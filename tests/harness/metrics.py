"""Quality data for tests: DoR/DoD checks, gate results and defects, stored the way the app stores them."""

from __future__ import annotations

from datetime import datetime

from storage import metrics as store
from storage.db import Database
from storage.metrics import ItemCheck
from storage.teams import Team


def add_checks(db: Database, team: Team, kind: str, *checks: tuple) -> None:
    """checks: (at, passed, reason, minutes[, work_item]) each."""
    with db.transaction() as session:
        for number, (at, passed, reason, minutes, *item) in enumerate(checks):
            session.add(ItemCheck(workspace_id=team.workspace_id, team_id=team.id, kind=kind,
                                  work_item=item[0] if item else f"PROJ-{number}", passed=passed, reason=reason,
                                  minutes=minutes, checked_by="UALICE", checked_at=at))


def add_gates(db: Database, team: Team, gate: str, at: datetime, *, runs: int, passed: int,
              values: tuple[float, ...] = (), seconds: float | None = None) -> None:
    """`runs` results of one gate at one moment, the first `passed` of them passing."""
    rows = [dict(workspace_id=team.workspace_id, team_id=team.id, gate=gate, passed=n < passed,
                 value=values[n] if n < len(values) else None, duration_seconds=seconds, happened_at=at,
                 received_at=at) for n in range(runs)]
    with db.transaction() as session:
        store.add_gate_results(session, rows)


def add_defects(db: Database, team: Team, at: datetime, *, production: int, before_release: int) -> None:
    rows = [dict(workspace_id=team.workspace_id, team_id=team.id, found_in=found, found_at=at, received_at=at)
            for found in ["production"] * production + ["before_release"] * before_release]
    with db.transaction() as session:
        store.add_defects(session, rows)
