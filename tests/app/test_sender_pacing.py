"""Slack's pace per channel holds across processes: several senders on one database (the gunicorn
workers of `serve`, the clocks) together send no faster than one of them may."""

import threading
import time
from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient
from sqlmodel import select

from app.sender import OutboxSender
from storage import outbox, pacing
from storage.db import Database
from tests.conftest import both_databases
from tests.harness.bot import BOT_TOKEN

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RATE, BURST = 2.0, 3  # twice Slack's pace, so that the test takes seconds, not tens of them
CHANNELS = {"CBUSY": 10, "CONE": 2, "CTWO": 2, "CTHREE": 1}


def queue_all(database):
    with database.transaction() as session:
        for channel, count in CHANNELS.items():
            for n in range(count):
                outbox.enqueue(session, workspace_id="T0TEST", key=f"{channel}:{n}", method="chat.postMessage",
                               payload={"channel": channel, "text": f"{channel} {n}"}, now=T0)


def pending(database) -> int:
    with database.transaction() as session:
        return sum(m.status == "pending" for m in outbox.messages(session, "T0TEST"))


def run_senders(databases, slack, *, seconds=20.0):
    """Each database (its own engine, as a process has) drives its own sender on a thread of its own,
    every 50 ms, as `serve`'s workers and a clock would; returns what each sent."""
    start, began = threading.Barrier(len(databases)), time.monotonic()
    sent = [0] * len(databases)

    def run(index, db):
        client = WebClient(token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=[])
        sender = OutboxSender(db, client, worker=f"process-{index}", channel_rate=RATE, channel_burst=BURST)
        start.wait()
        while pending(db) and time.monotonic() - began < seconds:
            now = T0 + timedelta(seconds=time.monotonic() - began)
            sent[index] += sender.deliver_due(now=now, max_seconds=2).sent
            time.sleep(0.05)

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(databases)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sent


@both_databases
def test_two_senders_on_one_database_keep_each_channels_pace_together(database, slack):
    for channel in CHANNELS:
        slack.add_channel(channel, channel.lower())
    slack.pace_channels(RATE, BURST)  # Slack answers 429 past the pace
    queue_all(database)
    other_process = Database(database.url)
    try:
        sent = run_senders([database, other_process], slack)
    finally:
        other_process.dispose()

    assert all(sent), f"both senders took part: {sent}"
    assert [c for c in slack.calls if c.status == 429] == []  # never past the pace
    with database.transaction() as session:
        rows = outbox.messages(session, "T0TEST")
    assert {(m.status, m.attempts) for m in rows} == {("sent", 1)}  # every row once, at the first try
    for channel, count in CHANNELS.items():
        assert sorted(m["text"] for m in slack.posted(channel)) == sorted(f"{channel} {n}" for n in range(count))
    busy = sorted(c.at for c in slack.calls if c.method == "chat.postMessage" and c.args.get("channel") == "CBUSY")
    for i, start in enumerate(busy):  # in every 1-s window: at most the burst plus one second's rate
        assert sum(start <= t < start + 1.0 for t in busy[i:]) <= BURST + RATE
    assert busy[-1] - busy[0] >= (CHANNELS["CBUSY"] - BURST) / RATE - 0.1  # ... which is the pace, not faster


@both_databases
def test_a_rate_limit_one_sender_meets_holds_the_channel_for_the_other(database, slack):
    slack.add_channel("CBUSY", "busy")
    slack.rate_limit("chat.postMessage", retry_after=1)
    with database.transaction() as session:
        for n in range(2):
            outbox.enqueue(session, workspace_id="T0TEST", key=f"ping:{n}", method="chat.postMessage",
                           payload={"channel": "CBUSY", "text": f"ping {n}"}, now=T0)
    client = WebClient(token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=[])
    first = OutboxSender(database, client, worker="first", channel_rate=RATE, channel_burst=BURST)
    other_process = Database(database.url)
    second = OutboxSender(other_process, client, worker="second", channel_rate=RATE, channel_burst=BURST)
    try:
        assert first.deliver_due(now=T0, limit=1).retry == 1  # a 429: Retry-After 1 s
        began = time.monotonic()
        assert second.deliver_due(now=T0, max_seconds=5).sent == 2  # after the hold: the other, then the first
        waited = time.monotonic() - began
    finally:
        other_process.dispose()

    assert waited >= 0.9
    assert len([c for c in slack.calls if c.status == 429]) == 1


@both_databases
def test_the_pace_of_a_channel_idle_for_an_hour_is_forgotten(database, slack):
    clock = [1_000_000.0]
    client = WebClient(token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=[])
    sender = OutboxSender(database, client, channel_rate=RATE, channel_burst=BURST, clock=lambda: clock[0])
    with database.transaction() as session:
        pacing.take(session, "T0TEST", "COLD", now=clock[0], interval=0.5, tolerance=1.0)
        pacing.take(session, "T0TEST", "CWARM", now=clock[0] + 3000, interval=0.5, tolerance=1.0)

    clock[0] += 3700
    sender.deliver_due(now=T0)

    with database.transaction() as session:
        assert [row.channel for row in session.exec(select(pacing.ChannelPace))] == ["CWARM"]


@both_databases
def test_a_sender_that_dies_after_taking_the_channels_burst_holds_it_for_no_more_than_the_pace(database, slack):
    slack.add_channel("CBUSY", "busy")
    with database.transaction() as session:  # a sender took the whole burst, then was killed (kill -9)
        for _ in range(BURST):
            assert pacing.take(session, "T0TEST", "CBUSY", now=time.time(), interval=1 / RATE,
                               tolerance=(BURST - 1) / RATE)[0]
        outbox.enqueue(session, workspace_id="T0TEST", key="ping", method="chat.postMessage",
                       payload={"channel": "CBUSY", "text": "ping"}, now=T0)
    client = WebClient(token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=[])
    survivor = OutboxSender(database, client, worker="survivor", channel_rate=RATE, channel_burst=BURST)

    began = time.monotonic()
    assert survivor.deliver_due(now=T0).sent == 1
    assert time.monotonic() - began <= 1 / RATE + 0.2  # one interval at most, no lease to wait out
