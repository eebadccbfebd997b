"""With GITHUB_TOKEN set, the reviewers the matrix chose are requested on GitHub too: through the
outbox, against a GitHub REST API stand-in on loopback, retried like any Slack call."""

from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlmodel import select

from bot.core.timeutil import utcnow
from storage import outbox
from tests.handlers.reviews.test_reviews import MONDAY_10, matrix
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


# --- paths: the files a pull request changes ---------------------------------------------------------
@pytest.fixture
def paths_secret(bot):
    from bot.pull_requests import Rules
    from tests.harness.teams import add_reviewer

    team = matrix(bot.db)
    add_reviewer(bot.db, team, "grace", "gold", ["Frontend/UX"])
    link(bot.db, "github", "dave-gh", "dave")
    return connect(bot.db, team, rules=Rules(paths={"web/": "Frontend/UX", "*.sql": "Database/Performance"},
                                             default_specialization="Backend/API"))


def test_a_team_that_maps_paths_gets_the_request_filed_by_the_files_github_lists(bot, slack, github, paths_secret):
    github.files[12] = ["web/app.tsx", "web/cart.css", "db/007_refunds.sql"] + [f"web/c{n}.tsx" for n in range(120)]
    with freeze_time(MONDAY_10):
        reply = deliver_github(bot, paths_secret, github_pull("opened", labels=()))

    from tests.handlers.reviews.test_reviews import card, requests

    assert reply.json["did"] == ["waiting_for_files"]
    [request] = requests(bot.db)
    assert request.specialization == "Frontend/UX"  # 122 files under web/, 1 .sql
    assert [c.path for c in github.calls if c.method == "GET"] == [
        f"/repos/{REPO}/pulls/12/files?per_page=100&page=1", f"/repos/{REPO}/pulls/12/files?per_page=100&page=2"]
    assert "CR-001" in card(slack)  # the card the filing queued went out in the same delivery round


def test_a_label_that_decides_needs_no_files_and_a_github_that_refuses_them_files_it_by_the_default(
        bot, github, paths_secret):
    from tests.handlers.reviews.test_reviews import requests

    github.fail(404)
    with freeze_time(MONDAY_10):
        by_label = deliver_github(bot, paths_secret, github_pull("opened", number=1, labels=("database",)))
        refused = deliver_github(bot, paths_secret, github_pull("opened", number=2, labels=()))

    assert (by_label.json["did"], refused.json["did"]) == (["filed"], ["waiting_for_files"])
    assert [r.specialization for r in requests(bot.db)] == ["Database/Performance", "Backend/API"]


def test_a_pull_request_back_to_draft_while_its_files_are_asked_for_is_filed_when_ready(bot, github, paths_secret):
    from tests.handlers.reviews.test_reviews import requests

    github.fail(503)  # the first list waits to be retried
    github.files[12] = ["schema.sql"]
    with freeze_time(MONDAY_10):
        deliver_github(bot, paths_secret, github_pull("opened", labels=()))
        deliver_github(bot, paths_secret, github_pull("converted_to_draft", draft=True, labels=()))
    bot.services.sender.deliver_due(now=utcnow() + timedelta(minutes=1))  # listed now, but it is a draft
    drafted = requests(bot.db)
    with freeze_time("2026-03-02 11:00:00"):
        ready = deliver_github(bot, paths_secret, github_pull("ready_for_review", labels=()))

    assert (drafted, ready.json["did"]) == ([], ["waiting_for_files"])
    assert [r.specialization for r in requests(bot.db)] == ["Database/Performance"]
