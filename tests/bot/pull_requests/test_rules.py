"""Reading GitHub's and GitLab's payloads, and a team's rules: plain functions of plain values."""

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.pull_requests import rules
from bot.pull_requests.rules import GateRun, MalformedWebhook, PullRequest, Rules
from tests.harness.webhooks import github_check_run, github_pull, github_review, gitlab_merge_request, gitlab_pipeline

SPECIALIZATIONS = ["Frontend/UX", "Backend/API", "Database/Performance", "Security"]


def pull(**overrides) -> PullRequest:
    values = dict(repository="acme/api", number=1, title="t", url="https://github.com/acme/api/pull/1", author="a",
                  draft=False)
    return PullRequest(**(values | overrides))


@pytest.mark.parametrize("labels, files, expected", [
    (("ui", "backend"), (), "Frontend/UX"),  # the rules' first label, in the rules' order
    (("security",), (), "Security"),  # a label naming a specialization
    (("data",), (), "Database/Performance"),  # or uniquely starting one
    (("docs",), ("web/app.tsx", "web/a.css", "db/001.sql"), "Frontend/UX"),  # most files
    ((), ("db/001.sql", "db/002.sql", "web/app.tsx"), "Database/Performance"),
    ((), ("README.md",), "Backend/API"),  # the rules' default
])
def test_the_specialization_is_the_first_mapped_label_then_a_named_one_then_most_files_then_the_default(
        labels, files, expected):
    team_rules = Rules(labels={"ui": "Frontend/UX", "backend": "Backend/API"},
                       paths={"web/": "Frontend/UX", "*.sql": "Database/Performance"},
                       default_specialization="backend/api")

    assert rules.specialization_of(pull(labels=labels, files=files), team_rules, SPECIALIZATIONS) == expected


def test_without_rules_a_change_is_the_teams_first_specialization():
    assert rules.specialization_of(pull(labels=("bug",)), Rules(), SPECIALIZATIONS) == "Frontend/UX"


@pytest.mark.parametrize("lines, size", [(None, "M"), (0, "S"), (99, "S"), (100, "M"), (499, "M"), (500, "L")])
def test_the_size_follows_the_changed_lines(lines, size):
    assert rules.size_of(lines) == size


@pytest.mark.parametrize("name, gate", [("unit-tests", "unit"), ("Security scan", "security"), ("coverage", "coverage"),
                                        ("CI / e2e", "e2e"), ("lint", None), ("build (ubuntu)", None)])
def test_a_check_is_a_gate_by_the_teams_mapping_or_by_one_of_the_guides_names(name, gate):
    assert rules.gate_of(name, Rules(gates={"ci / E2E": "e2e"})) == gate


def test_a_finished_run_becomes_a_ci_api_record_with_its_duration():
    run = GateRun(name="unit", result="success", source_id="github:check_run:1", commit="abc", ref="main",
                  started_at=datetime(2026, 3, 2, 10, tzinfo=UTC), completed_at=datetime(2026, 3, 2, 10, 5, tzinfo=UTC))

    assert rules.gate_records([run], Rules()) == [{"gate": "unit", "result": "success", "id": "github:check_run:1",
                                                  "commit": "abc", "ref": "main",
                                                  "timestamp": "2026-03-02T10:05:00+00:00", "duration": 300.0}]


@pytest.mark.parametrize("payload, event, kind, reviewer", [
    (github_pull("opened"), "pull_request", rules.OPENED, None),
    (github_pull("ready_for_review"), "pull_request", rules.READY, None),
    (github_pull("converted_to_draft", draft=True), "pull_request", rules.DRAFT, None),
    (github_pull("closed"), "pull_request", rules.CLOSED, None),
    (github_pull("closed", merged=True), "pull_request", rules.MERGED, None),
    (github_pull("reopened"), "pull_request", rules.REOPENED, None),
    (github_pull("review_requested", reviewer="Eve"), "pull_request", rules.REVIEW_REQUESTED, "Eve"),
    (github_pull("review_request_removed", reviewer="eve"), "pull_request", rules.REVIEW_REQUEST_REMOVED, "eve"),
    (github_pull("labeled"), "pull_request", rules.IGNORED, None),
    (github_review("approved", "eve"), "pull_request_review", rules.APPROVED, "eve"),
    (github_review("APPROVED", "eve"), "pull_request_review", rules.APPROVED, "eve"),
    (github_review("changes_requested", "eve"), "pull_request_review", rules.CHANGES_REQUESTED, "eve"),
    (github_review("commented", "eve"), "pull_request_review", rules.IGNORED, "eve"),
    (github_check_run("unit", "success"), "check_run", rules.GATES, None),
    ({"zen": "Keep it logically awesome."}, "ping", rules.PING, None),
    ({"action": "created", "repository": {"full_name": "a/b"}}, "star", rules.IGNORED, None),
])
def test_githubs_events_are_read_as_what_they_do(payload, event, kind, reviewer):
    [found] = rules.read_github(event, payload)

    assert (found.kind, found.reviewer) == (kind, reviewer)


def test_a_team_requested_as_reviewer_is_no_person_to_assign():
    payload = github_pull("review_requested") | {"requested_team": {"name": "backend", "slug": "backend"}}

    assert rules.read_github("pull_request", payload)[0].kind == rules.IGNORED


def test_a_github_pull_request_is_read_into_plain_values():
    payload = github_pull("opened", repo="Acme/Payments-API", labels=("backend", "ui"), requested=("eve", "frank"),
                          additions=10, deletions=5, draft=True)

    [event] = rules.read_github("pull_request", payload)

    assert event.pull == PullRequest(repository="acme/payments-api", number=12,
                                     title="Retry card payments on 502 from the PSP",
                                     url="https://github.com/Acme/Payments-API/pull/12", author="dave-gh", draft=True,
                                     labels=("backend", "ui"), changed_lines=15, requested=("eve", "frank"))


@pytest.mark.parametrize("payload, kinds", [
    (gitlab_merge_request("open"), [rules.OPENED]),
    (gitlab_merge_request("approval", user="eve"), [rules.APPROVED]),
    (gitlab_merge_request("approved", user="eve"), [rules.APPROVED]),
    (gitlab_merge_request("unapproval", user="eve"), [rules.IGNORED]),
    (gitlab_merge_request("merge"), [rules.MERGED]),
    (gitlab_merge_request("close"), [rules.CLOSED]),
    (gitlab_merge_request("update", changes={"draft": {"previous": True, "current": False}}), [rules.READY]),
    (gitlab_merge_request("update", changes={"title": {"previous": "a", "current": "b"}}), [rules.IGNORED]),
    (gitlab_merge_request("update", changes={"reviewers": {"previous": [{"username": "a"}],
                                                           "current": [{"username": "b"}, {"username": "c"}]}}),
     [rules.REVIEW_REQUEST_REMOVED, rules.REVIEW_REQUESTED, rules.REVIEW_REQUESTED]),
    (gitlab_pipeline("success", [(1, "unit", "success")]), [rules.GATES]),
    (gitlab_pipeline("running", [(1, "unit", "running")]), [rules.IGNORED]),
])
def test_gitlabs_events_are_read_as_what_they_do(payload, kinds):
    assert [event.kind for event in rules.read_gitlab("x", payload)] == kinds


def test_gitlabs_times_are_read_in_either_of_its_spellings():
    [event] = rules.read_gitlab("Pipeline Hook", gitlab_pipeline("success", [(7, "unit", "success")]))

    assert event.gates[0].completed_at == datetime(2026, 3, 2, 10, 26, 29, tzinfo=UTC)


@pytest.mark.parametrize("payload", [
    "text", [1], {"action": "opened", "pull_request": [], "repository": {"full_name": "a/b"}},
    {"action": "opened", "pull_request": {"number": "12"}, "repository": {"full_name": "a/b"}},
    {"action": "opened", "pull_request": {"number": 1, "html_url": 5}, "repository": {"full_name": "a/b"}},
    {"action": "opened", "pull_request": {"number": 1, "html_url": "u", "labels": "bug"},
     "repository": {"full_name": "a/b"}},
    {"action": "submitted", "review": {"state": "approved"}, "pull_request": github_pull("x")["pull_request"],
     "repository": {"full_name": "a/b"}},
])
def test_a_payload_not_shaped_like_githubs_is_malformed(payload):
    event = "pull_request_review" if isinstance(payload, dict) and "review" in payload else "pull_request"
    with pytest.raises(MalformedWebhook):
        rules.read_github(event, payload)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                  max_size=6), max_leaves=30)
KEYS = ["action", "pull_request", "repository", "review", "check_run", "workflow_run", "number", "full_name",
        "html_url", "user", "login", "labels", "object_kind", "object_attributes", "project", "path_with_namespace",
        "iid", "url", "changes", "reviewers", "builds", "status", "state", "requested_reviewer", "draft"]
SHAPED = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10) | st.sampled_from(
    ["opened", "closed", "merge_request", "pipeline", "approved", "success", "2026-03-02T10:00:00Z"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=8),
    max_leaves=40)


@settings(max_examples=150, deadline=None)
@given(payload=JSON | SHAPED, event=st.sampled_from(["pull_request", "pull_request_review", "check_run",
                                                      "workflow_run", "ping", "push"]))
def test_any_json_is_either_read_or_malformed_never_an_error_of_ours(payload, event):
    for read in (rules.read_github, rules.read_gitlab):
        try:
            events = read(event, json.loads(json.dumps(payload)))
        except MalformedWebhook:
            continue
        assert all(isinstance(e, rules.Event) for e in events)


def test_a_gitlab_job_that_finished_is_one_run_and_one_still_running_is_none():
    job = {"object_kind": "build", "ref": "main", "sha": "2293ada6", "build_id": 1977, "build_name": "unit-tests",
           "build_status": "failed", "build_started_at": "2026-03-02T10:00:00.000Z",
           "build_finished_at": "2026-03-02T10:01:30.000Z", "project": {"path_with_namespace": "Acme/Web"}}

    [finished] = rules.read_gitlab("Job Hook", job)
    [running] = rules.read_gitlab("Job Hook", job | {"build_status": "running"})

    assert (finished.kind, finished.repository, finished.gates) == (rules.GATES, "acme/web", (GateRun(
        name="unit-tests", result="failed", source_id="gitlab:job:1977", commit="2293ada6", ref="main",
        started_at=datetime(2026, 3, 2, 10, tzinfo=UTC), completed_at=datetime(2026, 3, 2, 10, 1, 30, tzinfo=UTC)),))
    assert running.gates == ()
