"""How the outbox copes: draining a backlog after a Slack outage, and the longest delay after a crash.

1. Drain: 1,000 messages queued for 50 channels while Slack was down (20 per channel); Slack comes
   back; one sender, paced as in production (SLACK_CHANNEL_RATE, default 1 a second per channel with
   bursts of 3), sends them (or `--senders N` of them at once, each with its own database engine, as
   serve's workers and the clocks are). The fake Slack answers 429 past that pace. Prints the time
   until the last one went out, the rate, and how many 429s Slack answered.
2. Crash: a sender claims a full round (36 rows over 12 channels) and dies (kill -9: its rows stay
   claimed); another sender runs at the clock's 5-second ticks. Prints how long after the crash the
   last row went out (the lease, OUTBOX_LEASE_SECONDS, plus one tick at most).

Real time, a LocalSlack on loopback and a fresh SQLite file, or with --postgres-server URL a database
of its own created on that PostgreSQL server (and dropped after):

    .venv/bin/python bench/reliability.py [--messages 1000] [--channels 50] [--senders 1] [--postgres-server URL]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from slack_sdk import WebClient
from sqlalchemy import create_engine, make_url, text

from app.local_slack import LocalSlack
from app.sender import LEASE, OutboxSender
from storage import outbox
from storage.db import Database

TOKEN = "xoxb-bench"

TICK = timedelta(seconds=5)  # the clock's outbox job


def fresh_database(server: str | None) -> tuple[Database, callable]:
    if server is None:
        db = Database(f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}")
        db.migrate()
        return db, db.dispose
    name = f"qms_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(make_url(server).set(database=name).render_as_string(hide_password=False))
    db.migrate()

    def drop() -> None:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return db, drop


def drain(db: Database, slack: LocalSlack, *, messages: int, channels: int, rate: float,
          senders: int = 1) -> dict[str, float]:
    now = datetime.now(UTC)
    with db.transaction() as session:
        for n in range(messages):
            outbox.enqueue(session, workspace_id="T0BENCH", key=f"bench:{n}", method="chat.postMessage",
                           payload={"channel": f"C{n % channels:04d}", "text": f"message {n}"}, now=now)
    client = WebClient(token=TOKEN, base_url=slack.api_url, retry_handlers=[])
    sender = OutboxSender(db, client, worker="bench-drain", channel_rate=rate)
    slack.down = True
    sender.deliver_due(now=datetime.now(UTC), max_seconds=2)  # the outage: every call fails
    slack.down = False
    if rate > 0:
        slack.pace_channels(rate, 3)  # Slack's own limit: 429 past it
    started = time.monotonic()
    sent = [0] * senders

    def run(index: int) -> None:
        # each sender as a process of its own: its own engine on the database (serve's workers, clocks)
        own = db if index == 0 else Database(db.url)
        mine = OutboxSender(own, client, worker=f"bench-drain-{index}", channel_rate=rate)
        while pending(own) and time.monotonic() - started < 600:
            sent[index] += mine.deliver_due(now=datetime.now(UTC) + timedelta(minutes=1), max_seconds=30).sent
        if own is not db:
            own.dispose()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    limited = sum(1 for call in slack.calls if call.status == 429)
    per_channel = messages / channels
    best = max(per_channel - 3, 0) / rate if rate else 0.0
    total = sum(sent)
    print(f"drain: {total} of {messages} messages over {channels} channels sent by {senders} sender(s) "
          f"{seconds:.1f} s after Slack came back ({total / seconds:.0f}/s; {per_channel:.0f} per channel at "
          f"{rate:g}/s with bursts of 3 is {best:.0f} s at best); 429s: {limited}")
    return {"sent": total, "messages": messages, "channels": channels, "seconds": seconds,
            "per_second": total / seconds, "best_seconds": best, "rate_limited": limited}


def pending(db: Database) -> bool:
    with db.transaction() as session:
        return outbox.counts_by_status(session).get(outbox.PENDING, 0) > 0


def drain_only(*, messages: int = 1000, channels: int = 50, rate: float = 1.0, postgres_server: str | None = None,
               ) -> dict[str, float]:
    """The drain alone (bench/run.py): a LocalSlack with `channels` channels and a fresh database."""
    logging.getLogger("app.sender").setLevel(logging.ERROR)  # the outage's retries would log a line each
    with LocalSlack(team_id="T0BENCH") as slack:
        for n in range(channels):
            slack.add_channel(f"C{n:04d}", f"channel-{n}")
        db, cleanup = fresh_database(postgres_server)
        try:
            return drain(db, slack, messages=messages, channels=channels, rate=rate)
        finally:
            cleanup()


def crash(db: Database, slack: LocalSlack) -> None:
    for n in range(12):
        slack.add_channel(f"K{n:03d}", f"team-{n}")
    start = datetime.now(UTC)
    with db.transaction() as session:
        for n in range(36):
            outbox.enqueue(session, workspace_id="T0BENCH", key=f"crash:{n}", method="chat.postMessage",
                           payload={"channel": f"K{n % 12:03d}", "text": f"ping {n}"}, now=start)
        claimed = outbox.claim_due(session, now=start, worker="killed", lease=LEASE, limit=100, per_channel=3)
    client = WebClient(token=TOKEN, base_url=slack.api_url, retry_handlers=[])
    survivor = OutboxSender(db, client, worker="survivor", channel_rate=0)
    moment, sent = start, 0
    while sent < len(claimed):
        moment += TICK
        sent += survivor.deliver_due(now=moment).sent
    print(f"crash: {len(claimed)} rows claimed by a sender killed mid-round (lease {LEASE.total_seconds():.0f} s, "
          f"clock tick {TICK.total_seconds():.0f} s): the last went out {(moment - start).total_seconds():.0f} s "
          f"after the crash")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--rate", type=float, default=1.0, help="messages per second per channel")
    parser.add_argument("--senders", type=int, default=1,
                        help="senders draining at once, each with its own database engine (as processes)")
    parser.add_argument("--postgres-server", default=None, metavar="URL",
                        help="a PostgreSQL server to create a database of its own on; default: a fresh SQLite file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the outage's retries would log a line each
    with LocalSlack(team_id="T0BENCH") as slack:
        for n in range(args.channels):
            slack.add_channel(f"C{n:04d}", f"channel-{n}")
        db, cleanup = fresh_database(args.postgres_server)
        try:
            drain(db, slack, messages=args.messages, channels=args.channels, rate=args.rate, senders=args.senders)
            crash(db, slack)
        finally:
            cleanup()


if __name__ == "__main__":
    main()
