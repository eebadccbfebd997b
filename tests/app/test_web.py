"""Slack's requests are verified before anything else; bad ones get a 4xx and change nothing."""

import json
import time

import pytest

from app import slack_requests
from storage.audit import AuditEvent
from storage.outbox import OutboxMessage
from tests.harness.bot import SIGNING_SECRET, TEAM_ID
from tests.harness.databases import count_rows


def help_body() -> str:
    return slack_requests.slash_command(text="help", user_id="UALICE", channel_id="CGENERAL", team_id=TEAM_ID,
                                        response_url="http://127.0.0.1:9/unused")


def test_a_correctly_signed_command_is_answered(bot):
    assert bot.signed_post(help_body()).status == 200


def test_a_forged_signature_is_refused_with_401(bot):
    body = help_body()
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               **slack_requests.sign("not-the-signing-secret", body)}

    reply = bot.post("/slack/events", body, headers)

    assert reply.status == 401


def test_a_missing_signature_is_refused_with_401(bot):
    reply = bot.post("/slack/events", help_body(), {"Content-Type": "application/x-www-form-urlencoded"})

    assert reply.status == 401


def test_a_signature_older_than_five_minutes_is_refused_with_401(bot):
    reply = bot.signed_post(help_body(), timestamp=int(time.time()) - 5 * 60 - 1)

    assert reply.status == 401


def test_a_body_altered_after_signing_is_refused_with_401(bot):
    body = help_body()
    headers = {"Content-Type": "application/x-www-form-urlencoded", **slack_requests.sign(SIGNING_SECRET, body)}

    reply = bot.post("/slack/events", body.replace("help", "risk"), headers)

    assert reply.status == 401


MALFORMED = {
    "payload that is not JSON": ("payload=%7Bnot-json", "application/x-www-form-urlencoded"),
    "payload that is a list": ("payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),
    "JSON body that is a string": ('"just a string"', "application/json"),
    "JSON body that is broken": ('{"type": "event_callback", ', "application/json"),
    "interaction without a type": ("payload=" + json.dumps({"user": {"id": "U1"}}), "application/x-www-form-urlencoded"),
    "view submission without a view": (
        "payload=" + json.dumps({"type": "view_submission", "team": {"id": TEAM_ID}, "user": {"id": "UALICE"}}),
        "application/x-www-form-urlencoded"),
    "command without a team": ("command=%2Fqms&text=help&user_id=UALICE", "application/x-www-form-urlencoded"),
    "command without a user": ("command=%2Fqms&text=help&team_id=" + TEAM_ID, "application/x-www-form-urlencoded"),
    "empty body": ("", "application/x-www-form-urlencoded"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_signed_but_malformed_body_is_a_4xx_and_writes_nothing(bot, case):
    body, content_type = MALFORMED[case]

    reply = bot.signed_post(body, content_type=content_type)

    assert 400 <= reply.status < 500, reply.body
    assert count_rows(bot.db, AuditEvent) == 0
    assert count_rows(bot.db, OutboxMessage) == 0


def test_a_body_that_is_not_utf8_is_a_400(bot):
    body = b"text=\xff\xfe&command=%2Fqms"
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               **slack_requests.sign(SIGNING_SECRET, body.decode("latin-1"))}

    assert bot.post("/slack/events", body, headers).status == 400


def test_healthz_answers_200_when_the_database_is_reachable(bot):
    reply = bot.get("/healthz")

    assert reply.status == 200
    assert reply.json == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_is_not(bot, tmp_path):
    from storage.db import Database

    bot.services.db = Database(f"sqlite:///{tmp_path}/missing-dir/none.db")

    assert bot.get("/healthz").status == 503


def test_an_event_delivered_again_by_slacks_retry_is_handled_once(bot, slack):
    event = {"type": "app_home_opened", "user": "UALICE", "tab": "home"}

    bot.event(event, event_id="Ev0001")
    bot.event(event, event_id="Ev0001", retry_num=1)
    bot.event(event, event_id="Ev0001", retry_num=2)

    assert len(slack.calls_to("views.publish")) == 1


def test_app_home_opened_publishes_the_home_view(bot, slack):
    bot.event({"type": "app_home_opened", "user": "UBOB", "tab": "home"})

    assert slack.home_views["UBOB"]["type"] == "home"


def test_a_slow_slack_does_not_hold_up_acknowledging_new_requests(bot, slack):
    from bot.core.timeutil import utcnow
    from storage import outbox

    with bot.db.transaction() as session:
        for n in range(30):
            outbox.enqueue(session, workspace_id="T0TEST", key=f"card:{n}", method="chat.postMessage",
                           payload={"channel": "CGENERAL", "text": f"card {n}"}, now=utcnow())
    slow = slack.hold("chat.postMessage")
    try:
        for _ in range(20):  # as if twenty changes had just committed, each kicking a delivery
            bot.services.deliver_outbox()

        reply = bot.command("help", wait=False)  # while every delivery is stuck on Slack

        assert reply.status == 200 and "/qms risk" in reply.text
    finally:
        slow.set()
    bot.wait()
    assert len(slack.posted("CGENERAL")) == 30


@pytest.mark.parametrize("element", [
    {"type": "plain_text_input", "value": 5},
    {"type": "plain_text_input", "value": ["a"]},
    {"type": "static_select", "selected_option": {"value": {"x": 1}}},
    {"type": "multi_static_select", "selected_options": "all"},
    {"type": "multi_users_select", "selected_users": "UALICE"},
    {"type": "users_select", "selected_user": 7},
    {"type": "datepicker", "selected_date": 20260101},
])
def test_a_modal_value_of_the_wrong_type_is_a_400_and_writes_nothing(bot, element):
    view = {"id": "V1", "type": "modal", "callback_id": "team_setup", "private_metadata": "{}",
            "title": {"type": "plain_text", "text": "Team setup"}, "blocks": []}
    payload = slack_requests.view_submission(view=view, values={"name": {"value": element}}, user_id="UALICE",
                                             team_id=TEAM_ID)

    reply = bot.signed_post(slack_requests.interaction(payload))

    assert reply.status == 400
    assert count_rows(bot.db, AuditEvent) == 0
