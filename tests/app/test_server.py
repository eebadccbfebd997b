"""`qms-bot serve` as a real process: gunicorn workers, and a graceful SIGTERM that answers what is in
flight and ends within 10 s."""

from __future__ import annotations

import signal
import threading
import time
import urllib.error
import urllib.request

import pytest

from app import slack_requests
from tests.harness import processes
from tests.harness.bot import SIGNING_SECRET, TEAM_ID


@pytest.fixture
def serving(slack, tmp_path):
    port = processes.free_port()
    env = processes.environment(
        SLACK_BOT_TOKEN="xoxb-test-token", SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=slack.api_url,
        DATABASE_URL=f"sqlite:///{tmp_path}/qms.db", PORT=str(port), LOG_LEVEL="WARNING", WEB_CONCURRENCY="2")
    process = processes.start("serve", "--host", "127.0.0.1", "--threads", "4", env=env, cwd=tmp_path)
    try:
        processes.wait_until_healthy(f"http://127.0.0.1:{port}/healthz", process)
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def post_command(url: str, text: str, results: list, user: str = "UALICE") -> None:
    body = slack_requests.slash_command(text=text, user_id=user, channel_id="CGENERAL", team_id=TEAM_ID,
                                        response_url="http://127.0.0.1:9/r")
    request = urllib.request.Request(url + "/slack/events", data=body.encode(), method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", **slack_requests.sign(SIGNING_SECRET, body)})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            results.append(response.status)
    except urllib.error.HTTPError as error:
        results.append(error.code)
    except OSError as error:
        results.append(repr(error))


def test_serve_runs_worker_processes_and_a_sigterm_answers_what_is_in_flight_within_ten_seconds(serving, slack):
    process, url = serving
    deadline = time.monotonic() + 10
    while len(processes.child_pids(process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # polling for the second worker's start-up
    assert len(processes.child_pids(process.pid)) == 2  # WEB_CONCURRENCY worker processes under one master

    slack.latency = 1.0  # Slack is slow: each request in flight waits on it
    results: list = []
    senders = [threading.Thread(target=post_command, args=(url, "setup", results, f"UPERSON{n}")) for n in range(4)]
    for sender in senders:
        sender.start()
    time.sleep(0.3)  # the requests are in flight (a short wait, not time passing for the code under test)
    stopped_at = time.monotonic()
    process.send_signal(signal.SIGTERM)
    for sender in senders:
        sender.join(timeout=15)
    code = process.wait(timeout=12)

    assert time.monotonic() - stopped_at < 10
    assert code == 0
    assert results == [200] * 4, results
