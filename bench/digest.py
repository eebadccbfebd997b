"""How long one team's weekly digest takes on a year of data for 20 teams, as the data grows.

    .venv/bin/python bench/digest.py                                  # SQLite, in a temporary file
    .venv/bin/python bench/digest.py --url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
                                                                      # PostgreSQL: a fresh database
                                                                      # is created there, then dropped

The data — about a million gate results, DoR/DoD checks and defects, 50,000 review requests with
their 100,000 reviewer assignments (eight reviewers a team), 2,000 incidents (with their escalation
events) and 2,000 risks — is added in steps of 10 %, each spread over the whole year, so every step
is "a year of data, thinner". After each step one team's weekly digest is built as the clock builds
it (the SQL aggregates, the reviews, incidents and risks sections, the 8 weeks of the chart),
written (Block Kit) and charted (PNG), three times; the median is printed. The aim: under 1 s per
weekly digest at full size.
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

from bot import (
    digests,
    metrics,
    teams,  # noqa: E402
)
from storage.db import Database  # noqa: E402
from storage.incidents import Incident, IncidentEvent  # noqa: E402
from storage.metrics import Defect, GateResult, ItemCheck  # noqa: E402
from storage.reviews import ReviewAssignment, ReviewRequest  # noqa: E402
from storage.risks import Risk  # noqa: E402
from storage.teams import Reviewer, Team  # noqa: E402

WORKSPACE = "TBENCH"
NOW = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # a Monday, digest time
YEAR = timedelta(days=365)
GATES = ("unit", "integration", "security", "performance", "coverage", "lint", "e2e")
PASS_RATE = {"unit": 0.97, "integration": 0.93, "security": 0.92, "performance": 0.88, "coverage": 0.95,
             "lint": 0.99, "e2e": 0.85}
REVIEWERS = [(f"UREV{n}", ("gold", "silver", "silver", "bronze")[n % 4]) for n in range(8)]  # per team
HOUR = timedelta(hours=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a PostgreSQL server URL (a fresh database is created on it); SQLite if absent")
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--gates", type=int, default=1_000_000, help="gate results in total, over a year")
    parser.add_argument("--reviews", type=int, default=50_000, help="review requests in total, over a year")
    parser.add_argument("--incidents", type=int, default=2_000, help="incidents (and as many risks), over a year")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    db, cleanup, label = _database(args.url)
    try:
        run(db, label, args)
    finally:
        cleanup()


def run(db: Database, label: str, args) -> None:
    print(f"QMS Bot weekly digest benchmark on {label}: {args.teams} teams, {args.gates:,} gate results, "
          f"{args.reviews:,} reviews, {args.incidents:,} incidents and as many risks a year")
    team_ids = _teams(db, args.teams)
    rnd = random.Random(args.seed)
    per_step = {"gates": args.gates // args.steps, "checks": args.gates // 25 // args.steps,
                "defects": args.gates // 500 // args.steps, "reviews": args.reviews // args.steps,
                "incidents": args.incidents // args.steps, "risks": args.incidents // args.steps}
    print(f"{'data':>6} {'gate results':>13} {'checks':>8} {'defects':>8} {'reviews':>8} {'incidents':>10} "
          f"{'risks':>6} {'queries':>9} {'message':>9} {'chart':>8} {'digest':>8}")
    totals = dict.fromkeys(per_step, 0)
    numbers = _Numbers()
    for step in range(1, args.steps + 1):
        for kind, count in per_step.items():
            if kind in ROWS:
                _insert(db, kind, team_ids, count, rnd)
            else:
                _insert_domain(db, kind, team_ids, count, rnd, numbers)
            totals[kind] += count
        if db.url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        timings = [_weekly_digest(db, team_ids[0]) for _ in range(3)]
        median = {part: statistics.median(t[part] for t in timings) for part in timings[0]}
        print(f"{100 * step // args.steps:>5}% {totals['gates']:>13,} {totals['checks']:>8,} {totals['defects']:>8,} "
              f"{totals['reviews']:>8,} {totals['incidents']:>10,} {totals['risks']:>6,} "
              f"{median['queries']:>8.3f}s {median['message']:>8.3f}s {median['chart']:>7.3f}s "
              f"{sum(median.values()):>7.3f}s")


def _weekly_digest(db: Database, team_id: int) -> dict[str, float]:
    """One weekly digest as the clock makes it: figures (SQL), the message, the chart."""
    with db.transaction() as session:
        team = session.get(Team, team_id)
        due = digests.latest_due(team, digests.WEEKLY, now=NOW)
        started = time.perf_counter()
        digest = digests.build(session, team, due)
        built = time.perf_counter()
        digests.message(digest)
        written = time.perf_counter()
        png = digests.chart(digest)
        charted = time.perf_counter()
    assert png and digest.report.counts["gate_runs"] > 0
    assert digest.reviews and len(digest.review_weeks) == digests.CHART_WEEKS and digest.incidents and digest.risks
    return {"queries": built - started, "message": written - built, "chart": charted - written}


def _teams(db: Database, count: int) -> list[int]:
    ids = []
    with db.transaction() as session:
        for n in range(count):
            form = teams.TeamForm(name=f"Team {n + 1:02d}", home_channel_id=f"CBENCH{n:02d}", timezone="Europe/Berlin",
                                  roles={"team_lead": [f"ULEAD{n:02d}"]})
            team = teams.save_team(session, WORKSPACE, form, actor_id="UBENCH", now=NOW - YEAR)
            for user_id, tier in REVIEWERS:
                session.add(Reviewer(team_id=team.id, user_id=user_id, workspace_id=WORKSPACE, tier=tier,
                                     specializations=["Backend/API"], capacity=3))
            ids.append(team.id)
    return ids


ROWS = {"gates": GateResult, "checks": ItemCheck, "defects": Defect}  # one row each, no ids needed


def _insert(db: Database, kind: str, team_ids: list[int], count: int, rnd: random.Random) -> None:
    """`count` rows of one kind, spread over the teams and the year, inserted in batches."""
    table = ROWS[kind].__table__
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


# --- reviews, incidents and risks: rows that other rows point to, so they carry their ids ---------------
class _Numbers:
    """The next row id and per-workspace number (CR-, INC-, QR-) of each table."""

    def __init__(self):
        self.next = {"reviews": 1, "incidents": 1, "risks": 1}

    def take(self, kind: str) -> int:
        self.next[kind] += 1
        return self.next[kind] - 1


def _insert_domain(db: Database, kind: str, team_ids: list[int], count: int, rnd: random.Random,
                   numbers: _Numbers) -> None:
    make = {"reviews": _review, "incidents": _incident, "risks": _risk}[kind]
    batch = 2000
    for start in range(0, count, batch):
        tables: dict = {}
        for _ in range(min(batch, count - start)):
            for table, row in make(rnd.choice(team_ids), NOW - YEAR * rnd.random(), rnd, numbers.take(kind)):
                tables.setdefault(table, []).append(row)
        with db.engine.begin() as conn:
            for table, rows in tables.items():  # in the order first met: parents before children
                conn.execute(table.__table__.insert(), rows)


def _review(team_id: int, at: datetime, rnd: random.Random, number: int):
    """A request with a primary and a secondary: most done within a day or two, rated mostly 7–10; a
    few of the most recent still open (some of those stalled)."""
    open_ = at > NOW - timedelta(days=3) and rnd.random() < 0.5
    primary, secondary = rnd.sample(REVIEWERS, 2)
    done_at = None if open_ else at + HOUR * rnd.uniform(1, 40)
    yield ReviewRequest, {
        "id": number, "workspace_id": WORKSPACE, "team_id": team_id, "number": number, "author_id": "UAUTHOR",
        "channel_id": "CBENCH", "url": f"https://git.example.com/pr/{number}", "summary": None,
        "specialization": "Backend/API", "size": rnd.choice("SML"), "needed_by": None,
        "status": "open" if open_ else "done", "version": 1, "created_at": at, "updated_at": done_at or at,
        "stalled_at": at + HOUR * 20 if open_ and rnd.random() < 0.3 else None, "done_at": done_at,
        "withdrawn_at": None, "turnaround_seconds": None if open_ else int(rnd.uniform(1, 12) * 3600),
        "rating": None}
    for (reviewer, tier), role in ((primary, "primary"), (secondary, "secondary")):
        finished = None if open_ else at + HOUR * rnd.uniform(1, 40)
        yield ReviewAssignment, {
            "workspace_id": WORKSPACE, "team_id": team_id, "request_id": number, "reviewer_id": reviewer, "role": role,
            "tier": tier, "status": "accepted" if open_ else "done", "assigned_at": at, "accepted_at": at + HOUR,
            "done_at": finished, "ended_at": finished, "decline_reason": None, "accept_nudged_at": None,
            "done_nudged_at": None, "turnaround_seconds": None if open_ else int(rnd.uniform(1, 10) * 3600),
            "rating": None if open_ or rnd.random() < 0.3 else rnd.randint(6, 10), "rated_at": finished}


def _incident(team_id: int, at: datetime, rnd: random.Random, number: int):
    """An incident: most resolved within hours, some after escalating; a few recent ones still open."""
    level = rnd.choices((1, 2, 3), weights=(80, 15, 5))[0]
    open_ = at > NOW - timedelta(days=7) and rnd.random() < 0.5
    resolved_at = None if open_ else at + HOUR * rnd.uniform(0.5, 24 * level)
    yield Incident, {
        "id": number, "workspace_id": WORKSPACE, "team_id": team_id, "number": number,
        "title": f"Incident {number}", "severity": rnd.choice(("SEV1", "SEV2", "SEV3", "SEV4")),
        "affected_systems": None, "description": None, "commander_id": "ULEAD", "declared_by": "ULEAD",
        "declared_at": at, "status": "open" if open_ else "resolved", "level": level, "level_changed_at": at,
        "acknowledged_by": None, "acknowledged_at": None, "latest_update": None, "latest_update_by": None,
        "latest_update_at": None, "resolved_by": None if open_ else "ULEAD", "resolved_at": resolved_at,
        "summary": None, "review_due_at": None, "review_reminded_at": None, "channel_id": "CBENCH",
        "own_channel": False, "responders": [], "checklist_done": [], "card_version": 0, "checklist_version": 0}
    for reached in range(2, level + 1):
        yield IncidentEvent, {"workspace_id": WORKSPACE, "incident_id": number, "at": at + HOUR * 24 * (reached - 1),
                              "actor_id": "qms-bot", "kind": "escalated", "level": reached, "text": None, "data": None}


def _risk(team_id: int, at: datetime, rnd: random.Random, number: int):
    probability, impact = rnd.randint(1, 5), rnd.randint(1, 5)
    closed_at = at + timedelta(days=rnd.uniform(1, 90)) if rnd.random() < 0.7 else None
    closed_at = closed_at if closed_at is None or closed_at < NOW else None
    yield Risk, {
        "id": number, "workspace_id": WORKSPACE, "team_id": team_id, "number": number, "title": f"Risk {number}",
        "description": "", "category": "technical", "probability": probability, "impact": impact,
        "score": probability * impact, "owner_id": "UOWNER", "review_by": None, "review_reminded_for": None,
        "status": "closed" if closed_at else "open", "response": "mitigated" if closed_at else None,
        "closing_note": None, "closed_by": "UOWNER" if closed_at else None, "closed_at": closed_at,
        "created_by": "UOWNER", "created_at": at, "updated_at": closed_at or at, "version": 1}


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
