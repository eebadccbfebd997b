"""How long each dashboard page takes at the size bench/digest.py builds (20 teams, about a million gate
results over a year, 50,000 reviews, 2,000 incidents and as many risks).

    .venv/bin/python bench/dashboard.py                  # SQLite, in a temporary file
    .venv/bin/python bench/dashboard.py --url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Each page is what its request does: the session looked up, the read models built (SQL), the HTML
rendered; timed five times, the median printed. The overview is timed for an executive, who sees all
20 teams (its figures are counted for every team at once: bot/dashboard/views.py: summaries). The aim:
each page under 300 ms. The latest figures are in docs/performance.md ("The web dashboard").
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import text  # noqa: E402

import digest as data  # noqa: E402  (bench/digest.py: the same data, built the same way)
from bot import dashboard  # noqa: E402
from bot.dashboard import audit  # noqa: E402
from storage.teams import Team  # noqa: E402

NOW = data.NOW


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a PostgreSQL server URL (a fresh database is created on it); SQLite if absent")
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--gates", type=int, default=1_000_000)
    parser.add_argument("--reviews", type=int, default=50_000)
    parser.add_argument("--incidents", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    db, cleanup, label = data._database(args.url)
    try:
        run(db, label, args)
    finally:
        cleanup()


def run(db, label: str, args) -> None:
    print(f"QMS Bot dashboard benchmark on {label}: {args.teams} teams, {args.gates:,} gate results, "
          f"{args.reviews:,} reviews, {args.incidents:,} incidents and as many risks a year")
    team_ids = data._teams(db, args.teams)
    rnd = random.Random(args.seed)
    started = time.perf_counter()
    numbers = data._Numbers()
    counts = {"gates": args.gates, "checks": args.gates // 25, "defects": args.gates // 500,
              "reviews": args.reviews, "incidents": args.incidents, "risks": args.incidents}
    for kind, count in counts.items():
        if kind in data.ROWS:
            data._insert(db, kind, team_ids, count, rnd)
        else:
            data._insert_domain(db, kind, team_ids, count, rnd, numbers)
    # bench/digest.py inserts gate results in bulk, around the app; add their daily totals as migration 0014
    # backfills them (the app writes them as it stores results).
    day = "date(happened_at)" if db.url.startswith("sqlite") else "CAST(happened_at AT TIME ZONE 'UTC' AS date)"
    with db.engine.begin() as conn:
        conn.execute(text(f"""
            INSERT INTO gate_day (team_id, gate, day, workspace_id, runs, passed, value_total, valued, seconds_total,
                                  timed)
            SELECT team_id, gate, {day}, MIN(workspace_id), COUNT(*), SUM(CASE WHEN passed THEN 1 ELSE 0 END),
                   COALESCE(SUM(value), 0), COUNT(value), COALESCE(SUM(duration_seconds), 0), COUNT(duration_seconds)
            FROM gate_result GROUP BY team_id, gate, {day}"""))
        if db.url.startswith("postgresql"):
            conn.execute(text("ANALYZE"))
    print(f"data built in {time.perf_counter() - started:.0f} s")
    with db.transaction() as session:
        session_id = dashboard.redeem(session, _link(session), now=NOW)
    pages = {
        "overview (20 teams)": lambda s, who: dashboard.page(
            "overview", viewer=who, summaries=dashboard.summaries(s, dashboard.visible_teams(s, who), now=NOW)),
        "team": lambda s, who: dashboard.page("team", viewer=who, page=dashboard.team_page(
            s, s.get(Team, team_ids[0]), now=NOW)),
        "audit log": lambda s, who: dashboard.page(
            "audit", viewer=who, page=audit.audit_page(s, who, {}), notes=[], pack_from="", pack_to=""),
        "audit log, one team": lambda s, who: dashboard.page(
            "audit", viewer=who, page=audit.audit_page(s, who, {"team": str(team_ids[0])}), notes=[], pack_from="",
            pack_to=""),
    }
    print(f"load average at the start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    print(f"{'page':<22} {'median':>8} {'slowest':>8}")
    for name, build in pages.items():
        timings = []
        for _ in range(5):
            begun = time.perf_counter()
            with db.transaction() as session:
                who = dashboard.viewer(session, session_id, now=NOW + timedelta(minutes=1))
                html = build(session, who)
            timings.append(time.perf_counter() - begun)
            assert len(html) > 1000
        print(f"{name:<22} {1000 * statistics.median(timings):>6.0f}ms {1000 * max(timings):>6.0f}ms")


def _link(session) -> str:
    url = dashboard.issue_link(session, data.WORKSPACE, "ULEAD00", workspace_admin=False, base_url="http://x",
                               now=NOW)
    return url.rsplit("token=", 1)[1]


if __name__ == "__main__":
    main()
