"""With GITHUB_TOKEN set, the reviewers the matrix chose are requested on GitHub too: through the
outbox, against a GitHub REST API stand-in on loopback, retried like any Slack call."""

from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlmodel import select

from bot.timeutil import utcnow
from storage import outbox
from tests.handlers.test_reviews import MONDAY_10, matrix
from tests.harness.bot import BotUnderTest
from tests.harness.github_api import FakeGitHubApi
from tests.harness.webhooks import REPO, connect, deliver_github, github_pull, link

TOKEN = "ghp_test0123456789"


@pytest.fixture
def github():
    with FakeGitHubApi() as api:
        yield api


@pytest.fixture
def bot(database, slack, github):
    under_test = BotUnderTest(database, slack, env={"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": github.url})
    yield under_test
    under_test.close()


@pytest.fixture
def secret(bot):
    team = matrix(bot.db)
    for person in ("dave", "eve", "frank", "ivy"):
        link(bot.db, "github", f"{person}-gh", person)
    return connect(bot.db, team)


def rows(db):
    with db.transaction() as session:
        return list(session.exec(select(outbox.OutboxMessage).where(outbox.OutboxMessage.method.startswith("github."))))


def test_the_reviewers_the_matrix_chose_are_requested_on_the_pull_request_once(bot, github, secret):
    with freeze_time(MONDAY_10):
        deliver_github(bot, secret, github_pull("opened", requested=("ivy-gh",)))  # ivy named, eve chosen
        deliver_github(bot, secret, github_pull("review_requested", requested=("ivy-gh", "eve-gh"), reviewer="eve-gh"))
        deliver_github(bot, secret, github_pull("labeled"))

    calls = github.answered(201)
    assert [(c.path, c.body) for c in calls] == [
        (f"/repos/{REPO}/pulls/12/requested_reviewers", {"reviewers": ["eve-gh"]})]
    assert calls[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert calls[0].headers["Accept"] == "application/vnd.github+json"
    assert [r.status for r in rows(bot.db)] == ["sent"]


def test_a_github_that_fails_is_tried_again_and_one_that_refuses_is_given_up(bot, github, secret):
    github.fail(502)
    github.fail(422)
    with freeze_time(MONDAY_10):
        deliver_github(bot, secret, github_pull("opened", labels=("backend",), requested=()))
    # eve and frank: the first call met the 502 and waits to be retried, the second was refused (422)
    first = {r.payload["reviewers"][0]: (r.status, r.last_error) for r in rows(bot.db)}
    bot.services.sender.deliver_due(now=utcnow() + timedelta(minutes=1))

    assert sorted(v[0] for v in first.values()) == ["dead", "pending"]
    assert any("422" in (error or "") for _, error in first.values())
    assert sorted(r.status for r in rows(bot.db)) == ["dead", "sent"]
    assert [c.status for c in github.calls] == [502, 422, 201]


def test_githubs_rate_limit_is_waited_out_as_it_says(bot, github, secret):
    github.fail(403, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "9999999999"})
    with freeze_time(MONDAY_10):
        deliver_github(bot, secret, github_pull("opened", requested=("ivy-gh",)))

    [row] = rows(bot.db)
    assert row.status == "pending" and row.not_before > utcnow() + timedelta(days=365)
    assert row.attempts == 1 and "403" in row.last_error
