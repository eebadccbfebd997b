"""A payload file can be replayed as if GitHub had sent it: `qms-bot webhook replay FILE` to the
running app, and `webhook FILE` in the console, through the same endpoint."""

import io
import json

from click.testing import CliRunner

from app.cli import main
from bot.core.settings import Settings
from app.console import TEAM_ID, Console
from tests.handlers.reviews.test_reviews import matrix, requests
from tests.harness.bot import SIGNING_SECRET
from tests.harness.teams import make_team
from tests.harness.webhooks import REPO, connect, github_pull, gitlab_merge_request, link, PROJECT


def replay(bot, path, *options):
    env = {"DATABASE_URL": bot.db.url, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_BOT_TOKEN": ""}
    return CliRunner().invoke(main, ["webhook", "replay", str(path), "--url", bot.url, *options], env=env)


def test_replay_signs_the_file_with_its_teams_secret_and_the_same_delivery_twice_is_handled_once(bot, tmp_path):
    team = matrix(bot.db)
    link(bot.db, "github", "dave-gh", "dave")
    connect(bot.db, team)
    payload = tmp_path / "opened.json"
    payload.write_text(json.dumps(github_pull("opened")))

    first = replay(bot, payload, "--delivery", "d-1")
    again = replay(bot, payload, "--delivery", "d-1")

    assert first.exit_code == 0, first.output
    assert 'pull_request → http' in first.output and '"did":["filed"]' in first.output
    assert '{"duplicate":true}' in again.output
    assert len(requests(bot.db)) == 1 and requests(bot.db)[0].author_id == "UDAVE"


def test_replay_sends_gitlab_payloads_with_their_token_and_a_wrong_secret_exits_1(bot, tmp_path):
    team = make_team(bot.db)
    connect(bot.db, team, "gitlab", repositories=(PROJECT,))
    payload = tmp_path / "mr.json"
    payload.write_text(json.dumps(gitlab_merge_request("open")))

    sent = replay(bot, payload, "--gitlab")
    forged = replay(bot, payload, "--gitlab", "--secret", "qmswh_wrong")
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps(github_pull("opened", repo="someone/else")))
    nobody = replay(bot, unknown)

    assert sent.exit_code == 0 and "Merge Request Hook" in sent.output
    assert forged.exit_code == 1 and "HTTP 401" in forged.output
    assert nobody.exit_code == 1 and "no team has someone/else" in nobody.output


def test_the_console_replays_a_file_through_the_same_endpoint(tmp_path):
    settings = Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path}/qms.db"})
    console = Console(settings, user_name="alice", channel_name="payments", stdin=io.StringIO(), stdout=io.StringIO())
    try:
        console.services.db.migrate()
        make_team(console.services.db, workspace_id=TEAM_ID)
        payload = tmp_path / "opened.json"
        payload.write_text(json.dumps(github_pull("opened", author="newcomer", repo=REPO)))

        console.handle("webhook " + str(payload))
        console.handle(f"/qms setup github add {REPO}")
        console.handle("webhook " + str(payload))

        shown = console.stdout.getvalue()
        assert "No team has acme/payments-api with a github webhook yet" in shown
        assert '(pull_request: HTTP 200 {"did":["filed"],"team":"Payments"})' in shown
        assert "CR-001" in shown and "`newcomer` on GitHub" in shown
    finally:
        console.slack.stop()
        console.services.db.dispose()
