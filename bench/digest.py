"""How long one team's weekly digest takes on a year of data for 20 teams, as the data grows.

    .venv/bin/python bench/digest.py                                  # SQLite, in a temporary file
    .venv/bin/python bench/digest.py --url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
                                                                      # PostgreSQL: a fresh database
                                                                      # is created there, then dropped

The data (about a million gate results, plus DoR/DoD checks and defects) is added in steps of 10 %,
each spread over the whole year, so every step is "a year of data, thinner". After each step one
team's weekly digest is built (the SQL aggregates), written (Block Kit) and charted (PNG), three
times; the median is printed. The aim: under 1 s per weekly digest at full size.

(Reviews arrive with the reviews domain; their figures join the digest in phase 2.)
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, make_url, text  # noqa: E402

from bot import digest_schedule, digests, metrics, teams  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.metrics import Defect, GateResult, ItemCheck  # noqa: E402
from storage.teams import Team  # noqa: E402

WORKSPACE = "TBENCH"
NOW = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # a Monday, digest time
YEAR = timedelta(days=365)
GATES = ("unit", "integration", "security", "performance", "coverage", "lint", "e2e")
PASS_RATE = {"unit": 0.97, "integration": 0.93, "security": 0.92, "performance": 0.88, "coverage": 0.95,
             "lint": 0.99, "e2e": 0.85}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a PostgreSQL server URL (a fresh database is created on it); SQLite if absent")
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--gates", type=int, default=1_000_000, help="gate results in total, over a year")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    db, cleanup, label = _database(args.url)
    try:
        run(db, label, args)
    finally:
        cleanup()


def run(db: Database, label: str, args) -> None:
    print(f"QMS Bot weekly digest benchmark on {label}: {args.teams} teams, {args.gates:,} gate results a year")
    team_ids = _teams(db, args.teams)
    rnd = random.Random(args.seed)
    per_step = {"gates": args.gates // args.steps, "checks": args.gates // 25 // args.steps,
                "defects": args.gates // 500 // args.steps}
    print(f"{'data':>6} {'gate results':>13} {'checks':>8} {'defects':>8} {'queries':>9} {'message':>9} "
          f"{'chart':>8} {'digest':>8}")
    totals = dict.fromkeys(per_step, 0)
    for step in range(1, args.steps + 1):
        for kind, count in per_step.items():
            _insert(db, kind, team_ids, count, rnd)
            totals[kind] += count
        if db.url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        timings = [_weekly_digest(db, team_ids[0]) for _ in range(3)]
        median = {part: statistics.median(t[part] for t in timings) for part in timings[0]}
        print(f"{100 * step // args.steps:>5}% {totals['gates']:>13,} {totals['checks']:>8,} {totals['defects']:>8,} "
              f"{median['queries']:>8.3f}s {median['message']:>8.3f}s {median['chart']:>7.3f}s "
              f"{sum(median.values()):>7.3f}s")


def _weekly_digest(db: Database, team_id: int) -> dict[str, float]:
    """One weekly digest as the clock makes it: figures (SQL), the message, the chart."""
    with db.transaction() as session:
        team = session.get(Team, team_id)
        due = digest_schedule.latest_due(team, digest_schedule.WEEKLY, now=NOW)
        started = time.perf_counter()
        digest = digests.build(session, team, due)
        built = time.perf_counter()
        digests.message(digest)
        written = time.perf_counter()
        png = digests.chart(digest)
        charted = time.perf_counter()
    assert png and digest.report.counts["gate_runs"] > 0
    return {"queries": built - started, "message": written - built, "chart": charted - written}


def _teams(db: Database, count: int) -> list[int]:
    ids = []
    with db.transaction() as session:
        for n in range(count):
            form = teams.TeamForm(name=f"Team {n + 1:02d}", home_channel_id=f"CBENCH{n:02d}", timezone="Europe/Berlin",
                                  roles={"team_lead": [f"ULEAD{n:02d}"]})
            ids.append(teams.save_team(session, WORKSPACE, form, actor_id="UBENCH", now=NOW - YEAR).id)
    return ids


def _insert(db: Database, kind: str, team_ids: list[int], count: int, rnd: random.Random) -> None:
    """`count` rows of one kind, spread over the teams and the year, inserted in batches."""
    table = {"gates": GateResult, "checks": ItemCheck, "defects": Defect}[kind].__table__
    make = {"gates": _gate, "checks": _check, "defects": _defect}[kind]
    batch = 5000
    for start in range(0, count, batch):
        rows = [make(rnd.choice(team_ids), NOW - YEAR * rnd.random(), rnd) for _ in range(min(batch, count - start))]
        with db.engine.begin() as conn:
            conn.execute(table.insert(), rows)


def _gate(team_id: int, at: datetime, rnd: random.Random) -> dict:
    gate = rnd.choice(GATES)
    return {"workspace_id": WORKSPACE, "team_id": team_id, "gate": gate, "passed": rnd.random() < PASS_RATE[gate],
            "value": round(rnd.uniform(75, 92), 1) if gate == "coverage" else None,
            "duration_seconds": rnd.uniform(30, 1200), "commit": f"{rnd.getrandbits(40):010x}",
            "ref": "refs/heads/main", "source_id": None, "happened_at": at, "received_at": at}


def _check(team_id: int, at: datetime, rnd: random.Random) -> dict:
    kind = rnd.choice(("dor", "dor", "dod"))
    passed = rnd.random() < 0.87
    return {"workspace_id": WORKSPACE, "team_id": team_id, "kind": kind, "work_item": f"PROJ-{rnd.randint(1, 20000)}",
            "passed": passed, "reason": None if passed else rnd.choice(metrics.REASONS[kind]),
            "minutes": rnd.randint(5, 60), "note": None, "checked_by": "UBENCH", "checked_at": at}


def _defect(team_id: int, at: datetime, rnd: random.Random) -> dict:
    return {"workspace_id": WORKSPACE, "team_id": team_id,
            "found_in": "production" if rnd.random() < 0.03 else "before_release", "severity": None, "title": None,
            "source_id": None, "found_at": at, "received_at": at}


def _database(url: str | None):
    """A fresh, migrated database and how to get rid of it."""
    if url is None:
        folder = tempfile.TemporaryDirectory(prefix="qms-bench-")
        db = Database(f"sqlite:///{folder.name}/bench.db")
        db.migrate()

        def cleanup():
            db.dispose()
            folder.cleanup()

        return db, cleanup, "SQLite"
    name = f"qms_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(make_url(url).set(database=name).render_as_string(hide_password=False))
    db.migrate()

    def cleanup():
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return db, cleanup, "PostgreSQL"


if __name__ == "__main__":
    main()
