"""The lag from an escalation falling due to its ping going out, with one real clock process.

Open incidents are seeded whose Level 2 falls due at spread moments of the next few minutes (each in
a channel of its own); `qms-bot clock` runs against the database and a LocalSlack on loopback, and
the time of each incident's first chat.postMessage (its Level 2 ping) is taken as Slack receives it.
Prints the lag's median, p99 and maximum, and the clock's resident memory while it ran.

    .venv/bin/python bench/escalation_lag.py [--incidents 60] [--window 180] [--postgres-server URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.local_slack import LocalSlack  # noqa: E402

BIN = Path(sys.executable).parent
LEVEL2_AFTER = timedelta(hours=24)  # a new team's SEV3 reaches Level 2 24 h after it was declared


class TimedCalls(list):
    """LocalSlack's call log, with the moment each call arrived (time.time())."""

    def __init__(self):
        super().__init__()
        self.times: list[float] = []

    def append(self, call) -> None:
        self.times.append(time.time())
        super().append(call)

    def clear(self) -> None:
        self.times.clear()
        super().clear()


def seed(db, count: int, first_due: datetime, window: float) -> dict[str, datetime]:
    """`count` open SEV3 incidents, their Level 2 due evenly over `window` seconds from `first_due`;
    {channel: due}."""
    from sqlalchemy import insert

    from storage.incidents import Incident
    from tests.harness.teams import make_team

    team = make_team(db, "Payments", channel="payments")
    due: dict[str, datetime] = {}
    rows = []
    for n in range(count):
        at = first_due + timedelta(seconds=window * n / max(count - 1, 1))
        channel = f"CLAG{n:04d}"
        due[channel] = at
        declared = at - LEVEL2_AFTER
        rows.append(dict(workspace_id=team.workspace_id, team_id=team.id, number=n + 1, title=f"Lag {n}",
                         severity="SEV3", commander_id="UBOB", declared_by="UALICE", declared_at=declared,
                         status="open", level=1, level_changed_at=declared, channel_id=channel, responders=[],
                         checklist_done=[]))
    with db.engine.begin() as connection:
        connection.execute(insert(Incident), rows)
    return due


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run(incidents: int, window: float, postgres_server: str | None, lead: float = 15.0) -> dict[str, float]:
    from bench.reliability import fresh_database
    from tests.harness.bot import TEAM_ID, seed_workspace
    from tests.harness.processes import free_port

    with LocalSlack(team_id=TEAM_ID) as slack, tempfile.TemporaryDirectory() as workdir:
        slack.calls = TimedCalls()
        seed_workspace(slack)
        db, drop = fresh_database(postgres_server)  # a fresh SQLite file, or a database of its own there
        url = db.engine.url.render_as_string(hide_password=False)
        first_due = datetime.now(UTC) + timedelta(seconds=lead)
        due = seed(db, incidents, first_due, window)
        for channel in due:
            slack.add_channel(channel, channel.lower(), members=("UBOB", "UALICE"))
        db.engine.dispose()
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": "bench", "DATABASE_URL": url,
               "SLACK_API_URL": slack.api_url, "CLOCK_METRICS_PORT": str(free_port()), "LOG_LEVEL": "WARNING",
               "PYTHONPATH": str(ROOT)}
        log = open(Path(workdir) / "clock.log", "w")
        clock = subprocess.Popen([str(BIN / "qms-bot"), "clock"], env=env, cwd=workdir, stdout=log,
                                 stderr=subprocess.STDOUT)
        memory: list[float] = []
        pinged: dict[str, float] = {}
        try:
            deadline = time.time() + lead + window + 120
            while time.time() < deadline and len(pinged) < len(due):
                time.sleep(1)
                memory.append(rss_mb(clock.pid))
                for call, at in zip(list(slack.calls), list(slack.calls.times)):
                    channel = call.args.get("channel") if isinstance(call.args, dict) else None
                    if call.method == "chat.postMessage" and channel in due and channel not in pinged:
                        pinged[channel] = at
        finally:
            clock.terminate()
            try:
                clock.wait(timeout=15)
            except subprocess.TimeoutExpired:
                clock.kill()
            drop()
    lags = sorted(pinged[c] - due[c].timestamp() for c in pinged)
    pick = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))] if lags else float("nan")  # noqa: E731
    return {"incidents": len(due), "pinged": len(pinged), "p50": statistics.median(lags) if lags else float("nan"),
            "p99": pick(0.99), "max": lags[-1] if lags else float("nan"),
            "rss_mb": memory[-1] if memory else 0.0, "rss_max_mb": max(memory, default=0.0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=60)
    parser.add_argument("--window", type=float, default=180.0, help="seconds over which the escalations fall due")
    parser.add_argument("--postgres-server", default=None, metavar="URL",
                        help="a PostgreSQL server to create a database of its own on; default: a fresh SQLite file")
    args = parser.parse_args()
    found = run(args.incidents, args.window, args.postgres_server)
    print(f"escalation lag, one clock: {found['pinged']} of {found['incidents']} pings sent; due → chat.postMessage "
          f"p50 {found['p50']:.1f} s, p99 {found['p99']:.1f} s, max {found['max']:.1f} s; "
          f"clock resident memory {found['rss_mb']:.0f} MB (largest seen {found['rss_max_mb']:.0f} MB)")


if __name__ == "__main__":
    main()
