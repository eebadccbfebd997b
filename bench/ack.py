"""How fast `qms-bot serve` acknowledges Slack's requests (Slack allows 3 seconds).

Starts the real server as a process (waitress, SQLite by default, or DATABASE_URL), its Web API
calls going to a LocalSlack on loopback, and sends correctly signed slash commands over HTTP,
one at a time and then from several concurrent clients. Prints latency percentiles per command.

    .venv/bin/python bench/ack.py [--requests 300] [--concurrency 8] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from app import slack_requests
from app.local_slack import LocalSlack

SECRET = "bench-signing-secret"
TEAM = "T0BENCH"
COMMANDS = {
    "/qms help (answered in the ack)": "help",
    "/qms nonsense (usage in the ack)": "nonsense",
    "/qms setup (ack, then a modal opens)": "setup",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per command and concurrency level")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients in the second round")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    with LocalSlack(team_id=TEAM) as slack, tempfile.TemporaryDirectory() as workdir:
        slack.add_user("UBENCH", "bench", is_admin=True)
        slack.add_channel("CBENCH", "bench", members=("UBENCH",))
        url, process = start_server(slack, Path(workdir), args.database_url)
        try:
            print(f"qms-bot serve on {url}, {args.requests} requests per row\n")
            print(f"{'command':42} {'clients':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
            for label, text in COMMANDS.items():
                for clients in (1, args.concurrency):
                    times = measure(url, text, slack, args.requests, clients)
                    print(f"{label:42} {clients:>7} " + " ".join(f"{value:8.1f}" for value in summary(times)))
        finally:
            process.terminate()
            process.wait(timeout=10)


def start_server(slack: LocalSlack, workdir: Path, database_url: str | None) -> tuple[str, subprocess.Popen]:
    from tests.harness.processes import QMS_BOT, free_port, wait_until_healthy

    port = free_port()
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": slack.api_url, "PORT": str(port), "LOG_LEVEL": "WARNING",
           "DATABASE_URL": database_url or f"sqlite:///{workdir}/bench.db"}
    if database_url:
        subprocess.run([QMS_BOT, "migrate"], env=env, check=True, capture_output=True)
    process = subprocess.Popen([QMS_BOT, "serve", "--host", "127.0.0.1"], env=env, cwd=workdir)
    wait_until_healthy(f"http://127.0.0.1:{port}/healthz", process)
    return f"http://127.0.0.1:{port}", process


def measure(url: str, text: str, slack: LocalSlack, count: int, clients: int) -> list[float]:
    def one(_: int) -> float:
        body = slack_requests.slash_command(text=text, user_id="UBENCH", channel_id="CBENCH", team_id=TEAM,
                                            response_url=slack.response_url("bench"))
        request = urllib.request.Request(url + "/slack/events", data=body.encode(), method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded", **slack_requests.sign(SECRET, body)})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            assert response.status == 200
        return (time.perf_counter() - started) * 1000

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(one, range(count)))


def summary(times: list[float]) -> tuple[float, float, float, float]:
    ordered = sorted(times)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return statistics.median(ordered), pick(0.95), pick(0.99), ordered[-1]


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
