"""The CI ingestion API over HTTP: a team's bearer token, whole batches or nothing, clear JSON errors."""

import json
import urllib.request
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlmodel import select

from bot import metrics
from bot.core.timeutil import utcnow
from storage.audit import AuditEvent
from storage.metrics import Defect, GateResult
from tests.conftest import both_databases
from tests.harness.databases import count_rows
from tests.harness.metrics import full_metrics
from tests.harness.teams import make_team

NOW = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)
GATES = [
    {"gate": "unit", "result": "pass", "duration": 312.5, "commit": "9f2c1ab", "ref": "refs/heads/main",
     "timestamp": "2026-03-09T14:55:00Z", "id": "run-1-unit"},
    {"gate": "Coverage", "result": "pass", "value": 87.5},
    {"gate": "security_scans", "result": "failure"},
    {"gate": "contract tests", "result": "fail", "timestamp": "2026-03-09T15:55:00+01:00"},
]


def token_for(db, name="Payments", channel="payments", workspace_id="T0TEST") -> str:
    team = make_team(db, name, channel=channel, workspace_id=workspace_id)
    with db.transaction() as session:
        token, _ = metrics.create_token(session, session.merge(team), actor_id="UALICE", now=NOW)
    return token


def post(bot, path, body, token=None, *, headers=None):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    sent = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {}),
            **(headers or {})}
    return bot.post(path, data, sent, wait=False)


def stored_gates(db):
    with db.transaction() as session:
        return list(session.exec(select(GateResult).order_by(GateResult.id)))


@both_databases
def test_a_batch_of_gate_results_is_stored_for_the_tokens_team(bot):
    token = token_for(bot.db)

    reply = post(bot, "/api/v1/gates", GATES, token)

    assert reply.status == 201, reply.body
    assert reply.json == {"stored": 4, "duplicates": 0, "not_run": 0, "team": "Payments"}
    rows = stored_gates(bot.db)
    assert [(r.gate, r.passed, r.value, r.duration_seconds) for r in rows] == [
        ("unit", True, None, 312.5), ("coverage", True, 87.5, None), ("security", False, None, None),
        ("contract_tests", False, None, None)]
    assert rows[0].happened_at == datetime(2026, 3, 9, 14, 55, tzinfo=UTC)
    assert rows[1].happened_at == rows[1].received_at  # no timestamp: when it arrived
    assert abs(rows[1].received_at - utcnow()) < timedelta(minutes=1)
    assert rows[3].happened_at == datetime(2026, 3, 9, 14, 55, tzinfo=UTC)  # +01:00 converted to UTC
    assert (rows[0].commit, rows[0].ref, rows[0].source_id) == ("9f2c1ab", "refs/heads/main", "run-1-unit")
    with bot.db.transaction() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "gates")).one()
    assert (event.action, event.after, event.actor_id) == ("ingested", {"stored": 4, "duplicates": 0, "not_run": 0},
                                                           "ci:" + token[:12])


def test_one_record_may_be_posted_as_a_plain_object_even_with_curls_default_content_type(bot):
    token = token_for(bot.db)

    reply = post(bot, "/api/v1/gates", {"gate": "integration", "result": "passed"}, token,
                 headers={"Content-Type": "application/x-www-form-urlencoded"})

    assert reply.status == 201 and reply.json["stored"] == 1


def test_a_record_posted_again_with_its_id_is_stored_once(bot):
    token = token_for(bot.db)
    batch = [{"gate": "unit", "result": "pass", "id": "build-7"}, {"gate": "unit", "result": "pass", "id": "build-8"}]

    first = post(bot, "/api/v1/gates", batch, token)
    retry = post(bot, "/api/v1/gates", batch + [{"gate": "unit", "result": "fail", "id": "build-9"}], token)

    assert (first.json["stored"], retry.json["stored"], retry.json["duplicates"]) == (2, 1, 2)
    assert len(stored_gates(bot.db)) == 3


def test_a_gate_that_ci_skipped_or_cancelled_is_counted_as_not_run_and_not_stored(bot):
    token = token_for(bot.db)
    batch = [{"gate": "unit", "result": "success"}, {"gate": "security", "result": "skipped"},
             {"gate": "performance", "result": "cancelled"}, {"gate": "lint", "result": "Neutral"},
             {"gate": "e2e", "result": "canceled"}]

    reply = post(bot, "/api/v1/gates", batch, token)

    assert reply.json == {"stored": 1, "duplicates": 0, "not_run": 4, "team": "Payments"}
    assert [g.gate for g in stored_gates(bot.db)] == ["unit"]


@both_databases
def test_defects_are_stored_as_found_in_production_or_before_release(bot):
    token = token_for(bot.db)
    defects = [{"found": "production", "id": "BUG-1", "severity": "high", "title": "Refund rounding"},
               {"found": "before_release"}, {"found": "pre-release"}]

    reply = post(bot, "/api/v1/defects", defects, token)

    assert reply.status == 201 and reply.json["stored"] == 3
    with bot.db.transaction() as session:
        rows = list(session.exec(select(Defect).order_by(Defect.id)))
    assert [(d.found_in, d.source_id, d.severity) for d in rows] == [
        ("production", "BUG-1", "high"), ("before_release", None, None), ("before_release", None, None)]


# --- authentication --------------------------------------------------------------------------------
@pytest.mark.parametrize("header", [None, "Basic dXNlcjpwYXNz", "Bearer", "Bearer "])
def test_a_call_without_a_bearer_token_is_401_and_says_how_to_get_one(bot, header):
    token_for(bot.db)

    reply = post(bot, "/api/v1/gates", GATES, headers={"Authorization": header} if header else {})

    assert reply.status == 401
    assert "Missing bearer token" in reply.json["error"] and "/qms setup token" in reply.json["error"]
    assert {k.lower(): v for k, v in reply.headers.items()}["www-authenticate"].startswith("Bearer")
    assert stored_gates(bot.db) == []


@pytest.mark.parametrize("token", ["qms_" + "A" * 43, "xoxb-not-ours", "qms_"])
def test_an_unknown_token_is_401_and_nothing_is_stored(bot, token):
    token_for(bot.db)

    reply = post(bot, "/api/v1/gates", GATES, token)

    assert reply.status == 401 and "Unknown or revoked token" in reply.json["error"]
    assert stored_gates(bot.db) == []


def test_a_revoked_token_is_refused(bot):
    token = token_for(bot.db)
    with bot.db.transaction() as session:
        from storage import teams as team_store

        team = team_store.team_by_channel(session, "T0TEST", "CPAYMENTS")
        metrics.revoke_tokens(session, team, "all", actor_id="UALICE", now=NOW)

    reply = post(bot, "/api/v1/gates", GATES, token)

    assert reply.status == 401
    assert stored_gates(bot.db) == []


def test_a_token_posts_only_into_its_own_team_whatever_the_body_says(bot):
    token_for(bot.db)
    platform = token_for(bot.db, "Platform", "platform")

    reply = post(bot, "/api/v1/gates", [{"gate": "unit", "result": "pass", "team_id": 1, "workspace_id": "T0X"}],
                 platform)

    assert reply.json["team"] == "Platform"
    [row] = stored_gates(bot.db)
    assert (row.team_id, row.workspace_id) != (1, "T0X") and row.workspace_id == "T0TEST"


def test_using_a_token_records_when_it_was_last_used(bot):
    token = token_for(bot.db)

    with bot.db.transaction() as session:
        assert metrics.token_owner(session, token)[0].last_used_at is None
    before = utcnow()

    post(bot, "/api/v1/gates", GATES[:1], token)

    with bot.db.transaction() as session:
        assert before <= metrics.token_owner(session, token)[0].last_used_at <= utcnow()


# --- validation: 4xx naming the problem, nothing stored --------------------------------------------
@pytest.mark.parametrize("body, status, error", [
    ('{"gate": "unit", "result": ', 400, "The body is not valid JSON"),
    ("", 400, "The body is not valid JSON"),
    (b"\xff\xfe", 400, "The body is not valid JSON"),
    ('"unit passed"', 400, "must be a JSON object (one record) or an array of records"),
    ("[]", 400, "The batch is empty"),
])
def test_a_body_that_is_not_records_is_a_400(bot, body, status, error):
    token = token_for(bot.db)

    reply = post(bot, "/api/v1/gates", body, token)

    assert reply.status == status
    assert error in reply.json["error"]
    assert stored_gates(bot.db) == []


@both_databases
def test_a_missing_field_is_a_422_naming_the_record_and_field_and_the_valid_records_are_not_stored_either(bot):
    token = token_for(bot.db)
    batch = GATES + [{"gate": "unit"}, {"result": "pass"}]

    reply = post(bot, "/api/v1/gates", batch, token)

    assert reply.status == 422
    assert reply.json["error"] == '"result" is missing.'
    assert reply.json["problems"] == [{"record": 4, "field": "result", "message": '"result" is missing.'},
                                      {"record": 5, "field": "gate", "message": '"gate" is missing.'}]
    assert reply.json["problem_count"] == 2
    assert stored_gates(bot.db) == []
    assert count_rows(bot.db, AuditEvent) == 2  # the team and its token only


@pytest.mark.parametrize("record, field, message", [
    ({"gate": "unit", "result": "flaky"}, "result", '"result" must be "pass" or "fail", not "flaky".'),
    ({"gate": "unit", "result": 1}, "result", '"result" must be "pass" or "fail", not "1".'),
    ({"gate": "coverage", "result": "pass", "value": 140}, "value", '"value" must be from 0 to 100.'),
    ({"gate": "unit", "result": "pass", "value": "87%"}, "value", '"value" must be a number.'),
    ({"gate": "unit", "result": "pass", "duration": -3}, "duration", '"duration" must be from 0 to 2,592,000 seconds.'),
    ({"gate": "x" * 41, "result": "pass"}, "gate", '"gate" is longer than 40 characters.'),
    ({"gate": ["unit"], "result": "pass"}, "gate", '"gate" must be a string.'),
    ({"gate": "unit", "result": "pass", "timestamp": "yesterday"}, "timestamp",
     '"timestamp" must be an ISO 8601 time such as 2026-03-02T09:15:00Z.'),
    ({"gate": "unit", "result": "pass", "timestamp": "2026-03-09T09:00:00"}, "timestamp",
     '"timestamp" needs a time zone, such as 2026-03-02T09:15:00Z or +01:00.'),
    ({"gate": "unit", "result": "pass", "timestamp": "2027-03-09T09:00:00Z"}, "timestamp",
     '"timestamp" is more than a day in the future.'),
    ("unit passed", None, "Each record must be a JSON object."),
])
def test_each_wrong_field_is_named_in_a_422(bot, record, field, message):
    token = token_for(bot.db)

    reply = post(bot, "/api/v1/gates", [GATES[0], record], token)

    assert reply.status == 422
    assert reply.json["problems"] == [{"record": 1, "field": field, "message": message}]
    assert stored_gates(bot.db) == []


def test_a_single_record_posted_as_an_object_is_record_0(bot):
    token = token_for(bot.db)

    reply = post(bot, "/api/v1/gates", {"gate": "unit"}, token)

    assert reply.status == 422
    assert reply.json == {"error": '"result" is missing.', "problem_count": 1,
                          "problems": [{"record": 0, "field": "result", "message": '"result" is missing.'}]}


def test_a_defect_must_say_where_it_was_found(bot):
    token = token_for(bot.db)

    reply = post(bot, "/api/v1/defects", [{"found": "staging-ish"}, {"title": "no place"}], token)

    assert reply.status == 422
    assert [p["field"] for p in reply.json["problems"]] == ["found", "found"]
    assert 'must be "production" or "before_release"' in reply.json["error"]
    assert count_rows(bot.db, Defect) == 0


def test_a_batch_of_a_thousand_is_stored_and_one_more_is_a_413(bot):
    token = token_for(bot.db)
    batch = [{"gate": "unit", "result": "pass" if n % 10 else "fail", "duration": n} for n in range(1000)]

    accepted = post(bot, "/api/v1/gates", batch, token)
    refused = post(bot, "/api/v1/gates", batch + [{"gate": "unit", "result": "pass"}], token)

    assert (accepted.status, accepted.json["stored"]) == (201, 1000)
    assert refused.status == 413
    assert refused.json["error"] == "At most 1000 records per call; this one has 1001. Split the batch."
    assert count_rows(bot.db, GateResult) == 1000


def test_an_unknown_endpoint_answers_404_with_where_to_post(bot):
    token = token_for(bot.db)

    reply = post(bot, "/api/v1/coverage", GATES, token)

    assert reply.status == 404
    assert "/api/v1/gates" in reply.json["error"]


def test_posted_gate_results_show_up_in_the_teams_metrics(bot):
    token = token_for(bot.db)
    batch = [{"gate": "performance", "result": "pass" if n < 17 else "fail",
              "timestamp": (utcnow() - timedelta(hours=n)).isoformat()} for n in range(20)]
    post(bot, "/api/v1/gates", batch, token)

    reply = full_metrics(bot)

    assert "✅ *Performance tests*: 85 % of 20 runs · target > 85 %" not in reply.text  # 85 is not above 85
    assert "⚠️ *Performance tests*: 85 % · target > 85 %" in reply.text


# --- bodies that once made the API answer 500 -------------------------------------------------------
@pytest.mark.parametrize("body, error", [
    ('[{"gate": "unit", "result": "pass", "value": ' + "9" * 400 + "}]", '"value" must be from'),
    ('[{"gate": "coverage", "result": "pass", "value": ' + "9" * 400 + "}]", '"value" must be from 0 to 100.'),
    ('[{"gate": "unit", "result": "pass", "duration": ' + "9" * 400 + "}]", '"duration" must be from 0 to'),
    ('[{"gate": "unit", "result": "pass", "value": -' + "9" * 400 + "}]", '"value" must be from'),
    ('[{"gate": "unit", "result": "pass", "timestamp": "0001-01-01T00:00:00+05:00"}]',
     '"timestamp" is before 2000'),
], ids=["huge value", "huge coverage", "huge duration", "huge negative value", "year 1 with an offset"])
def test_a_number_or_a_time_out_of_range_is_a_422_naming_its_field(bot, body, error):
    token = token_for(bot.db)

    reply = post(bot, "/api/v1/gates", body, token)

    assert reply.status == 422, reply.body
    assert error in reply.json["error"] and reply.json["problems"][0]["record"] == 0
    assert stored_gates(bot.db) == []


def test_a_defect_found_in_year_one_is_a_422_too(bot):
    token = token_for(bot.db)

    reply = post(bot, "/api/v1/defects", [{"found": "production", "timestamp": "0001-01-01T03:00:00+05:00"}], token)

    assert reply.status == 422 and reply.json["problems"][0]["field"] == "timestamp"
    assert count_rows(bot.db, Defect) == 0


@pytest.mark.parametrize("body, error", [
    ('[{"gate": "unit", "result": "pass", "value": ' + "1" * 5000 + "}]", "a number of more than 4300 digits"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"gate": "unit", "result": "pass", "commit": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested too deeply"),
], ids=["5000 digits", "deep arrays", "deep field"])
def test_a_body_python_cannot_read_is_a_400_naming_why(bot, body, error):
    token = token_for(bot.db)

    reply = post(bot, "/api/v1/gates", body, token)

    assert reply.status == 400, reply.body
    assert error in reply.json["error"]
    assert stored_gates(bot.db) == []


@both_databases
@pytest.mark.parametrize("body, field", [
    ('[{"gate": "unit\\u0000", "result": "pass"}]', "gate"),
    ('[{"gate": "unit", "result": "pass", "id": "run-1\\u0000"}]', "id"),
    ('[{"gate": "unit", "result": "pass", "commit": "9f2c\\ud800"}]', "commit"),
], ids=["NUL in gate", "NUL in id", "lone surrogate"])
def test_text_no_database_can_store_is_a_422_naming_its_field(bot, body, field):
    token = token_for(bot.db)

    reply = post(bot, "/api/v1/gates", body, token)

    assert reply.status == 422, reply.body
    assert reply.json["problems"][0]["field"] == field and "cannot be stored" in reply.json["error"]
    assert stored_gates(bot.db) == []


def test_a_wrong_result_is_named_by_its_start_or_its_kind(bot):
    token = token_for(bot.db)
    body = ('[{"gate": "unit", "result": ' + "[" * 800 + "]" * 800 + '}, {"gate": "unit", "result": "x\\ud800"},'
            ' {"gate": "unit", "result": ' + "7" * 300 + "}]")

    reply = post(bot, "/api/v1/gates", body, token)

    assert reply.status == 422
    assert [p["message"] for p in reply.json["problems"]] == [
        '"result" must be "pass" or "fail", not "an array".', '"result" must be "pass" or "fail", not "x\ufffd".',
        '"result" must be "pass" or "fail", not "' + "7" * 40 + '".']


# --- retries: an Idempotency-Key makes a batch without ids safe to post again ---------------------
UNNAMED = [{"gate": "unit", "result": "pass"}, {"gate": "coverage", "result": "pass", "value": 81.0}]  # no ids


def keyed(key):
    return {"Idempotency-Key": key}


@both_databases
def test_a_batch_without_ids_retried_with_its_idempotency_key_is_stored_once_and_answered_as_the_first_time(bot):
    token = token_for(bot.db)

    first = post(bot, "/api/v1/gates", UNNAMED, token, headers=keyed("run-4711-1-gates"))
    retry = post(bot, "/api/v1/gates", UNNAMED, token, headers=keyed("run-4711-1-gates"))

    assert (first.status, first.json) == (201, {"stored": 2, "duplicates": 0, "not_run": 0, "team": "Payments"})
    assert (retry.status, retry.body) == (first.status, first.body)
    assert retry.headers.get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first.headers
    assert len(stored_gates(bot.db)) == 2
    with bot.db.transaction() as session:
        assert len(session.exec(select(AuditEvent).where(AuditEvent.entity_type == "gates")).all()) == 1


@both_databases
def test_retries_of_one_batch_arriving_together_store_it_once(bot):
    token = token_for(bot.db)
    start = threading.Barrier(4)

    def retry():
        start.wait(timeout=10)
        return post(bot, "/api/v1/gates", UNNAMED, token, headers=keyed("run-4712-1-gates"))

    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda _: retry(), range(4)))

    assert {reply.status for reply in replies} == {201}
    assert len({reply.body for reply in replies}) == 1
    assert sum(reply.headers.get("Idempotent-Replayed") == "true" for reply in replies) == 3
    assert len(stored_gates(bot.db)) == 2


def test_a_key_used_again_for_another_batch_is_a_422_and_stores_nothing_more(bot):
    token = token_for(bot.db)
    post(bot, "/api/v1/gates", UNNAMED, token, headers=keyed("nightly"))

    other = post(bot, "/api/v1/gates", UNNAMED[:1], token, headers=keyed("nightly"))
    elsewhere = post(bot, "/api/v1/defects", {"found": "production"}, token, headers=keyed("nightly"))

    assert other.status == elsewhere.status == 422
    assert other.json == {"error": "This Idempotency-Key was used for a different batch in the last 24 hours: "
                                   "send a new batch under a new key."}
    assert len(stored_gates(bot.db)) == 2 and count_rows(bot.db, Defect) == 0


def test_keys_are_each_teams_own_and_forgotten_after_a_day(bot):
    token, platform = token_for(bot.db), token_for(bot.db, "Platform", "platform")

    with freeze_time("2026-03-09 15:00:00"):
        post(bot, "/api/v1/gates", UNNAMED, token, headers=keyed("build-1"))
        theirs = post(bot, "/api/v1/gates", UNNAMED, platform, headers=keyed("build-1"))
    with freeze_time("2026-03-10 14:59:00"):
        within = post(bot, "/api/v1/gates", UNNAMED, token, headers=keyed("build-1"))
    with freeze_time("2026-03-10 15:00:01"):
        after = post(bot, "/api/v1/gates", UNNAMED, token, headers=keyed("build-1"))

    assert (theirs.status, theirs.json["team"], "Idempotent-Replayed" in theirs.headers) == (201, "Platform", False)
    assert within.headers.get("Idempotent-Replayed") == "true"
    assert (after.status, after.json["stored"], "Idempotent-Replayed" in after.headers) == (201, 2, False)
    assert len(stored_gates(bot.db)) == 6


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve-key", "tab\tinside"])
def test_an_idempotency_key_that_is_not_1_to_255_visible_ascii_characters_is_a_400(bot, key):
    token = token_for(bot.db)

    reply = post(bot, "/api/v1/gates", UNNAMED, token, headers=keyed(key))

    assert reply.status == 400
    assert reply.json["error"].startswith("The Idempotency-Key header must be 1 to 255 visible ASCII characters")
    assert stored_gates(bot.db) == []


@pytest.mark.parametrize("method, path, status", [("GET", "/api/v1/gates", 405), ("PUT", "/api/v1/defects", 405),
                                                  ("GET", "/api/v2/nothing", 404), ("POST", "/api/v1/a/b", 404)])
def test_every_answer_of_the_api_is_json_a_wrong_method_or_path_included(bot, method, path, status):
    reply = bot._open(urllib.request.Request(bot.url + path, data=b"{}" if method != "GET" else None, method=method))

    assert reply.status == status
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json["error"] in ("method not allowed", "not found")
    if status == 405:
        assert "POST" in reply.headers["Allow"]


def test_outside_the_api_a_missing_page_is_still_flasks_own(bot):
    reply = bot.get("/nowhere")

    assert reply.status == 404 and "json" not in reply.headers["Content-Type"]
