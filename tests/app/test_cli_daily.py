"""`qms-bot status` reads as people read ages; `qms-bot outbox list --dead` and `outbox retry` show and
resend what Slack refused — run as the real command, on a real database."""

from datetime import timedelta

from sqlmodel import select

from bot.core.timeutil import utcnow
from storage import outbox, runtime
from storage.db import Database
from tests.harness import processes


def test_status_shows_ages_as_people_read_them_and_a_clock_ahead_as_such(tmp_path):
    url = f"sqlite:///{tmp_path}/qms.db"
    db = Database(url)
    db.migrate()
    now = utcnow()
    with db.transaction() as session:
        runtime.beat(session, "digests.post", now=now - timedelta(minutes=25), worker="host:1")
        runtime.beat(session, "reviews.sweep", now=now + timedelta(hours=2), worker="host:2")
    db.dispose()

    result = processes.run("status", env=processes.environment(DATABASE_URL=url), cwd=tmp_path)

    assert "clock: digests.post last ran 25 min ago (host:1)" in result.stdout
    assert "clock: reviews.sweep last ran 2 h ahead of this machine's clock (host:2)" in result.stdout \
        or "clock: reviews.sweep last ran 1 h 59 min ahead of this machine's clock (host:2)" in result.stdout


def test_outbox_list_dead_shows_what_slack_refused_and_retry_queues_it_again(tmp_path):
    url = f"sqlite:///{tmp_path}/qms.db"
    db = Database(url)
    db.migrate()
    now = utcnow()
    with db.transaction() as session:
        for key in ("risk:1:card", "review:2:nudge:accept:3"):
            outbox.enqueue(session, workspace_id="T1", key=key, method="chat.postMessage",
                           payload={"channel": "CPAY", "text": "x"}, now=now - timedelta(minutes=40))
        for row in session.exec(select(outbox.OutboxMessage)):
            if row.key == "risk:1:card":
                row.status, row.attempts, row.last_error = outbox.DEAD, 5, "channel_not_found\ntrace"
                session.add(row)
        dead_id = next(r.id for r in session.exec(select(outbox.OutboxMessage)) if r.key == "risk:1:card")
    env = processes.environment(DATABASE_URL=url)

    listed = processes.run("outbox", "list", "--dead", env=env, cwd=tmp_path)
    retried = processes.run("outbox", "retry", str(dead_id), "9999", env=env, cwd=tmp_path)
    after = processes.run("outbox", "list", "--dead", env=env, cwd=tmp_path)

    assert f"{dead_id}  chat.postMessage CPAY  risk:1:card  queued 40 min ago, 5 attempts: channel_not_found" \
        in listed.stdout
    assert "review:2" not in listed.stdout
    assert f"Queued again: {dead_id}." in retried.stdout and "no such message: 9999" in retried.stderr
    assert retried.returncode == 1
    assert "No dead messages" in after.stdout
    with db.transaction() as session:
        row = session.get(outbox.OutboxMessage, dead_id)
        assert (row.status, row.attempts) == (outbox.PENDING, 0)
    db.dispose()


def test_serve_runs_against_the_built_in_slack_stand_in_and_the_ci_api_answers_json(tmp_path):
    import json
    import urllib.error
    import urllib.request

    port = processes.free_port()
    env = processes.environment(DATABASE_URL=f"sqlite:///{tmp_path}/qms.db", PORT=str(port), LOG_LEVEL="WARNING")
    env.pop("SLACK_BOT_TOKEN", None)
    env.pop("SLACK_SIGNING_SECRET", None)
    process = processes.start("serve", "--local-slack", "--host", "127.0.0.1", env=env, cwd=tmp_path)
    try:
        processes.wait_until_healthy(f"http://127.0.0.1:{port}/healthz", process)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/gates", data=b"[]", method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(request, timeout=10)
            raise AssertionError("an unauthenticated call was accepted")
        except urllib.error.HTTPError as error:
            status, body = error.code, json.loads(error.read())
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert status == 401 and "token" in body["error"].lower()


def test_the_readmes_curl_example_against_serve_local_slack_runs_as_it_reads(tmp_path):
    """The README's lines, token and port put in, run with curl against `qms-bot serve --local-slack`
    started as a process; each answer is the JSON the README shows under it (`# {…}`)."""
    import json
    import re
    import subprocess
    from pathlib import Path

    from app.console import TEAM_ID
    from bot import metrics
    from storage.db import Database
    from tests.harness.teams import make_team

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("<!-- example: serve local-slack -->", 1)[1].split("```", 2)[1]
    lines = block.splitlines()[1:]
    assert lines[0].startswith("PORT=3000 qms-bot serve --local-slack")
    commands: list[tuple[str, str]] = []  # (the curl command, the answer the README shows)
    for line in lines[1:]:
        if line.startswith("curl"):
            commands.append((line, ""))
        elif line.startswith("     ") and commands:
            commands[-1] = (commands[-1][0] + " " + line.strip(), "")
        elif line.startswith("# ") and commands:
            commands[-1] = (commands[-1][0], line[2:].split(" (")[0])
    commands = [(command.replace("\\ ", " "), answer) for command, answer in commands]

    db = Database(f"sqlite:///{tmp_path}/qms.db")
    db.migrate()
    team = make_team(db, workspace_id=TEAM_ID)
    with db.transaction() as session:
        token, _ = metrics.create_token(session, session.merge(team), actor_id="UALICE", now=utcnow())
    db.dispose()
    port = processes.free_port()
    env = processes.environment(DATABASE_URL=f"sqlite:///{tmp_path}/qms.db", PORT=str(port), LOG_LEVEL="WARNING")
    env.pop("SLACK_BOT_TOKEN", None)
    env.pop("SLACK_SIGNING_SECRET", None)
    process = processes.start("serve", "--local-slack", "--host", "127.0.0.1", env=env, cwd=tmp_path)
    answers = []
    try:
        processes.wait_until_healthy(f"http://127.0.0.1:{port}/healthz", process)
        for command, _ in commands:
            command = command.replace("qms_…", token).replace("localhost:3000", f"127.0.0.1:{port}")
            ran = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30)
            answers.append(ran.stdout)
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert len(commands) == 2 and all(re.match(r"^curl -s ", command) for command, _ in commands)
    for (_, shown), answer in zip(commands, answers):
        assert json.loads(answer) == json.loads(shown), (answer, shown)
