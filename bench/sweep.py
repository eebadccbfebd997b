"""The clock's incident sweep (stuck cards placed, due escalations moved) and the review reminders,
with nothing due, over a history of N resolved incidents: the time must not grow with the history.

    .venv/bin/python bench/sweep.py [--sizes 10000 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def seed(db, history: int) -> None:
    from sqlalchemy import insert

    from storage.incidents import RESOLVED, Incident
    from tests.harness.teams import make_team

    team = make_team(db, "Payments", channel="payments")
    start = NOW - timedelta(days=3 * 365)
    step = (NOW - timedelta(days=2) - start) / max(history, 1)
    chunk = 20_000
    with db.engine.begin() as connection:
        for first in range(0, history, chunk):
            rows = []
            for n in range(first, min(first + chunk, history)):
                at = start + step * n
                rows.append(dict(workspace_id=team.workspace_id, team_id=team.id, number=n + 1, title=f"Incident {n}",
                                 severity=("SEV1", "SEV2", "SEV3", "SEV4")[n % 4], commander_id="UBOB",
                                 declared_by="UALICE", declared_at=at, status=RESOLVED, level=1 + n % 3,
                                 level_changed_at=at, resolved_by="UBOB", resolved_at=at + timedelta(hours=2),
                                 review_due_at=at + timedelta(days=1), review_reminded_at=at + timedelta(days=1),
                                 channel_id="CPAYMENTS", responders=[], checklist_done=[]))
            connection.execute(insert(Incident), rows)
        # and a few open ones, placed, not yet due for their next level
        rows = [dict(workspace_id=team.workspace_id, team_id=team.id, number=history + n + 1, title=f"Open {n}",
                     severity="SEV4", commander_id="UBOB", declared_by="UALICE", declared_at=NOW - timedelta(minutes=5),
                     status="open", level=1, level_changed_at=NOW - timedelta(minutes=5), channel_id="CPAYMENTS",
                     responders=[], checklist_done=[]) for n in range(5)]
        connection.execute(insert(Incident), rows)


def time_sweep(db, rounds: int = 7) -> float:
    from bot.incidents import clock

    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        clock.sweep(db, now=NOW)
        clock.remind_reviews(db, now=NOW)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(history: int) -> float:
    from storage.db import Database

    with tempfile.TemporaryDirectory() as workdir:
        db = Database(f"sqlite:///{workdir}/sweep.db")
        db.migrate()
        seed(db, history)
        raw = db.engine.raw_connection()  # as a running database would be: the bulk load checkpointed
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        time_sweep(db, rounds=2)  # warm: the pages the sweep reads
        return time_sweep(db, rounds=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    args = parser.parse_args()
    results = {}
    for size in args.sizes:
        started = time.perf_counter()
        results[size] = measure(size)
        print(f"sweep, nothing due, {size:>9,} incidents in history (SQLite): {results[size]:7.2f} ms "
              f"(seeded in {time.perf_counter() - started:.0f} s)", flush=True)
    small, large = results[min(results)], results[max(results)]
    print(f"ratio {max(results):,} / {min(results):,}: {large / small:.2f} (target < 2)")


if __name__ == "__main__":
    main()
