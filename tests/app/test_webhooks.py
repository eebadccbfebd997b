"""GitHub's pull requests drive review requests, through POST /webhooks/github over HTTP, signed as
GitHub signs them: opened → filed and reviewers DM'd; approved → that review done with its
turnaround; merged → closed; each once however often GitHub delivers it. The payloads follow
GitHub's documented shapes (test_webhooks_octokit.py drives GitHub's own example payloads)."""

import json
import threading
import uuid

import pytest
from freezegun import freeze_time
from sqlmodel import select

from app.webhook_requests import github_headers
from bot import reviews
from bot.pull_requests import Rules
from storage import outbox
from storage.audit import AuditEvent
from storage.metrics import GateResult
from storage.pull_requests import PullRequestLink, WebhookDelivery
from storage.reviews import ReviewAssignment, ReviewRequest
from tests.conftest import both_databases
from tests.handlers.reviews.test_reviews import MONDAY_10, assignments, buttons, card, dms, matrix, requests
from tests.harness.bot import blocks_text
from tests.harness.databases import count_rows
from tests.harness.teams import add_reviewer, make_team
from tests.harness.webhooks import (REPO, connect, deliver_github, github_check_run, github_pull, github_review,
                                    link)


@pytest.fixture
def team(bot):
    """Payments with eve (gold), frank (silver), ivy (bronze) in Backend/API, connected to acme/payments-api;
    dave opens pull requests as dave-gh, the reviewers review as eve-gh, frank-gh, ivy-gh."""
    payments = matrix(bot.db)
    for person in ("dave", "eve", "frank", "ivy", "grace"):
        link(bot.db, "github", f"{person}-gh", person)
    return payments


@pytest.fixture
def secret(bot, team):
    return connect(bot.db, team)


def opened(bot, secret, **kwargs):
    with freeze_time(MONDAY_10):
        return deliver_github(bot, secret, github_pull("opened", **kwargs))


def snapshot(db):
    return tuple(count_rows(db, model) for model in (ReviewRequest, ReviewAssignment, AuditEvent,
                                                    outbox.OutboxMessage, PullRequestLink, GateResult))


def active(db):
    return {(a.reviewer_id, a.role) for a in assignments(db) if a.status in ("assigned", "accepted")}


# --- opened → filed -----------------------------------------------------------------------------------
def test_an_opened_pull_request_files_a_review_request_and_dms_its_reviewers(bot, slack, secret):
    reply = opened(bot, secret)

    assert (reply.status, reply.json) == (200, {"team": "Payments", "did": ["filed"]})
    [request] = requests(bot.db)
    assert (request.label, request.author_id, request.url, request.summary) == (
        "CR-001", "UDAVE", f"https://github.com/{REPO}/pull/12", "Retry card payments on 502 from the PSP")
    assert (request.specialization, request.size, request.status) == ("Backend/API", "S", "open")  # label, 52 lines
    assert active(bot.db) == {("UEVE", "primary"), ("UFRANK", "secondary")}
    assert "asks you to review" in blocks_text(dms(slack, "eve")[-1])
    assert "review_accept" in buttons(dms(slack, "frank")[-1])
    assert "Retry card payments on 502" in card(slack) and "CR-001" in card(slack)


def test_a_delivery_github_sends_again_changes_nothing(bot, slack, secret):
    delivery = str(uuid.uuid4())
    with freeze_time(MONDAY_10):
        first = deliver_github(bot, secret, github_pull("opened"), delivery=delivery)
        before = snapshot(bot.db), len(slack.calls)
        again = [deliver_github(bot, secret, github_pull("opened"), delivery=delivery) for _ in range(3)]

    assert first.json["did"] == ["filed"]
    assert {(r.status, json.dumps(r.json)) for r in again} == {(200, '{"duplicate": true}')}
    assert (snapshot(bot.db), len(slack.calls)) == before
    assert count_rows(bot.db, WebhookDelivery) == 1


def test_the_same_pull_request_opened_again_under_a_new_delivery_files_nothing_new(bot, secret):
    opened(bot, secret)
    again = opened(bot, secret)

    assert again.json["did"] == ["unchanged"] and len(requests(bot.db)) == 1


def test_the_size_is_read_from_additions_and_deletions_together(bot, secret):
    opened(bot, secret, additions=300, deletions=200)  # 500 changed lines: L, which neither alone would be

    assert [r.size for r in requests(bot.db)] == ["L"]  # the limits themselves: tests/bot/pull_requests/test_rules.py


def test_labels_and_the_teams_rules_choose_the_specialization(bot, team):
    add_reviewer(bot.db, team, "grace", "gold", ["Frontend/UX", "Security"])
    secret = connect(bot.db, team, rules=Rules(labels={"ui": "Frontend/UX"}, default_specialization="Security"))

    opened(bot, secret, number=1, labels=("bug", "ui"))  # the rules' label
    opened(bot, secret, number=2, labels=())  # the rules' default

    # (labels naming a specialization, paths, the order of it all: tests/bot/pull_requests/test_rules.py)
    assert [r.specialization for r in requests(bot.db)] == ["Frontend/UX", "Security"]


def test_reviewers_the_pull_request_already_names_are_its_reviewers_and_the_matrix_fills_the_rest(bot, secret):
    opened(bot, secret, requested=("ivy-gh",))

    assert active(bot.db) == {("UEVE", "primary"), ("UIVY", "secondary")}
    assert [a.requested_on for a in assignments(bot.db) if a.reviewer_id == "UIVY"] == ["github"]


def test_a_draft_files_nothing_until_it_is_ready_for_review(bot, secret):
    draft = opened(bot, secret, draft=True)
    with freeze_time("2026-03-02 11:00:00"):
        ready = deliver_github(bot, secret, github_pull("ready_for_review"))

    assert (draft.json["did"], ready.json["did"]) == (["draft"], ["filed"])
    assert len(requests(bot.db)) == 1 and requests(bot.db)[0].created_at.hour == 11


# --- reviews ------------------------------------------------------------------------------------------
def test_approvals_finish_each_review_with_its_turnaround_and_then_the_request(bot, slack, secret):
    opened(bot, secret)
    with freeze_time("2026-03-02 13:00:00"):  # GitHub says it was approved at 12:30; it arrives later
        first = deliver_github(bot, secret, github_review("approved", "FRANK-GH", submitted_at="2026-03-02T12:30:00Z"))
    middle = requests(bot.db)[0].status
    with freeze_time("2026-03-02 14:00:00"):
        second = deliver_github(bot, secret, github_review("approved", "eve-gh", submitted_at="2026-03-02T14:00:00Z"))

    assert (first.json["did"], second.json["did"], middle) == (["review_done"], ["review_done"], "open")
    request = requests(bot.db)[0]
    assert (request.status, request.turnaround_seconds) == ("done", 4 * 3600)
    assert {a.reviewer_id: a.turnaround_seconds for a in assignments(bot.db)} == {"UEVE": 4 * 3600,
                                                                                  "UFRANK": int(2.5 * 3600)}
    assert len([m for m in dms(slack, "dave") if "review_rate_9" in buttons(m)]) == 2
    assert "Done in 4 h of working time" in card(slack)


def test_a_comment_or_an_approval_by_someone_not_reviewing_it_changes_nothing(bot, secret):
    opened(bot, secret)
    before = snapshot(bot.db)
    with freeze_time("2026-03-02 12:00:00"):
        comment = deliver_github(bot, secret, github_review("commented", "eve-gh"))
        stranger = deliver_github(bot, secret, github_review("approved", "grace-gh"))
        unlinked = deliver_github(bot, secret, github_review("approved", "someone-else"))

    assert (comment.json["did"], stranger.json["did"], unlinked.json["did"]) == (
        ["ignored"], ["not_a_reviewer"], ["reviewer_not_linked"])
    assert snapshot(bot.db) == before


def test_changes_requested_are_on_the_card_and_the_author_is_told(bot, slack, secret):
    opened(bot, secret)
    with freeze_time("2026-03-02 11:00:00"):
        reply = deliver_github(bot, secret, github_review("changes_requested", "eve-gh"))

    assert reply.json["did"] == ["changes_requested"]
    assert "<@UEVE> asked for changes" in card(slack)
    assert "asked for changes on" in blocks_text(dms(slack, "dave")[-1])
    assert requests(bot.db)[0].status == "open"


def test_a_reviewer_requested_on_github_takes_the_role_of_one_the_matrix_chose_who_has_not_accepted(bot, slack, team,
                                                                                                     secret):
    add_reviewer(bot.db, team, "grace", "silver", ["Backend/API"])
    opened(bot, secret)  # eve primary, frank secondary
    with freeze_time("2026-03-02 10:05:00"):
        reply = deliver_github(bot, secret, github_pull("review_requested", reviewer="grace-gh",
                                                        requested=("grace-gh",)))

    assert reply.json["did"] == ["reviewer_added"]
    assert active(bot.db) == {("UEVE", "primary"), ("UGRACE", "secondary")}
    assert "taken off the pull request's reviewers" in blocks_text(dms(slack, "frank")[-1])
    assert "asks you to review" in blocks_text(dms(slack, "grace")[-1])
    with freeze_time("2026-03-02 10:10:00"):
        removed = deliver_github(bot, secret, github_pull("review_request_removed", reviewer="grace-gh"))
    assert removed.json["did"] == ["reviewer_removed"]
    assert active(bot.db) == {("UEVE", "primary")}  # a secondary is not replaced: the author names the next


def test_a_requested_reviewer_at_capacity_is_not_counted_and_the_author_is_told(bot, slack, team, secret):
    add_reviewer(bot.db, team, "grace", "silver", ["Backend/API"], capacity=1)
    opened(bot, secret, number=1, requested=("grace-gh",))  # grace's one slot
    opened(bot, secret, number=2)
    with freeze_time("2026-03-02 10:05:00"):
        reply = deliver_github(bot, secret, github_pull("review_requested", number=2, reviewer="grace-gh"))

    assert reply.json["did"] == ["reviewer_not_added:full"]
    assert "as many open reviews as their capacity allows" in blocks_text(dms(slack, "dave")[-1])
    assert len([a for a in assignments(bot.db) if a.reviewer_id == "UGRACE"]) == 1


def test_removing_the_primary_on_github_hands_the_role_to_the_next_from_the_matrix(bot, slack, team, secret):
    add_reviewer(bot.db, team, "grace", "silver", ["Backend/API"])
    opened(bot, secret)
    with freeze_time("2026-03-02 10:05:00"):
        reply = deliver_github(bot, secret, github_pull("review_request_removed", reviewer="eve-gh"))

    assert reply.json["did"] == ["reviewer_removed"]
    assert active(bot.db) == {("UGRACE", "primary"), ("UFRANK", "secondary")}
    assert "<@UEVE> was taken off the pull request's reviewers" in card(slack)


# --- drafts, merged, closed, reopened -----------------------------------------------------------------------
def test_back_to_draft_pauses_the_reminders_and_ready_again_resumes_them(bot, slack, secret):
    opened(bot, secret)
    with freeze_time("2026-03-02 10:30:00"):
        paused = deliver_github(bot, secret, github_pull("converted_to_draft", draft=True))
    reviews.sweep(bot.db, now=_at("2026-03-02 16:59:00"))  # past 2 h to accept and the 6 h target: silence
    quiet = [k for k in _keys(bot.db) if ":nudge:" in k or ":stalled:" in k]
    with freeze_time("2026-03-03 09:00:00"):
        resumed = deliver_github(bot, secret, github_pull("ready_for_review"))
    reviews.sweep(bot.db, now=_at("2026-03-03 09:01:00"))

    assert (paused.json["did"], resumed.json["did"], quiet) == (["draft"], ["resumed"], [])
    assert any(":stalled:" in k for k in _keys(bot.db))
    assert requests(bot.db)[0].paused_at is None


def test_merged_before_any_review_closes_the_request_as_merged_and_ends_the_reviews(bot, slack, secret):
    opened(bot, secret)
    with freeze_time("2026-03-02 11:00:00"):
        reply = deliver_github(bot, secret, github_pull("closed", merged=True, at="2026-03-02T11:00:00Z"))

    request = requests(bot.db)[0]
    assert (reply.json["did"], request.status, request.is_active) == (["merged"], "merged", False)
    assert {a.status for a in assignments(bot.db)} == {"closed"}
    assert "Merged" in card(slack) and "Withdraw" not in card(slack)
    assert "The pull request was merged" in blocks_text(dms(slack, "eve")[-1])


def test_merged_after_the_primarys_approval_is_done_with_its_turnaround_to_that_review(bot, slack, secret):
    opened(bot, secret)
    with freeze_time("2026-03-02 12:00:00"):
        deliver_github(bot, secret, github_review("approved", "eve-gh", submitted_at="2026-03-02T12:00:00Z"))
    with freeze_time("2026-03-02 15:00:00"):
        deliver_github(bot, secret, github_pull("closed", merged=True, at="2026-03-02T15:00:00Z"))

    request = requests(bot.db)[0]
    assert (request.status, request.turnaround_seconds) == ("done", 2 * 3600)
    assert "Merged" in card(slack)


def test_closed_unmerged_withdraws_it_and_reopened_gives_the_reviews_back(bot, slack, secret):
    opened(bot, secret)
    with freeze_time("2026-03-02 11:00:00"):
        closed = deliver_github(bot, secret, github_pull("closed"))
    withdrawn = requests(bot.db)[0].status
    withdrawn_card = card(slack)
    with freeze_time("2026-03-02 11:30:00"):
        reopened = deliver_github(bot, secret, github_pull("reopened"))

    assert (closed.json["did"], withdrawn, reopened.json["did"]) == (["withdrawn"], "withdrawn", ["reopened"])
    assert "Withdrawn by <@UDAVE>" in withdrawn_card
    assert requests(bot.db)[0].status == "open"
    assert active(bot.db) == {("UEVE", "primary"), ("UFRANK", "secondary")}
    assert "review_done" in buttons(dms(slack, "eve")[-1])


# --- people nobody has linked -------------------------------------------------------------------------------
def test_a_pull_request_of_someone_nobody_linked_is_filed_under_their_login_until_they_link_it(bot, slack, secret):
    opened(bot, secret, author="newcomer")

    request = requests(bot.db)[0]
    assert request.author_id == "github:newcomer"
    assert "`newcomer` on GitHub" in card(slack) and "/qms link github newcomer" in card(slack)
    with freeze_time("2026-03-02 12:00:00"):
        deliver_github(bot, secret, github_review("approved", "eve-gh"))
        assert dms(slack, "carol") == []  # no rating DM goes astray
        reply = bot.command("link github newcomer", user="carol")

    assert "is you now" in reply.json["text"] and "CR-001 is yours now" in reply.json["text"]
    assert requests(bot.db)[0].author_id == "UCAROL"
    assert "requested by <@UCAROL>" in card(slack)


# --- what is not ours, and what is not GitHub ------------------------------------------------------------------
def test_a_repository_no_team_owns_or_another_teams_changes_nothing_and_is_a_202(bot, team, secret, caplog):
    platform = make_team(bot.db, "Platform", channel="platform")
    connect(bot.db, platform, repositories=("acme/platform-infra",))
    before = snapshot(bot.db)

    with freeze_time(MONDAY_10):
        nobodys = deliver_github(bot, secret, github_pull("opened", repo="someone/else"))
        theirs = deliver_github(bot, secret, github_pull("opened", repo="acme/platform-infra"))  # signed by Payments

    assert (nobodys.status, theirs.status) == (202, 202)
    assert nobodys.json["did"] == ["unknown_repository"]
    assert snapshot(bot.db) == before
    assert "repository someone/else is not one of the sending team's" in caplog.text


FORGED = {
    "no signature": lambda body, secret: {},
    "a wrong secret": lambda body, secret: {"X-Hub-Signature-256": "sha256=" + "0" * 64},
    "sha1": lambda body, secret: {"X-Hub-Signature": "sha1=" + "0" * 40},
    "a malformed header": lambda body, secret: {"X-Hub-Signature-256": "sha256=xyz"},
    "a body changed after signing": lambda body, secret: {
        "X-Hub-Signature-256": github_headers(secret, body.replace(b"dave-gh", b"eve-gh"),
                                              event="pull_request")["X-Hub-Signature-256"]},
}


def test_a_forged_or_unsigned_delivery_is_a_401_and_changes_nothing(bot, secret):
    body = json.dumps(github_pull("opened")).encode()
    before = snapshot(bot.db)

    replies = {name: bot.post("/webhooks/github", body, {"Content-Type": "application/json",
                                                         "X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "d-1",
                                                         **forgery(body, secret)})
               for name, forgery in FORGED.items()}

    assert {name: (r.status, "secret" in r.json["error"]) for name, r in replies.items()} == \
        dict.fromkeys(FORGED, (401, True))
    assert snapshot(bot.db) == before and count_rows(bot.db, WebhookDelivery) == 0


MALFORMED = {
    "not JSON": b"{not json",
    "nested too deeply": b"[" * 100_000 + b"]" * 100_000,
    "a number of 5,000 digits": b'{"action": "opened", "number": ' + b"1" * 5000 + b"}",
    "not UTF-8": b'{"action": "\xff"}',
    "a pull request that is text": json.dumps({"action": "opened", "pull_request": "12",
                                               "repository": {"full_name": REPO}}).encode(),
    "a number that is negative": json.dumps(github_pull("opened") | {"pull_request": github_pull("opened")[
        "pull_request"] | {"number": -1}}).encode(),
    "a list": b"[1, 2]",
}


def test_a_signed_but_malformed_delivery_is_a_400_and_changes_nothing(bot, secret):
    before = snapshot(bot.db)

    replies = {name: deliver_github(bot, secret, body, "pull_request") for name, body in MALFORMED.items()}

    assert {name: (r.status, "error" in r.json) for name, r in replies.items()} == dict.fromkeys(MALFORMED, (400, True))
    assert snapshot(bot.db) == before and count_rows(bot.db, WebhookDelivery) == 0


def test_a_body_of_10_mb_is_refused_before_it_is_read(bot, secret):
    body = b'{"action": "opened", "padding": "' + b"x" * (10 * 1024 * 1024) + b'"}'

    reply = deliver_github(bot, secret, body, "pull_request")

    assert reply.status == 413 and requests(bot.db) == []


def test_a_delivery_without_its_event_header_is_a_400(bot, secret):
    body = json.dumps(github_pull("opened")).encode()
    headers = {k: v for k, v in github_headers(secret, body, event="pull_request").items() if k != "X-GitHub-Event"}

    assert bot.post("/webhooks/github", body, headers).status == 400


def test_a_ping_is_answered_and_changes_nothing(bot, secret):
    before = snapshot(bot.db)

    reply = deliver_github(bot, secret, {"zen": "Design for failure.", "hook_id": 1,
                                         "repository": {"full_name": REPO}}, "ping")

    assert (reply.status, reply.json) == (200, {"team": "Payments", "did": ["ping"]})
    assert snapshot(bot.db) == before


def test_a_form_encoded_delivery_is_read_as_github_sends_it(bot, secret):
    from urllib.parse import urlencode

    body = urlencode({"payload": json.dumps(github_pull("opened"))}).encode()
    headers = github_headers(secret, body, event="pull_request") | {
        "Content-Type": "application/x-www-form-urlencoded"}

    with freeze_time(MONDAY_10):
        reply = bot.post("/webhooks/github", body, headers)

    assert reply.json["did"] == ["filed"]


# --- checks → quality gates ----------------------------------------------------------------------------------
def test_finished_checks_are_quality_gate_results_of_the_team_once_each(bot, team):
    secret = connect(bot.db, team, rules=Rules(gates={"CI / e2e": "e2e"}))
    runs = [github_check_run("unit-tests", "success", run_id=1), github_check_run("Security scan", "failure", run_id=2),
            github_check_run("CI / e2e", "timed_out", run_id=3), github_check_run("lint", "failure", run_id=4),
            github_check_run("integration", "skipped", run_id=5), github_check_run("performance", None, run_id=6)]

    answers = [deliver_github(bot, secret, run, "check_run").json for run in runs]
    again = deliver_github(bot, secret, runs[0], "check_run").json  # the same run, delivered anew

    with bot.db.transaction() as session:
        rows = list(session.exec(select(GateResult).order_by(GateResult.id)))
    assert [(r.gate, r.passed, r.duration_seconds, r.commit, r.ref, r.source_id) for r in rows] == [
        ("unit", True, 312.0, "9f2c1ab", "retry-502", "github:check_run:1"),
        ("security", False, 312.0, "9f2c1ab", "retry-502", "github:check_run:2"),
        ("e2e", False, 312.0, "9f2c1ab", "retry-502", "github:check_run:3")]
    assert [a.get("gates") for a in answers] == [
        {"stored": 1, "duplicates": 0, "not_run": 0}, {"stored": 1, "duplicates": 0, "not_run": 0},
        {"stored": 1, "duplicates": 0, "not_run": 0}, {"stored": 0, "duplicates": 0, "not_run": 0},
        {"stored": 0, "duplicates": 0, "not_run": 1}, {"stored": 0, "duplicates": 0, "not_run": 0}]
    assert again["gates"] == {"stored": 0, "duplicates": 1, "not_run": 0}


# --- concurrency ------------------------------------------------------------------------------------------
@both_databases
def test_one_delivery_posted_twice_at_once_is_handled_once(bot, slack, secret):
    delivery = str(uuid.uuid4())
    replies = []
    with freeze_time(MONDAY_10):
        threads = [threading.Thread(target=lambda: replies.append(
            deliver_github(bot, secret, github_pull("opened"), delivery=delivery, wait=False))) for _ in range(2)]
        [t.start() for t in threads]
        [t.join() for t in threads]
    bot.wait()

    assert sorted(json.dumps(r.json, sort_keys=True) for r in replies) == [
        '{"did": ["filed"], "team": "Payments"}', '{"duplicate": true}']
    assert len(requests(bot.db)) == 1 and len(assignments(bot.db)) == 2
    assert len(slack.calls_to("chat.postMessage")) == 3  # the card and two DMs


@both_databases
def test_two_deliveries_about_one_new_pull_request_at_once_file_one_request(bot, secret):
    replies = []
    payloads = [github_pull("opened", requested=("ivy-gh",)),
                github_pull("review_requested", requested=("ivy-gh",), reviewer="ivy-gh")]
    with freeze_time(MONDAY_10):
        threads = [threading.Thread(target=lambda p=p: replies.append(deliver_github(bot, secret, p, wait=False)))
                   for p in payloads]
        [t.start() for t in threads]
        [t.join() for t in threads]
    bot.wait()

    assert sorted(r.json["did"][0] for r in replies) in (["filed", "reviewer_not_added:already"],
                                                         ["filed", "unchanged"])
    assert len(requests(bot.db)) == 1 and count_rows(bot.db, PullRequestLink) == 1
    assert active(bot.db) == {("UEVE", "primary"), ("UIVY", "secondary")}


# --- helpers -------------------------------------------------------------------------------------------------
def _at(text):
    from datetime import UTC, datetime

    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _keys(db):
    with db.transaction() as session:
        return [m.key for m in session.exec(select(outbox.OutboxMessage))]


def test_a_database_out_of_reach_is_a_503_that_github_can_redeliver_later(bot, secret, tmp_path):
    from storage.db import Database

    working = bot.services.db
    bot.services.db = Database(f"sqlite:///{tmp_path}/missing-dir/none.db")
    try:
        reply = deliver_github(bot, secret, github_pull("opened"), delivery="d-503")
    finally:
        bot.services.db = working
    with freeze_time(MONDAY_10):
        again = deliver_github(bot, secret, github_pull("opened"), delivery="d-503")

    assert reply.status == 503 and "redeliver" in reply.json["error"]
    assert again.json["did"] == ["filed"]
