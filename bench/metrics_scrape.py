"""How long one scrape of /metrics takes as the number of teams grows (Prometheus scrapes every 15 s).

Fills a fresh database (SQLite by default, or DATABASE_URL) with N teams in a few workspaces, each with
open risks, an open incident and review requests, then times `app.metrics.exposition` (the whole
/metrics body: the outbox, the clock and the per-team series from the digests' SQL).

    .venv/bin/python bench/metrics_scrape.py [--teams 10 50] [--scrapes 5] [--database-url URL]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

from app import metrics
from bot import incidents, risks, teams
from bot.risks import RiskForm
from storage.db import Database

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def fill(db: Database, count: int) -> None:
    for number in range(count):
        workspace = f"T{number % 3:04d}"
        form = teams.TeamForm(name=f"Team {number}", home_channel_id=f"C{number:05d}", digest_channel_id=None,
                              timezone="UTC", roles={"team_lead": ["UALICE"]}, work_days=["mon", "tue", "wed"],
                              work_start="09:00", work_end="17:00")
        with db.transaction() as session:
            team = teams.save_team(session, workspace, form, actor_id="UALICE", now=NOW - timedelta(days=30))
            for index in range(5):
                risks.log_risk(session, team, RiskForm(title=f"Risk {index}", probability=str(1 + index % 5),
                                                       impact=str(1 + index % 4), owner_id="UALICE"),
                               actor_id="UALICE", now=NOW - timedelta(days=index))
            incidents.declare(session, team, incidents.IncidentForm(title="Down", severity="SEV2",
                                                                    commander_id="UALICE"),
                              actor_id="UALICE", now=NOW - timedelta(hours=30))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--scrapes", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    for count in args.teams:
        with tempfile.TemporaryDirectory() as directory:
            db = Database(args.database_url or f"sqlite:///{directory}/bench.db")
            db.migrate()
            fill(db, count)
            started = time.perf_counter()
            metrics.exposition(db, now=NOW)  # the first scrape also compiles the queries (SQLAlchemy caches them)
            first = time.perf_counter() - started
            times = []
            for _ in range(args.scrapes):
                started = time.perf_counter()
                body = metrics.exposition(db, now=NOW)
                times.append(time.perf_counter() - started)
            print(f"{count:4d} teams: {len(body):7d} bytes, scrape median {statistics.median(times) * 1000:7.1f} ms, "
                  f"max {max(times) * 1000:7.1f} ms (first: {first * 1000:.0f} ms)")
            db.dispose()


if __name__ == "__main__":
    main()
