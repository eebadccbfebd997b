"""`qms-bot clock` as real processes on PostgreSQL: through a database outage (the clock stays up,
retries with backoff and catches up), and two clocks of which the one sending is killed with
`kill -9` (nothing waits more than 30 s, at most one message goes twice)."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import make_url
from sqlmodel import select

from app.services import build_runtime
from bot import incidents
from bot.core.settings import Settings
from bot.core.timeutil import utcnow
from storage import incidents as incident_store
from storage.outbox import OutboxMessage
from tests.harness import processes
from tests.harness.bot import BOT_TOKEN, channel_id
from tests.harness.databases import postgres_server_url
from tests.harness.tcp_proxy import TcpProxy
from tests.harness.teams import make_team

pytestmark = pytest.mark.postgres


@pytest.fixture
def direct(postgres):
    if postgres is None or postgres_server_url() is None:
        pytest.skip("QMS_TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    return postgres.emptied()


class Clock:
    """One `qms-bot clock` process, its log lines collected as they come."""

    def __init__(self, database_url: str, slack, tmp_path, *, token: str = BOT_TOKEN, **settings: str):
        env = processes.environment(
            SLACK_BOT_TOKEN=token, SLACK_API_URL=slack.api_url, DATABASE_URL=database_url, CLOCK_METRICS_PORT="0",
            LOG_LEVEL="INFO", **settings)
        self.token = token
        self.process = processes.start("clock", env=env, cwd=tmp_path)
        self.lines: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(stream,), daemon=True)
                         for stream in (self.process.stdout, self.process.stderr)]
        for reader in self._readers:
            reader.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line)

    def log(self) -> str:
        return "".join(self.lines)

    def wait_for(self, needle: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.log():
            assert self.process.poll() is None, f"clock exited ({self.process.returncode}):\n{self.log()}"
            assert time.monotonic() < deadline, f"{needle!r} never appeared in:\n{self.log()}"
            time.sleep(0.05)  # polling the log

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except Exception:
                self.process.kill()
                self.process.wait(timeout=5)
        for reader in self._readers:
            reader.join(timeout=5)


def settle_outbox(db, slack) -> None:
    """Send what is queued now (the declarations' cards), in this process, so the clocks start clean."""
    settings = Settings.from_env({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.api_url,
                                  "DATABASE_URL": db.url, "SLACK_CHANNEL_RATE": "0"})
    build_runtime(settings, db=db).sender.deliver_due(now=utcnow(), max_seconds=30)
    assert not pending(db)


def pending(db) -> list[OutboxMessage]:
    with db.transaction() as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.status != "sent")))


def declare(db, team, title: str, *, declared_at) -> int:
    form = incidents.IncidentForm(title=title, severity="SEV2", commander_id="UALICE")
    with db.transaction() as session:
        return incidents.declare(session, session.merge(team), form, actor_id="UALICE", now=declared_at).id


def level_of(db, incident_id: int) -> int:
    with db.transaction() as session:
        return incident_store.get(session, "T0TEST", incident_id).level


def test_the_clock_rides_out_a_database_outage_retrying_with_backoff_and_catches_up(direct, slack, tmp_path):
    team = make_team(direct)
    # Due at Level 2 a few seconds from now: it falls due while the database is away.
    due_at = utcnow() + timedelta(seconds=6)
    incident_id = declare(direct, team, "Checkout fails", declared_at=due_at - timedelta(hours=24))
    settle_outbox(direct, slack)
    url = make_url(direct.url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    # The database goes silent as the clock's start-up sweep first asks about incidents.
    proxy.trip("FROM incident", then="silence")
    clock = Clock(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), slack, tmp_path,
                  DATABASE_TIMEOUT="1")
    try:
        clock.wait_for("clock: started")
        assert proxy.tripped.wait(timeout=30), clock.log()
        silenced_at = time.monotonic()
        clock.wait_for("retrying in 2 s")  # failed twice, waiting longer each time
        while utcnow() < due_at + timedelta(seconds=2):
            time.sleep(0.1)  # the escalation falls due during the outage
        clock.wait_for("retrying in 4 s")
        assert clock.process.poll() is None  # alive through the outage
        assert level_of(direct, incident_id) == 1

        proxy.restore()
        restored_at = time.monotonic()
        deadline = restored_at + 30
        while not [m for m in slack.posted(channel_id("payments")) if "at Level 2" in m["text"]]:
            assert time.monotonic() < deadline, clock.log()
            time.sleep(0.1)  # polling for the catch-up
        caught_up = time.monotonic() - restored_at
        print(f"clock: outage of {restored_at - silenced_at:.1f} s; the escalation that fell due during it was "
              f"pinged {caught_up:.1f} s after the database came back")
        assert caught_up < 20
        clock.wait_for("ran again after")
        time.sleep(1.0)  # a short look for a second ping (not time passing for the code under test)
        pings = [m for m in slack.posted(channel_id("payments")) if "at Level 2" in m["text"]]
        assert len(pings) == 1 and level_of(direct, incident_id) == 2
        assert clock.process.poll() is None
    finally:
        clock.stop()
        proxy.close()
    assert clock.process.returncode == 0, clock.log()


def test_kill_9_of_the_clock_that_is_sending_delays_nothing_past_thirty_seconds_and_repeats_at_most_one(
        direct, slack, tmp_path):
    declared_at = utcnow() - timedelta(hours=24, minutes=1)  # due at Level 2 already
    for n in range(12):  # twelve teams, each with its channel and its own engineering manager
        slack.add_channel(channel_id(f"team{n}"), f"team{n}")
        slack.add_user(f"UMANAGER{n}", f"manager{n}")
        team = make_team(direct, f"Team {n}", channel=f"team{n}", managers=(f"manager{n}",))
        declare(direct, team, f"Outage {n}", declared_at=declared_at)
    settle_outbox(direct, slack)
    with direct.transaction() as session:
        before = max(session.exec(select(OutboxMessage.id)).all())
    slack.reset_calls()
    slack.latency = 0.05  # Slack is a little slow: the killed clock is caught mid-round

    clocks = [Clock(direct.url, slack, tmp_path, token=f"xoxb-clock-{name}") for name in ("a", "b")]
    try:
        deadline = time.monotonic() + 30
        while not (sends := [c for c in list(slack.calls) if c.method.startswith("chat.")]):
            assert time.monotonic() < deadline, "\n".join(clock.log() for clock in clocks)
            time.sleep(0.01)  # polling for the first message of the sweep
        victim = next(clock for clock in clocks if clock.token == sends[0].token)
        victim.process.kill()  # kill -9, mid-round: its claims stay behind, unreleased
        victim.process.wait(timeout=10)
        survivor = next(clock for clock in clocks if clock is not victim)

        killed = time.monotonic()
        went_out: dict[int, float] = {}  # row → seconds after the crash it was first seen sent
        deadline = killed + 45
        while True:
            with direct.transaction() as session:
                rows = list(session.exec(select(OutboxMessage).where(OutboxMessage.id > before)))
            for row in rows:
                if row.status == "sent" and row.id not in went_out:
                    went_out[row.id] = time.monotonic() - killed
            if len(rows) >= 36 and all(row.status == "sent" for row in rows):
                break
            assert time.monotonic() < deadline, [(r.id, r.status, r.claimed_by, r.last_error) for r in rows]
            assert survivor.process.poll() is None, survivor.log()
            time.sleep(0.1)  # polling for the survivor to send what the victim held
        time.sleep(1.0)  # a short look for a late second copy (not time passing for the code under test)
    finally:
        for clock in clocks:
            clock.stop()

    assert len(rows) == 36  # 12 escalations x (channel ping, DM to the manager, card update)
    longest = max(went_out.values())
    sends = Counter(c.method for c in slack.calls if c.method in ("chat.postMessage", "chat.update")
                    and c.status == 200 and c.response.get("ok"))
    duplicates = sum(sends.values()) - len(rows)
    print(f"crash: kill -9 of the clock sending; the last of 36 messages went out {longest:.1f} s after the crash "
          f"(lease 15 s, clock tick 5 s); {duplicates} sent twice")
    assert longest <= 30
    calls = Counter((c.method, c.args.get("channel"), c.args.get("ts"), str(c.args.get("text"))[:60], c.token)
                    for c in slack.calls if c.method in ("chat.postMessage", "chat.update") and c.response.get("ok"))
    assert 0 <= duplicates <= 1, [(k, v) for k, v in calls.items() if v > 1 or k[-1] == victim.token]
    pings = Counter(m["text"].split()[0] for n in range(12) for m in slack.posted(channel_id(f"team{n}"))
                    if "at Level 2" in m["text"])
    assert len(pings) == 12 and sum(pings.values()) <= 13  # every incident's ping, one of them twice at most
    assert all(1 <= len(slack.posted(f"UMANAGER{n}")) <= 2 for n in range(12))  # every manager told
