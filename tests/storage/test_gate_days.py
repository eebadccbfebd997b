"""The daily gate totals the dashboard reads (storage/gate_days.py) equal a recount of the gate results:
as CI stores them (repeats skipped), and as migration 0014 backfills them from results stored before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command

from storage import dashboard, gate_days
from storage import metrics as store
from storage.db import Database
from storage.metrics import GateResult
from tests.conftest import both_databases
from tests.harness.teams import make_team

START = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)


def results(team, count: int, *, source: str = "r") -> list[dict]:
    return [dict(workspace_id=team.workspace_id, team_id=team.id, gate=("unit", "coverage", "security")[n % 3],
                 passed=n % 4 != 0, value=80.0 + n % 7 if n % 3 == 1 else None,
                 duration_seconds=None if n % 5 == 0 else 30.0 + n, source_id=f"{source}{n}",
                 happened_at=START + timedelta(minutes=37 * n), received_at=START) for n in range(count)]


@both_databases
def test_the_totals_written_at_intake_equal_a_recount(database: Database):
    team, other = make_team(database), make_team(database, "Platform", channel="platform")
    with database.transaction() as session:
        assert store.add_gate_results(session, results(team, 150)) == 150
        store.add_gate_results(session, results(other, 40))
    with database.transaction() as session:  # CI posts the same results again, and some new ones
        assert store.add_gate_results(session, results(team, 170)) == 20
        store.add_gate_results(session, [r | {"source_id": None} for r in results(team, 9, source="x")])
    with database.transaction() as session:
        stored = dashboard.stored_gate_days(session, team.workspace_id, team.id)
        assert stored == dashboard.recount_gate_days(session, team.workspace_id, team.id)
        assert sum(runs for runs, *_ in stored.values()) == 179 and len({day for _, day in stored}) >= 4
        days = [START.date(), START.date() + timedelta(days=2), START.date() + timedelta(days=9)]
        weeks = dashboard.gate_weeks(session, team.workspace_id, team.id, days)
        raw = store.buckets(session, team.workspace_id, team.id,
                            [datetime.combine(day, datetime.min.time(), tzinfo=UTC) for day in days])
    for totals, bucket in zip(weeks, raw):
        assert {g: (c.runs, c.passed, c.valued, c.timed, round(c.value_total, 6), round(c.seconds_total, 6))
                for g, c in totals.items()} == \
            {g: (c.runs, c.passed, c.valued, c.timed, round(c.value_total, 6), round(c.seconds_total, 6))
             for g, c in bucket.gates.items()}
    assert sum(c.runs for w in weeks for c in w.values()) == 179

def test_the_migration_backfills_the_totals_of_results_stored_before_it(database: Database):
    team = make_team(database)
    with database.transaction() as session:
        store.add_gate_results(session, results(team, 60))
    command.downgrade(database.alembic_config(), "0013")  # as before the dashboard: results, no totals
    with database.engine.begin() as connection:
        connection.execute(GateResult.__table__.insert(), results(team, 30, source="old"))
    command.upgrade(database.alembic_config(), "head")
    with database.transaction() as session:
        stored = dashboard.stored_gate_days(session, team.workspace_id, team.id)
        assert stored == dashboard.recount_gate_days(session, team.workspace_id, team.id)
        assert sum(runs for runs, *_ in stored.values()) == 90
    assert gate_days.day_of(START) == START.date()
