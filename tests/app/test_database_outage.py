"""A database that is down or silent is answered, never a hang or a 500 (PostgreSQL behind a TCP
proxy the test cuts, silences and restores)."""

from __future__ import annotations

import os
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import make_url

from sqlmodel import select

from storage.audit import AuditEvent
from storage.db import Database
from storage.incidents import Incident, IncidentEvent
from storage.outbox import OutboxMessage
from storage.risks import Risk
from app import slack_requests
from tests.harness import processes
from tests.harness.bot import SIGNING_SECRET, TEAM_ID, BotUnderTest, channel_id
from tests.harness.databases import count_rows, postgres_server_url
from tests.harness.tcp_proxy import TcpProxy
from tests.harness.teams import make_team

pytestmark = pytest.mark.postgres

UNREACHABLE = "can't reach its database"


@pytest.fixture
def behind_proxy(postgres, slack):
    if postgres is None or postgres_server_url() is None:
        pytest.skip("QMS_TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    direct = postgres.emptied()
    url = make_url(direct.url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    db = Database(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), timeout=1.0)
    bot = BotUnderTest(db, slack)
    make_team(direct)
    yield bot, proxy
    proxy.restore()
    bot.close()
    proxy.close()
    db.dispose()


@pytest.mark.parametrize("trouble", ["cut", "silence"])
def test_while_the_database_is_away_every_request_is_answered_quickly_and_it_recovers(behind_proxy, trouble):
    bot, proxy = behind_proxy
    assert bot.get("/healthz").status == 200
    assert bot.command("risk list", channel="payments").status == 200

    getattr(proxy, trouble)()
    health = bot.get("/healthz")
    assert health.status == 503 and health.seconds < 2.0
    for _ in range(3):
        reply = bot.command("risk list", channel="payments", wait=False)
        assert reply.status == 200 and reply.seconds < 3.0
        assert UNREACHABLE in reply.json.get("text", ""), reply.body

    proxy.restore()
    assert bot.get("/healthz").status == 200
    reply = bot.command("risk list", channel="payments")
    assert reply.status == 200 and UNREACHABLE not in reply.body


def threads_waiting_on_postgres() -> list[str]:
    """The threads of this process inside a psycopg call (waiting for the server's answer)."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    waiting = []
    for ident, frame in sys._current_frames().items():
        while frame is not None:
            if f"{os.sep}psycopg{os.sep}" in frame.f_code.co_filename:
                waiting.append(names.get(ident, str(ident)))
                break
            frame = frame.f_back
    return waiting


def app_threads() -> list[str]:
    """The threads of the app under test (not the proxy's, the HTTP server's or the fake Slack's)."""
    return sorted(t.name for t in threading.enumerate()
                  if not any(part in t.name for part in ("_pipe", "waitress", "process_request", "MainThread")))


def wave_of_requests(bot, size: int) -> list:
    replies: list = []
    requests = [threading.Thread(target=lambda: replies.append(bot.command("risk list", channel="payments",
                                                                           wait=False))) for _ in range(size)]
    for request in requests:
        request.start()
    for request in requests:
        request.join(timeout=10)
    return replies


def wait_until_no_thread_waits_on_postgres(bot, *, within: float) -> float:
    started = time.monotonic()
    while threads_waiting_on_postgres() or bot.db.engine.pool.checkedout():
        assert time.monotonic() - started < within, threads_waiting_on_postgres()
        time.sleep(0.1)  # polling for the threads to come free
    assert bot.app.listener_runner.listener_executor.wait_idle(timeout=1)
    return time.monotonic() - started


def test_a_silent_database_holds_no_thread_past_its_timeout_and_recovers_without_a_restart(behind_proxy):
    bot, proxy = behind_proxy
    assert bot.command("risk list", channel="payments").status == 200
    assert threads_waiting_on_postgres() == []

    threads = []
    for wave in range(2):  # silent twice, with a short return in between
        proxy.silence()  # connections accepted, nothing ever answered: TCP itself sees nothing wrong
        replies = wave_of_requests(bot, 6)  # as many at once as the server has threads (6): none waits for one
        assert len(replies) == 6
        assert all(reply.status == 200 and reply.seconds < 3.0 and UNREACHABLE in reply.body for reply in replies), \
            "\n".join(f"{reply.status} {reply.seconds:.2f} {reply.body[:300]}" for reply in replies)
        # The listeners behind the answers wait on the silent database until the watchdog cuts their
        # calls off (DATABASE_TIMEOUT, 1 s here, + 1 s) or their new connection times out.
        freed = wait_until_no_thread_waits_on_postgres(bot, within=10)
        threads.append(app_threads())
        print(f"silent database, wave {wave + 1}: every thread free {freed:.1f} s after the answers")

        proxy.restore()  # back without a restart
        reply = bot.command("risk list", channel="payments")
        assert reply.status == 200 and UNREACHABLE not in reply.body
        assert bot.get("/healthz").status == 200
    assert threads[1] == threads[0], threads  # the second wave reused the threads the first one gave back
    assert bot.db.watchdog.cut_off >= 2
    assert threads_waiting_on_postgres() == []


def counts(db) -> dict[str, int]:
    return {"risks": count_rows(db, Risk), "audit events": count_rows(db, AuditEvent),
            "outbox rows": count_rows(db, OutboxMessage), "incident events": count_rows(db, IncidentEvent)}


def answered_unreachable(bot, reply) -> bool:
    """Told over HTTP, or (when the request was acknowledged first) ephemerally at its response_url."""
    return UNREACHABLE in reply.body or any(UNREACHABLE in str(r) for r in bot.responses())


@pytest.mark.parametrize("trouble", ["silence", "cut"])
def test_a_modal_submission_cut_off_mid_transaction_leaves_nothing_half_written(behind_proxy, trouble):
    bot, proxy = behind_proxy
    bot.command("risk", channel="payments")
    view = bot.last_view()
    values = {"title": "Card tokens leak into logs", "description": "", "category": "technical",
              "probability": "3", "impact": "4", "owner": "dave", "actions": "Scrub the logs", "review_by": None}
    before = counts(bot.db)

    # The database goes away between the risk's INSERT and its audit event's: the server has half the work
    proxy.trip("INSERT INTO audit_event", then=trouble)
    reply = bot.submit(view, values)
    assert proxy.tripped.is_set() and any(b"INSERT INTO risk" in chunk for chunk in proxy.before_trip)
    assert reply.status == 200 and reply.seconds < 3.0
    assert reply.json.get("response_action") == "errors" and UNREACHABLE in reply.body, reply.body  # input kept

    proxy.restore()
    assert counts(bot.db) == before  # no risk without its audit event and its card: nothing at all
    retried = bot.submit(view, values)
    assert retried.status == 200 and UNREACHABLE not in retried.body
    after = counts(bot.db)
    assert after["risks"] == 1 and after["audit events"] > before["audit events"]
    assert after["outbox rows"] > before["outbox rows"]


@pytest.mark.parametrize("trouble", ["silence", "cut"])
def test_a_command_that_writes_cut_off_mid_transaction_leaves_nothing_half_written(behind_proxy, trouble):
    bot, proxy = behind_proxy
    bot.command("incident", user="alice", channel="payments")
    bot.submit(bot.last_view(), {"title": "Checkout fails", "severity": "SEV2", "commander": "alice"})
    before = counts(bot.db)

    proxy.trip("INSERT INTO audit_event", then=trouble)
    reply = bot.command("incident resolve INC-001 Gateway certificate renewed", user="alice", channel="payments")
    assert proxy.tripped.is_set() and any(b"UPDATE incident" in chunk for chunk in proxy.before_trip)
    assert reply.status == 200 and reply.seconds < 3.0
    assert answered_unreachable(bot, reply), (reply.body, bot.responses())

    proxy.restore()
    assert counts(bot.db) == before
    with bot.db.transaction() as session:
        assert session.exec(select(Incident)).one().status != "resolved"
    retried = bot.command("incident resolve INC-001 Gateway certificate renewed", user="alice", channel="payments")
    assert retried.status == 200 and UNREACHABLE not in retried.body
    with bot.db.transaction() as session:
        assert session.exec(select(Incident)).one().status == "resolved"
        resolved = session.exec(select(AuditEvent).where(AuditEvent.action == "resolved")).all()
    assert len(resolved) == 1


def signed_command(url: str, text: str, user: str) -> tuple[int, float, str]:
    body = slack_requests.slash_command(text=text, user_id=user, channel_id=channel_id("payments"), team_id=TEAM_ID,
                                        response_url="http://127.0.0.1:9/r")
    request = urllib.request.Request(url + "/slack/events", data=body.encode(), method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", **slack_requests.sign(SIGNING_SECRET, body)})
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=15) as response:
        return response.status, time.monotonic() - started, response.read().decode()


def test_serve_with_a_silent_database_answers_within_3_s_and_frees_its_threads(postgres, slack, tmp_path):
    if postgres is None or postgres_server_url() is None:
        pytest.skip("QMS_TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    direct = postgres.emptied()
    make_team(direct)
    url = make_url(direct.url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    port = processes.free_port()
    env = processes.environment(
        SLACK_BOT_TOKEN="xoxb-test-token", SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=slack.api_url,
        DATABASE_URL=url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
        DATABASE_TIMEOUT="1", PORT=str(port), LOG_LEVEL="WARNING", WEB_CONCURRENCY="1")
    process = processes.start("serve", "--host", "127.0.0.1", "--threads", "4", env=env, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        processes.wait_until_healthy(base + "/healthz", process)
        [worker] = processes.child_pids(process.pid)
        assert signed_command(base, "risk list", "UALICE")[0] == 200
        tasks = []
        for spell in range(3):  # silent three times, with a short return in between
            proxy.silence()
            replies: list = []
            senders = [threading.Thread(target=lambda n=n: replies.append(signed_command(base, "risk list", f"UP{n}")))
                       for n in range(4)]  # as many at once as the worker has threads
            for sender in senders:
                sender.start()
            for sender in senders:
                sender.join(timeout=15)
            assert len(replies) == 4
            assert all(status == 200 and seconds < 3.0 and UNREACHABLE in body for status, seconds, body in replies), \
                replies
            answered = time.monotonic()
            while proxy.unanswered():  # calls waiting on the silent database, each holding a thread
                if time.monotonic() - answered > 10:
                    process.terminate()
                    raise AssertionError(f"{proxy.unanswered()} calls still wait on the silent database after 10 s;"
                                         f" serve's log:\n{process.communicate(timeout=15)[1][-5000:]}")
                time.sleep(0.1)  # polling for the watchdog to cut them off
            tasks.append(len(list(Path(f"/proc/{worker}/task").iterdir())))
            print(f"serve, silent spell {spell + 1}: no call waiting {time.monotonic() - answered:.1f} s after "
                  f"the answers; the worker has {tasks[-1]} threads")  # the figures in README's "Reliability"
            proxy.restore()
            assert signed_command(base, "risk list", "UALICE")[0] == 200
            assert urllib.request.urlopen(base + "/healthz", timeout=5).status == 200
        # The thread pools warm up in the first spells; after that, a silence takes no thread for good.
        assert tasks[2] <= tasks[1], tasks
        assert processes.child_pids(process.pid) == [worker]  # no restart
    finally:
        process.terminate()
        process.wait(timeout=15)
        proxy.close()
