"""Installed from Slack in two workspaces side by side (OAuth): each gets its own cards, pings and digests,
sent with its own token, and neither sees the other's data; an uninstall stops the sends to its workspace
within one sweep and deletes its tokens."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from app import clock
from app.local_slack import LocalSlack
from storage import workspaces as store
from tests.harness.bot import BotUnderTest, seed_workspace
from tests.harness.metrics import declare_incident
from tests.harness.teams import make_team
from tests.handlers.risks.test_commands import risk_values

OAUTH = {"SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "client-secret", "SLACK_STATE_SECRET": "state-secret"}
ONE, TWO = "T0NE", "T0TWO"


@pytest.fixture
def slack():
    with LocalSlack(team_id=ONE) as local:
        seed_workspace(local)
        yield local


@pytest.fixture
def bot(database, slack):
    under_test = BotUnderTest(database, slack, env=OAUTH)
    yield under_test
    under_test.close()


class _Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the install page sends the browser to slack.com: the test stays here


def start_install(bot) -> tuple[int, str, str]:
    """GET /slack/install: (status, the state in the Location to Slack, the state cookie)."""
    try:
        response = urllib.request.build_opener(_Stay()).open(bot.url + "/slack/install", timeout=30)
        status, headers = response.status, response.headers
    except urllib.error.HTTPError as error:
        status, headers = error.code, error.headers
    location = urllib.parse.urlparse(headers.get("Location", ""))
    assert location.netloc == "slack.com" and location.path == "/oauth/v2/authorize", location
    state = urllib.parse.parse_qs(location.query)["state"][0]
    return status, state, headers["Set-Cookie"].split(";")[0]


def install(bot, team_id: str, name: str, **grant) -> str:
    """A person opens /slack/install, approves on Slack, and comes back to /slack/oauth_redirect."""
    status, state, cookie = start_install(bot)
    assert status == 302
    code = bot.slack.install_code(team_id, name, **grant)
    request = urllib.request.Request(f"{bot.url}/slack/oauth_redirect?code={code}&state={state}",
                                     headers={"Cookie": cookie})
    reply = bot._open(request)
    assert reply.status == 200, reply.body
    return bot.slack.tokens_of(team_id)[-1]



def tokens_in(slack, method: str, channel: str) -> set[str]:
    return {call.token for call in slack.calls_to(method) if call.args.get("channel") == channel}


def test_two_workspaces_each_get_their_own_cards_pings_and_digests_with_their_own_token(bot, slack):
    token_one, token_two = install(bot, ONE, "Acme"), install(bot, TWO, "Globex")
    assert token_one != token_two
    payments = make_team(bot.db, "Payments", channel="payments", digest="digest", workspace_id=ONE)
    platform = make_team(bot.db, "Platform", channel="platform", workspace_id=TWO)

    bot.team_id = ONE
    bot.command("risk", channel="payments")
    bot.submit(bot.last_view(), risk_values(title="Card vault migration"))
    bot.team_id = TWO
    bot.command("risk", channel="platform")
    bot.submit(bot.last_view(), risk_values(title="Cluster upgrade"))
    assert tokens_in(slack, "chat.postMessage", "CPAYMENTS") == {token_one}
    assert tokens_in(slack, "chat.postMessage", "CPLATFORM") == {token_two}
    assert {call.token for call in slack.calls_to("views.open")} == {token_one, token_two}

    # Neither workspace sees the other's register: QR-001 in each is its own.
    listed_two = bot.command("risk list", channel="platform").text
    assert "Cluster upgrade" in listed_two and "Card vault" not in listed_two
    bot.team_id = ONE
    listed_one = bot.command("risk list", channel="payments").text
    assert "Card vault migration" in listed_one and "Cluster" not in listed_one

    # The clock's escalation pings and digests go out with each workspace's token.
    declare_incident(bot.db, payments, "Gateway down", now="2026-03-02 09:00")
    declare_incident(bot.db, platform, "Cluster down", now="2026-03-02 09:00")
    slack.reset_calls()
    moment = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)  # a Tuesday: both escalated to Level 2, digests due
    with freeze_time(moment):
        clock.sweep(bot.services, now=moment)
    assert tokens_in(slack, "chat.postMessage", "CPAYMENTS") == {token_one}
    assert tokens_in(slack, "chat.postMessage", "CPLATFORM") == {token_two}
    assert tokens_in(slack, "chat.postMessage", "CDIGEST") == {token_one}
    one_texts = " ".join(c.args.get("text", "") for c in slack.calls_to("chat.postMessage") if c.token == token_one)
    assert "Cluster" not in one_texts


def test_an_uninstall_stops_the_clocks_sends_within_one_sweep_and_deletes_the_tokens(bot, slack):
    token_one, token_two = install(bot, ONE, "Acme"), install(bot, TWO, "Globex")
    payments = make_team(bot.db, "Payments", channel="payments", workspace_id=ONE)
    platform = make_team(bot.db, "Platform", channel="platform", workspace_id=TWO)
    declare_incident(bot.db, payments, "Gateway down", now="2026-03-02 09:00")
    declare_incident(bot.db, platform, "Cluster down", now="2026-03-02 09:00")
    first = datetime(2026, 3, 2, 9, 5, tzinfo=UTC)
    with freeze_time(first):
        clock.sweep(bot.services, now=first)
    assert bot.services.client_for(TWO) is not None  # cached now

    bot.team_id = TWO
    slack.revoke(TWO)
    assert bot.event({"type": "app_uninstalled"}).status == 200
    slack.reset_calls()
    later = datetime(2026, 3, 3, 9, 5, tzinfo=UTC)  # both incidents fall due for Level 2
    with freeze_time(later):
        clock.sweep(bot.services, now=later)

    assert not [call for call in slack.calls if call.token and call.token.startswith(f"xoxb-{TWO}")]
    assert tokens_in(slack, "chat.postMessage", "CPAYMENTS") == {token_one}
    assert bot.services.client_for(TWO) is None
    with bot.db.transaction() as session:
        assert session.execute(select(func.count()).select_from(store.BOTS).where(
            store.BOTS.c.team_id == TWO)).scalar() == 0
        assert session.execute(select(func.count()).select_from(store.INSTALLATIONS).where(
            store.INSTALLATIONS.c.team_id == TWO)).scalar() == 0
        assert store.is_uninstalled(session, TWO) and not store.is_uninstalled(session, ONE)
    assert token_two not in {call.token for call in slack.calls}


def test_a_forged_or_replayed_state_installs_nothing(bot, slack):
    _, state, cookie = start_install(bot)
    forged = state.rsplit(".", 1)[0] + ".0123456789abcdef0123456789abcdef"
    code = slack.install_code(TWO, "Globex")
    reply = bot._open(urllib.request.Request(f"{bot.url}/slack/oauth_redirect?code={code}&state={forged}",
                                             headers={"Cookie": cookie.replace(state, forged)}))
    assert reply.status >= 400
    assert not slack.calls_to("oauth.v2.access")
    assert bot.services.client_for(TWO) is None

    first = slack.install_code(ONE, "Acme")
    assert bot._open(urllib.request.Request(f"{bot.url}/slack/oauth_redirect?code={first}&state={state}",
                                            headers={"Cookie": cookie})).status == 200
    again = bot._open(urllib.request.Request(f"{bot.url}/slack/oauth_redirect?code={code}&state={state}",
                                             headers={"Cookie": cookie}))
    assert again.status >= 400  # a state is good for one install
    assert bot.services.client_for(TWO) is None and bot.services.client_for(ONE) is not None


def test_a_rotating_token_is_refreshed_before_it_expires_and_the_new_one_is_used(bot, slack):
    first = install(bot, ONE, "Acme", rotating=True)
    make_team(bot.db, "Payments", channel="payments", workspace_id=ONE)
    assert bot.services.client_for(ONE).token == first
    bot.services.workspaces.forget(ONE)
    with freeze_time(datetime.now(UTC) + timedelta(hours=11, minutes=55)):  # 12 h tokens: 5 minutes left
        client = bot.services.client_for(ONE)
    assert client.token != first and client.token in slack.tokens_of(ONE)
    refreshes = [c for c in slack.calls if c.method == "oauth.v2.access" and c.args.get("grant_type") == "refresh_token"]
    assert len(refreshes) == 1


def team_count(bot, workspace_id: str) -> int:
    from storage import teams as team_store

    with bot.db.transaction() as session:
        return len(team_store.teams(session, workspace_id))


def test_an_uninstalled_workspaces_data_is_deleted_by_the_clock_after_the_grace_period_only(bot, slack):
    install(bot, ONE, "Acme"), install(bot, TWO, "Globex")
    make_team(bot.db, "Payments", channel="payments", workspace_id=ONE)
    platform = make_team(bot.db, "Platform", channel="platform", workspace_id=TWO)
    declare_incident(bot.db, platform, "Cluster down", now="2026-03-02 09:00")
    uninstalled = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    bot.team_id = TWO
    with freeze_time(uninstalled):
        bot.event({"type": "tokens_revoked", "tokens": {"bot": ["UQMSBOT"]}})
    within = uninstalled + timedelta(days=29, hours=23)
    with freeze_time(within):
        clock.sweep(bot.services, now=within)
    assert team_count(bot, TWO) == 1
    past = uninstalled + timedelta(days=30, minutes=1)
    with freeze_time(past):
        clock.sweep(bot.services, now=past)
    assert team_count(bot, TWO) == 0 and team_count(bot, ONE) == 1
    with bot.db.transaction() as session:
        assert not store.is_uninstalled(session, TWO)
        from storage import incidents as incident_store

        assert incident_store.open_incidents(session, TWO) == []


def test_workspace_purge_deletes_a_workspaces_data_at_once(bot, slack, tmp_path):
    from tests.harness import processes

    install(bot, ONE, "Acme"), install(bot, TWO, "Globex")
    make_team(bot.db, "Payments", channel="payments", workspace_id=ONE)
    make_team(bot.db, "Platform", channel="platform", workspace_id=TWO)
    env = processes.environment(DATABASE_URL=bot.db.url)
    result = processes.run("workspace", "purge", TWO, "--yes", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{TWO}: ") and "1 team" in result.stdout
    assert team_count(bot, TWO) == 0 and team_count(bot, ONE) == 1
    assert slack.tokens_of(TWO) and bot.services.workspaces.installations.find_bot(
        enterprise_id=None, team_id=TWO) is None
    from click.testing import CliRunner

    from app.cli import main

    refused = CliRunner().invoke(main, ["workspace", "purge", "nonsense; DROP", "--yes"], env=env)
    assert refused.exit_code != 0 and "not a workspace ID" in refused.output
