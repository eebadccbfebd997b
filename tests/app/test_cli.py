"""`qms-bot` as a real process: serve, shell, clock, migrate, and clear failures at start-up."""

import signal
import urllib.request

import pytest

from app import slack_requests
from tests.harness import processes
from tests.harness.bot import SIGNING_SECRET, TEAM_ID
from tests.harness.databases import PG_ENV, fresh_postgres, postgres_server_url


@pytest.fixture
def served(slack, tmp_path):
    port = processes.free_port()
    env = processes.environment(
        SLACK_BOT_TOKEN="xoxb-test-token", SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=slack.api_url,
        DATABASE_URL=f"sqlite:///{tmp_path}/qms.db", PORT=str(port), LOG_LEVEL="WARNING")
    process = processes.start("serve", "--host", "127.0.0.1", env=env, cwd=tmp_path)
    try:
        processes.wait_until_healthy(f"http://127.0.0.1:{port}/healthz", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_answers_a_signed_help_within_three_seconds_naming_risk_review_and_incident(served):
    body = slack_requests.slash_command(text="help", user_id="UALICE", channel_id="CGENERAL", team_id=TEAM_ID,
                                        response_url="http://127.0.0.1:9/unused")
    request = urllib.request.Request(served + "/slack/events", data=body.encode(), method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", **slack_requests.sign(SIGNING_SECRET, body)})

    import time
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=3) as response:
        answer = response.read().decode()
    elapsed = time.perf_counter() - started

    assert response.status == 200
    assert elapsed < 3
    for word in ("/qms risk", "/qms review", "/qms incident"):
        assert word in answer


def test_serve_refuses_a_forged_request_with_401(served):
    body = "command=%2Fqms&text=help"
    request = urllib.request.Request(served + "/slack/events", data=body.encode(), method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", **slack_requests.sign("forged", body)})

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=3)

    assert refused.value.code == 401


@pytest.mark.parametrize("missing", ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"])
def test_serve_stops_with_one_line_naming_a_missing_setting(tmp_path, missing):
    env = processes.environment(SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s",
                                DATABASE_URL=f"sqlite:///{tmp_path}/qms.db")
    del env[missing]

    result = processes.run("serve", env=env, cwd=tmp_path)

    assert result.returncode != 0
    assert result.stderr.strip() == f"qms-bot: {missing} is not set: `qms-bot serve` needs it"


def test_a_malformed_setting_stops_any_command_with_one_line(tmp_path):
    env = processes.environment(PORT="eighty", DATABASE_URL=f"sqlite:///{tmp_path}/qms.db")

    result = processes.run("shell", env=env, cwd=tmp_path)

    assert result.returncode != 0
    assert result.stderr.strip().startswith("qms-bot: PORT is malformed")
    assert len(result.stderr.strip().splitlines()) == 1


def test_socket_mode_needs_an_app_token(tmp_path):
    env = processes.environment(SLACK_BOT_TOKEN="xoxb-1", DATABASE_URL=f"sqlite:///{tmp_path}/qms.db")

    result = processes.run("socket", env=env, cwd=tmp_path)

    assert result.stderr.strip() == "qms-bot: SLACK_APP_TOKEN is not set: `qms-bot socket` needs it"


def test_the_console_answers_help_without_slack_or_tokens(tmp_path):
    env = processes.environment(DATABASE_URL=f"sqlite:///{tmp_path}/qms.db")

    result = processes.run("shell", "--as", "bob", env=env, cwd=tmp_path, stdin="/qms help\n/qms nonsense\nquit\n")

    assert result.returncode == 0, result.stderr
    assert "you are @bob" in result.stdout
    assert "/qms risk" in result.stdout and "/qms incident" in result.stdout
    assert "I didn't understand `nonsense`" in result.stdout


def test_the_console_uses_the_default_sqlite_file_in_the_working_directory(tmp_path):
    env = processes.environment()

    result = processes.run("shell", env=env, cwd=tmp_path, stdin="quit\n")

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "qms.db").exists()


def test_the_clock_starts_logs_and_stops_cleanly_on_sigterm(slack, tmp_path):
    env = processes.environment(SLACK_BOT_TOKEN="xoxb-test-token", SLACK_API_URL=slack.api_url,
                                DATABASE_URL=f"sqlite:///{tmp_path}/qms.db")
    process = processes.start("clock", env=env, cwd=tmp_path)

    try:
        processes.wait_for_line(process.stderr, "clock: started")
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:  # never leave a clock behind, even when the test fails
            process.kill()
            process.wait()

    assert process.returncode == 0
    assert "clock: stopped" in stderr


def test_commands_refuse_an_unmigrated_postgres_database_and_migrate_fixes_it(tmp_path):
    server = postgres_server_url()
    if server is None:
        pytest.skip(f"{PG_ENV} is not set: PostgreSQL tests skipped")
    db, cleanup = fresh_postgres(server)
    try:
        env = processes.environment(DATABASE_URL=db.url, SLACK_BOT_TOKEN="xoxb-1")

        refused = processes.run("status", env=env, cwd=tmp_path)
        migrated = processes.run("migrate", env=env, cwd=tmp_path)
        status = processes.run("status", env=env, cwd=tmp_path)

        assert refused.stderr.strip() == "qms-bot: the database is not migrated: run `qms-bot migrate` first"
        assert migrated.returncode == 0, migrated.stderr
        assert "clock: never ran" in status.stdout
        assert status.returncode == 1  # the clock is not running: status says so in its exit code
    finally:
        cleanup()


def test_the_console_refuses_a_person_or_channel_it_does_not_know(tmp_path):
    env = processes.environment(DATABASE_URL=f"sqlite:///{tmp_path}/qms.db")

    nobody = processes.run("shell", "--as", "zed", env=env, cwd=tmp_path, stdin="quit\n")
    nowhere = processes.run("shell", "--channel", "nowhere", env=env, cwd=tmp_path, stdin="quit\n")
    capitals = processes.run("shell", "--as", "Bob", "--channel", "Payments", env=env, cwd=tmp_path, stdin="quit\n")

    assert nobody.returncode != 0 and nobody.stderr.startswith("qms-bot: no user 'zed'")
    assert nowhere.returncode != 0 and nowhere.stderr.startswith("qms-bot: no channel 'nowhere'")
    assert "you are @bob in #payments" in capitals.stdout


def test_in_a_console_form_enter_keeps_a_value_and_a_dash_empties_it(tmp_path):
    from storage import teams as team_store
    from storage.db import Database

    env = processes.environment(DATABASE_URL=f"sqlite:///{tmp_path}/qms.db")
    create = "/qms setup\nPayments\n\nalice\nbob\n\n\n\ncarol\nUTC\n\n\n\n\n\n"
    reopen_and_empty_executives = "/qms setup\n\n\n\n\n\n\n\n-\n\n\n\n\n\n\n"

    result = processes.run("shell", "--channel", "payments", env=env, cwd=tmp_path,
                           stdin=create + "y\n" + reopen_and_empty_executives + "y\nquit\n")

    assert result.returncode == 0, result.stderr
    db = Database(f"sqlite:///{tmp_path}/qms.db")
    with db.transaction() as session:
        team = team_store.team_by_channel(session, "T0LOCAL", "CPAYMENTS")
        roles = team_store.roles(session, team)
    db.dispose()
    assert roles == {"team_lead": ["UALICE"], "engineering_manager": ["UBOB"]}


def test_serve_stops_with_one_line_when_slack_refuses_the_token(slack, tmp_path):
    slack.fail("auth.test", "invalid_auth")
    env = processes.environment(SLACK_BOT_TOKEN="xoxb-revoked", SLACK_SIGNING_SECRET="s", SLACK_API_URL=slack.api_url,
                                DATABASE_URL=f"sqlite:///{tmp_path}/qms.db", LOG_LEVEL="WARNING")

    result = processes.run("serve", env=env, cwd=tmp_path)

    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == "qms-bot: SLACK_BOT_TOKEN was refused by Slack (invalid_auth)"
    assert "Traceback" not in result.stderr
