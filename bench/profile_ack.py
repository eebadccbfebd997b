"""Where an acknowledgement's CPU goes: the app built as `serve` builds it, signed `/qms` commands
sent through its WSGI app in-process (no sockets), under cProfile. Prints CPU per ack per command
and, with --top, the hottest functions.

    .venv/bin/python bench/profile_ack.py [--requests 500] [--top 25] [--command "risk list"]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

COMMANDS = ("help", "risk list", "incident list", "review list", "metrics")


class _Inline:
    """An executor that runs the work in the caller's thread: cProfile sees one thread."""

    def __init__(self, *args, **kwargs):
        pass

    def wait_idle(self, timeout: float = 0) -> bool:
        return True

    def submit(self, fn, /, *args, **kwargs):
        from concurrent.futures import Future

        future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - handed to the caller as the pool would
            future.set_exception(error)
        return future


def build(workdir: Path, *, inline: bool = False):
    from app import slack_requests, web as web_module
    from app.bolt import build_app
    from app.local_slack import LocalSlack
    from app.services import build_runtime
    from app.web import create_web_app
    from bot.core.settings import Settings
    from storage.db import Database
    from tests.harness.bot import BOT_TOKEN, SIGNING_SECRET, TEAM_ID, seed_workspace

    slack = LocalSlack(team_id=TEAM_ID).__enter__()
    seed_workspace(slack)
    db = Database(f"sqlite:///{workdir}/bench.db")
    db.migrate()
    settings = Settings.from_env({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                                  "SLACK_API_URL": slack.api_url, "DATABASE_URL": db.url, "LOG_LEVEL": "WARNING"})
    services = build_runtime(settings, db=db)
    bolt = build_app(services)
    if inline:  # the request's dispatch and Bolt's listener both in this thread, for cProfile
        web_module.ThreadPoolExecutor = _Inline
        bolt.listener_runner.listener_executor = _Inline()
    web = create_web_app(bolt, services, signing_secret=SIGNING_SECRET)
    seed(db)
    client = web.test_client()

    def send(text: str) -> int:
        body = slack_requests.slash_command(text=text, user_id="UALICE", channel_id="CPAYMENTS", team_id=TEAM_ID,
                                            response_url=slack.response_url("bench"))
        headers = {"Content-Type": "application/x-www-form-urlencoded", **slack_requests.sign(SIGNING_SECRET, body)}
        return client.post("/slack/events", data=body, headers=headers).status_code

    return send, slack


def seed(db, risks: int = 12, incidents: int = 5) -> None:
    """A team with a handful of open risks and incidents, as a list command would find them."""
    from bot import incidents as incident_domain
    from bot import risks as risk_domain
    from bot.incidents.service import IncidentForm
    from bot.risks.rules import RiskForm
    from tests.harness.teams import add_reviewer, make_team

    team = make_team(db, "Payments", channel="payments")
    add_reviewer(db, team, "dave")
    now = datetime(2026, 1, 6, 10, 0, tzinfo=UTC)
    with db.transaction() as session:
        for n in range(risks):
            risk_domain.log_risk(session, team, RiskForm(title=f"Risk {n}", probability=1 + n % 5, impact=1 + (n * 3) % 5,
                                                        owner_id="UBOB"), actor_id="UALICE", now=now)
        for n in range(incidents):
            incident_domain.declare(session, team, IncidentForm(title=f"Incident {n}", severity="SEV3",
                                                                commander_id="UBOB"), actor_id="UALICE", now=now)


def cpu_per_ack(send, text: str, count: int) -> float:
    started = time.process_time()
    for _ in range(count):
        assert send(text) == 200
    return (time.process_time() - started) / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--top", type=int, default=0, help="print the N hottest functions (cumulative)")
    parser.add_argument("--sort", default="cumulative", help="cumulative or tottime")
    parser.add_argument("--command", action="append", help="default: help and the read commands")
    parser.add_argument("--inline", action="store_true", help="dispatch and listener in the request's thread")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        send, slack = build(Path(workdir), inline=bool(args.top) or args.inline)
        for text in args.command or COMMANDS:
            for _ in range(20):
                send(text)  # warm: first renders, first queries
            ms = cpu_per_ack(send, text, args.requests)
            print(f"/qms {text:16} {ms:6.2f} ms CPU per ack (in-process, no HTTP)")
            if args.top:
                profile = cProfile.Profile()
                profile.runcall(lambda: [send(text) for _ in range(args.requests)])
                pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
        slack.__exit__(None, None, None)


if __name__ == "__main__":
    main()
