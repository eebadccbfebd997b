"""GitHub's own example payloads (octokit/webhooks, payload-examples/api.github.com), read from a local
mirror at test time, signed as GitHub signs them and posted to the running app over HTTP.

The mirror is a git directory (QMS_OCTOKIT_WEBHOOKS, default /work/.mirror/octokit+webhooks/repo); without
it these tests are skipped, saying so. Nothing of it is copied into this repository: where a test
needs another state (an approval instead of the example's comment), it changes the payload in memory.

The examples are of Codertocat/Hello-World on Wednesday 15 May 2019, 15:20 UTC: Codertocat opens pull
request #2 and asks octocat to review it. Here Codertocat is dave, octocat is eve (gold in Backend/API).
"""

import json

import pytest
from freezegun import freeze_time
from sqlmodel import select

from bot.pull_requests import Rules
from storage.metrics import GateResult
from tests.handlers.reviews.test_reviews import assignments, card, dms, matrix, requests
from tests.harness.webhooks import connect, deliver_github, link, octokit_payload

OPENED_AT = "2019-05-15 15:20:33"  # the example pull request's created_at


@pytest.fixture
def secret(bot):
    team = matrix(bot.db)
    link(bot.db, "github", "Codertocat", "dave")
    link(bot.db, "github", "octocat", "eve")
    return connect(bot.db, team, repositories=("Codertocat/Hello-World", "octo-org/octo-repo"),
                   rules=Rules(default_specialization="Backend/API",
                               gates={"Octocoders-linter": "lint", "test": "unit"}))


def example(name: str) -> dict:
    return json.loads(octokit_payload(name))


def post(bot, secret, name_or_payload, event, *, at=OPENED_AT, delivery=None):
    body = octokit_payload(name_or_payload) if isinstance(name_or_payload, str) else json.dumps(name_or_payload).encode()
    with freeze_time(at):
        return deliver_github(bot, secret, body, event, delivery=delivery)


def active(db):
    return {(a.reviewer_id, a.role) for a in assignments(db) if a.status in ("assigned", "accepted")}


def test_githubs_opened_example_files_a_request_with_octocat_as_its_named_reviewer_once(bot, slack, secret):
    reply = post(bot, secret, "pull_request/opened.payload.json", "pull_request", delivery="72d3162e-cc78-11e3")
    again = post(bot, secret, "pull_request/opened.payload.json", "pull_request", delivery="72d3162e-cc78-11e3")

    assert (reply.status, reply.json["did"], again.json) == (200, ["filed"], {"duplicate": True})
    [request] = requests(bot.db)
    assert (request.author_id, request.url, request.summary, request.size) == (
        "UDAVE", "https://github.com/Codertocat/Hello-World/pull/2", "Update the README with new information.", "S")
    assert ("UEVE", "primary") in active(bot.db)
    assert "asks you to review" in json.dumps(dms(slack, "eve")[-1])
    assert "Update the README with new information." in card(slack)


def test_a_comment_changes_nothing_and_an_approval_finishes_the_review_at_its_moment(bot, slack, secret):
    post(bot, secret, "pull_request/opened.payload.json", "pull_request")
    comment = post(bot, secret, "pull_request_review/submitted.payload.json", "pull_request_review",
                   at="2019-05-15 15:20:40")
    approval = example("pull_request_review/submitted.payload.json")
    approval["review"] |= {"state": "approved", "user": approval["review"]["user"] | {"login": "octocat"}}
    approved = post(bot, secret, approval, "pull_request_review", at="2019-05-15 15:25:00")

    assert (comment.json["did"], approved.json["did"]) == (["ignored"], ["review_done"])
    [eve] = [a for a in assignments(bot.db) if a.reviewer_id == "UEVE"]
    assert (eve.status, eve.turnaround_seconds) == ("done", 5)  # submitted_at 15:20:38, assigned 15:20:33


def test_review_requested_for_a_reviewer_already_on_it_changes_nothing_and_removed_takes_them_off(bot, secret):
    post(bot, secret, "pull_request/opened.payload.json", "pull_request")
    requested = post(bot, secret, "pull_request/review_requested.payload.json", "pull_request")
    removed = post(bot, secret, "pull_request/review_request_removed.payload.json", "pull_request",
                   at="2019-05-15 15:30:00")

    assert (requested.json["did"], removed.json["did"]) == (["reviewer_not_added:already"], ["reviewer_removed"])
    assert ("UEVE", "primary") not in active(bot.db)


def test_githubs_draft_ready_closed_and_reopened_examples_pause_file_withdraw_and_reopen(bot, slack, secret):
    draft = post(bot, secret, "pull_request/converted_to_draft.payload.json", "pull_request")
    ready = post(bot, secret, "pull_request/ready_for_review.payload.json", "pull_request", at="2019-05-15 15:21:18")
    closed = post(bot, secret, "pull_request/closed.payload.json", "pull_request", at="2019-05-15 15:22:00")
    status_when_closed = requests(bot.db)[0].status
    reopened = post(bot, secret, "pull_request/reopened.payload.json", "pull_request", at="2019-05-15 15:23:00")

    assert [r.json["did"] for r in (draft, ready, closed, reopened)] == [
        ["draft"], ["filed"], ["withdrawn"], ["reopened"]]
    assert (status_when_closed, requests(bot.db)[0].status) == ("withdrawn", "open")


def test_githubs_check_run_and_workflow_run_examples_are_gate_results(bot, secret):
    success = post(bot, secret, "check_run/completed.payload.json", "check_run")
    failure = post(bot, secret, "check_run/completed.1.payload.json", "check_run")  # the same run, id 128620228
    workflow = post(bot, secret, "workflow_run/completed.payload.json", "workflow_run", at="2020-10-05 16:34:00")

    with bot.db.transaction() as session:
        rows = list(session.exec(select(GateResult).order_by(GateResult.id)))
    assert [(r.gate, r.passed, r.commit, r.source_id) for r in rows] == [
        ("lint", True, "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "github:check_run:128620228"),
        ("unit", True, "3484a3fb816e0859fd6e1cea078d76385ff50625", "github:workflow_run:289782451:1")]
    assert (success.json["gates"]["stored"], failure.json["gates"]["duplicates"], workflow.json["gates"]["stored"]) \
        == (1, 1, 1)


def test_githubs_ping_example_is_answered_and_an_example_of_a_repository_no_team_owns_is_a_202(bot, secret):
    ping = post(bot, secret, "ping/payload.json", "ping")
    foreign = example("pull_request/opened.payload.json")
    foreign["repository"]["full_name"] = "Someone/Else"
    nobody = post(bot, secret, foreign, "pull_request")

    assert (ping.status, ping.json["did"]) == (200, ["ping"])
    assert (nobody.status, requests(bot.db)) == (202, [])
