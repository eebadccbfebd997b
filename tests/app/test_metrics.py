"""GET /metrics on serve and on clock: Prometheus' text format, read back with prometheus_client's own
parser; the counters move when the bot acts, the gauges say what the database holds; loopback only,
or a bearer token."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from prometheus_client.parser import text_string_to_metric_families

from app import clock, metrics
from tests.harness.bot import TEAM_ID
from tests.harness.metrics import declare_incident
from tests.harness.teams import make_team
from tests.handlers.risks.test_commands import risk_values


def parse(text: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of an exposition."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(bot) -> dict:
    reply = bot.get("/metrics")
    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"].startswith("text/plain; version=")
    return parse(reply.body)


@pytest.fixture
def team(bot):
    return make_team(bot.db)


def test_a_command_a_risk_and_its_card_move_the_request_send_and_risk_series(bot, slack, team):
    before = scrape(bot)
    bot.command("risk", channel="payments")
    bot.submit(bot.last_view(), risk_values(probability="4", impact="4"))  # 16: critical
    after = scrape(bot)

    assert value(after, "qms_slack_requests_total", kind="command", listener="/qms") \
        == value(before, "qms_slack_requests_total", kind="command", listener="/qms") + 1
    assert value(after, "qms_slack_ack_seconds_count", kind="command", listener="/qms") \
        == value(before, "qms_slack_ack_seconds_count", kind="command", listener="/qms") + 1
    view = [key for key in after if key[0] == "qms_slack_requests_total" and ("kind", "view") in key[1]]
    assert view, "the form's submission is counted under its callback id"
    sent_before = value(before, "qms_outbox_sends_total", method="chat.postMessage", outcome="sent")
    assert value(after, "qms_outbox_sends_total", method="chat.postMessage", outcome="sent") >= sent_before + 1
    assert value(after, "qms_open_risks", workspace=TEAM_ID, team="Payments", band="critical") == 1
    assert value(after, "qms_open_risks", workspace=TEAM_ID, team="Payments", band="low") == 0
    assert value(after, "qms_outbox_messages", status="sent") >= 1
    assert value(after, "qms_outbox_oldest_due_age_seconds") == 0
    assert value(after, "qms_database_up") == 1


def test_a_rate_limited_send_counts_as_rate_limited_and_the_waiting_row_ages(bot, slack, team):
    before = scrape(bot)
    slack.rate_limit("chat.postMessage", retry_after=30)
    bot.command("risk", channel="payments")
    bot.submit(bot.last_view(), risk_values())
    after = scrape(bot)
    assert value(after, "qms_outbox_sends_total", method="chat.postMessage", outcome="rate_limited") \
        == value(before, "qms_outbox_sends_total", method="chat.postMessage", outcome="rate_limited") + 1
    assert value(after, "qms_outbox_messages", status="pending") >= 1
    later = parse(metrics.exposition(bot.db, now=datetime.now(UTC) + timedelta(minutes=3)).decode())
    assert value(later, "qms_outbox_due") >= 1
    assert value(later, "qms_outbox_oldest_due_age_seconds") > 120  # what the "outbox oldest" alert fires on


def test_kpis_and_targets_and_the_review_queue_are_per_team(bot, team):
    other = make_team(bot.db, "Platform", channel="platform")
    samples = scrape(bot)
    for name in ("Payments", "Platform"):
        assert value(samples, "qms_kpi_target", workspace=TEAM_ID, team=name, kpi="dor_pass_rate") == 90
        assert value(samples, "qms_review_queue", workspace=TEAM_ID, team=name) == 0
        assert (("qms_escalation_late_seconds", (("team", name), ("workspace", TEAM_ID)))) in samples
    assert other.name == "Platform"


def test_an_overdue_escalation_shows_as_late_until_the_clock_sends_its_ping(bot, slack, team):
    declare_incident(bot.db, team, "Payments gateway down", now="2026-03-02 09:00")
    due_late = datetime(2026, 3, 3, 9, 7, tzinfo=UTC)  # Level 2 fell due 24 h after, 7 minutes ago
    late = parse(metrics.exposition(bot.db, now=due_late).decode())
    assert value(late, "qms_escalation_late_seconds", workspace=TEAM_ID, team="Payments") == 7 * 60
    assert value(late, "qms_open_incidents", workspace=TEAM_ID, team="Payments", level="1") == 1

    lag_before = value(scrape(bot), "qms_escalation_ping_lag_seconds_count")
    job_before = value(scrape(bot), "qms_clock_job_duration_seconds_count", job="incidents.escalate")
    with freeze_time(due_late):
        clock.sweep(bot.services, now=due_late)
    after = parse(metrics.exposition(bot.db, now=due_late).decode())
    assert value(after, "qms_escalation_late_seconds", workspace=TEAM_ID, team="Payments") == 0
    assert value(after, "qms_open_incidents", workspace=TEAM_ID, team="Payments", level="2") == 1
    assert value(after, "qms_escalation_ping_lag_seconds_count") > lag_before
    assert value(after, "qms_clock_job_duration_seconds_count", job="incidents.escalate") == job_before + 1
    assert value(after, "qms_clock_job_last_run_timestamp_seconds", job="incidents.escalate") == due_late.timestamp()


def test_a_failing_clock_job_is_counted(bot):
    def broken(services, now):
        raise RuntimeError("boom")

    job = clock.Job("test.broken", broken, timedelta(minutes=1))
    before = value(scrape(bot), "qms_clock_job_failures_total", job="test.broken")
    with pytest.raises(RuntimeError):
        clock.run_job(bot.services, job, now=datetime.now(UTC))
    assert value(scrape(bot), "qms_clock_job_failures_total", job="test.broken") == before + 1


def test_the_clock_serves_metrics_on_its_own_port(bot):
    from dataclasses import replace

    from tests.harness.processes import free_port

    port = free_port()
    services = replace(bot.services, settings=replace(bot.settings, clock_metrics_port=port))
    server = clock.serve_metrics(services, host="127.0.0.1")
    try:
        clock.sweep(bot.services, now=datetime.now(UTC))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            samples = parse(response.read().decode())
        assert value(samples, "qms_clock_job_duration_seconds_count", job="outbox.deliver") >= 1
        assert value(samples, "qms_clock_job_last_run_timestamp_seconds", job="digests.post") > 0
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/slack/events", timeout=10)
        assert missing.value.code == 404  # the clock's port serves metrics, nothing else
        missing.value.close()
    finally:
        server.close()
    assert clock.serve_metrics(replace(bot.services, settings=replace(bot.settings, clock_metrics_port=0))) is None


@pytest.mark.parametrize("remote, authorization, status", [
    ("127.0.0.1", None, 200),
    ("::1", None, 200),
    ("10.0.0.7", None, 401),
    ("10.0.0.7", "Bearer wrong-token", 401),
    ("10.0.0.7", "Basic c2NyYXBlcjpzZWNyZXQ=", 401),
    ("10.0.0.7", "Bearer s3cret-scrape-token", 200),
])
def test_metrics_answer_loopback_and_else_only_the_bearer_token(bot, remote, authorization, status):
    from dataclasses import replace

    from app.web import create_web_app
    from tests.harness.bot import SIGNING_SECRET

    services = replace(bot.services, settings=replace(bot.settings, metrics_token="s3cret-scrape-token"))
    web = create_web_app(bot.app, services, signing_secret=SIGNING_SECRET)
    headers = {"Authorization": authorization} if authorization else {}
    reply = web.test_client().get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": remote})
    assert reply.status_code == status
    if status == 200:
        assert "qms_outbox_due" in reply.get_data(as_text=True)


def test_without_a_token_set_nobody_but_loopback_reads_metrics(bot):
    assert metrics.allowed("127.0.0.1", None, None)
    assert not metrics.allowed("192.168.1.4", "Bearer ", None)
    assert not metrics.allowed("192.168.1.4", "Bearer anything", None)
    assert not metrics.allowed(None, None, "token")


def test_the_grafana_dashboard_and_the_alert_rules_use_only_series_the_bot_exposes(bot, team):
    import json
    import re
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[2] / "docs" / "grafana"
    dashboard = json.loads((root / "qms-bot.json").read_text())
    rules = yaml.safe_load((root / "alerts.yml").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    alerts = {rule["alert"]: rule["expr"] for group in rules["groups"] for rule in group["rules"]}
    assert {"QmsClockSilent", "QmsOutboxStuck", "QmsEscalationLate"} <= alerts.keys()
    assert "> 300" in alerts["QmsClockSilent"] and "> 120" in alerts["QmsOutboxStuck"] \
        and "> 300" in alerts["QmsEscalationLate"]
    bot.command("help")  # so that every kind of series has a sample
    clock.sweep(bot.services, now=datetime.now(UTC))
    exposed = {family.name for family in text_string_to_metric_families(bot.get("/metrics").body)}
    exposed |= {name + suffix for name in exposed for suffix in ("_total", "_bucket", "_count", "_sum")}
    used = {name for expr in exprs + list(alerts.values()) for name in re.findall(r"\bqms_[a-z_]+", expr)}
    assert used and used <= exposed, used - exposed


MULTIPROCESS_SCRIPT = r'''
import os, sys
from app import metrics  # noqa: E402  (PROMETHEUS_MULTIPROC_DIR is set before prometheus_client loads)
from storage.db import Database

children = []
for worker in range(2):
    pid = os.fork()
    if pid == 0:  # a worker handles one command and sends one message
        metrics.request_handled("command", "/qms", 0.2 + 3 * worker)
        metrics.SENDS.labels("chat.postMessage", "sent").inc()
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
    metrics.worker_exited(pid)
sys.stdout.write(metrics.exposition(Database(sys.argv[1])).decode())
'''


def test_several_worker_processes_add_up_in_multiprocess_mode(database, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    result = subprocess.run([sys.executable, "-c", MULTIPROCESS_SCRIPT, database.url], env=env, capture_output=True,
                            text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    samples = parse(result.stdout)
    assert value(samples, "qms_slack_requests_total", kind="command", listener="/qms") == 2
    assert value(samples, "qms_slack_slow_acks_total", kind="command", listener="/qms") == 1
    assert value(samples, "qms_outbox_sends_total", method="chat.postMessage", outcome="sent") == 2
    assert value(samples, "qms_database_up") == 1
    assert list(directory.iterdir())  # the workers' files, which a fresh run's directory must not hold


def test_prepare_multiprocess_makes_a_fresh_directory_each_run(monkeypatch):
    monkeypatch.setenv(metrics.MULTIPROC_ENV, "")  # restored (unset) after the test
    first = metrics.prepare_multiprocess()
    second = metrics.prepare_multiprocess()
    try:
        import os

        assert first != second and os.environ[metrics.MULTIPROC_ENV] == second
        assert not os.listdir(second)
    finally:
        metrics.cleanup_multiprocess(first)
        metrics.cleanup_multiprocess(second)
