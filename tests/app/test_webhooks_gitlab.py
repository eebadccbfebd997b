"""GitLab's merge requests drive review requests the same way, through POST /webhooks/gitlab
(X-Gitlab-Token, X-Gitlab-Event-UUID). The payloads follow GitLab's documented merge request and
pipeline events (docs.gitlab.com, "Webhook events")."""

import uuid

import pytest
from freezegun import freeze_time
from sqlmodel import select

from storage.metrics import GateResult
from storage.pull_requests import WebhookDelivery
from tests.handlers.reviews.test_reviews import MONDAY_10, assignments, buttons, card, dms, matrix, requests
from tests.harness.databases import count_rows
from tests.harness.webhooks import PROJECT, connect, deliver_gitlab, gitlab_merge_request, gitlab_pipeline, link


@pytest.fixture
def secret(bot):
    team = matrix(bot.db)
    for person in ("dave", "eve", "frank", "ivy"):
        link(bot.db, "gitlab", f"{person}-gl", person)
    return connect(bot.db, team, "gitlab", repositories=(PROJECT,))


def active(db):
    return {(a.reviewer_id, a.role) for a in assignments(db) if a.status in ("assigned", "accepted")}


def test_a_merge_request_opened_approved_and_merged_files_finishes_and_closes_its_review(bot, slack, secret):
    with freeze_time(MONDAY_10):
        opened = deliver_gitlab(bot, secret, gitlab_merge_request("open"))
    with freeze_time("2026-03-02 11:00:00"):
        approval = deliver_gitlab(bot, secret, gitlab_merge_request("approval", user="eve-gl", user_id_=70))
        approved = deliver_gitlab(bot, secret, gitlab_merge_request("approved", user="frank-gl", user_id_=71))
    with freeze_time("2026-03-02 12:00:00"):
        merged = deliver_gitlab(bot, secret, gitlab_merge_request("merge", user="eve-gl", user_id_=70))

    assert [r.json["did"] for r in (opened, approval, approved, merged)] == [
        ["filed"], ["review_done"], ["review_done"], ["merged"]]
    request = requests(bot.db)[0]
    assert (request.author_id, request.url, request.specialization) == (
        "UDAVE", f"https://gitlab.example.com/{PROJECT}/-/merge_requests/3", "Backend/API")
    assert (request.status, request.turnaround_seconds, request.merged_at is not None) == ("done", 3600, True)
    assert "Merged" in card(slack)
    assert any("review_rate_9" in buttons(m) for m in dms(slack, "dave"))


def test_reviewers_and_draft_changed_in_one_update_are_each_followed(bot, slack, secret):
    with freeze_time(MONDAY_10):
        deliver_gitlab(bot, secret, gitlab_merge_request("open"))
    changes = {"draft": {"previous": False, "current": True},
               "reviewers": {"previous": [{"username": "frank-gl"}], "current": [{"username": "ivy-gl"}]}}
    with freeze_time("2026-03-02 10:30:00"):
        reply = deliver_gitlab(bot, secret, gitlab_merge_request("update", changes=changes, draft=True))

    assert reply.json["did"] == ["draft", "reviewer_removed", "reviewer_added"]
    request = requests(bot.db)[0]
    assert request.paused_at is not None
    assert ("UIVY", "secondary") in active(bot.db) and ("UFRANK", "secondary") not in active(bot.db)


def test_a_merge_request_opened_by_someone_else_than_its_author_is_filed_without_an_author(bot, slack, secret):
    with freeze_time(MONDAY_10):
        deliver_gitlab(bot, secret, gitlab_merge_request("open", user="eve-gl", user_id_=70, author_id=51))

    request = requests(bot.db)[0]
    assert request.author_id == "gitlab:"
    assert "requested by someone on GitLab" in card(slack)


def test_a_finished_pipelines_jobs_are_quality_gate_results(bot, secret):
    pipeline = gitlab_pipeline("failed", [(376, "unit-tests", "success"), (377, "security-scan", "failed"),
                                          (378, "build-image", "success"), (380, "performance", "manual"),
                                          (381, "integration", "canceled")])

    reply = deliver_gitlab(bot, secret, pipeline)
    running = deliver_gitlab(bot, secret, gitlab_pipeline("running", [(390, "unit-tests", "running")]))

    with bot.db.transaction() as session:
        rows = list(session.exec(select(GateResult).order_by(GateResult.id)))
    assert [(r.gate, r.passed, r.duration_seconds, r.source_id) for r in rows] == [
        ("unit", True, 17.0, "gitlab:job:376"), ("security", False, 17.0, "gitlab:job:377")]
    assert reply.json["gates"] == {"stored": 2, "duplicates": 0, "not_run": 1}
    assert running.json == {"team": "Payments", "did": ["ignored"]}


def test_a_wrong_or_missing_token_is_a_401_and_an_event_delivered_again_is_handled_once(bot, secret):
    body = gitlab_merge_request("open")
    assert deliver_gitlab(bot, "qmswh_" + "x" * 43, body).status == 401
    assert deliver_gitlab(bot, secret[:-1], body).status == 401
    assert bot.post("/webhooks/gitlab", b"{}", {"X-Gitlab-Event": "Merge Request Hook"}).status == 401

    event = str(uuid.uuid4())
    with freeze_time(MONDAY_10):
        replies = [deliver_gitlab(bot, secret, body, delivery=event) for _ in range(3)]

    assert [r.json.get("duplicate", False) for r in replies] == [False, True, True]
    assert len(requests(bot.db)) == 1 and count_rows(bot.db, WebhookDelivery) == 1
