"""`qms-bot socket` runs the same Bolt app over Socket Mode: requests arrive as WebSocket envelopes."""

import json

from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk.socket_mode.request import SocketModeRequest

from tests.harness.bot import TEAM_ID


def envelope(kind, payload, retry_attempt=None):
    return SocketModeRequest(type=kind, envelope_id="env-1", payload=payload, retry_attempt=retry_attempt)


def test_a_slash_command_over_socket_mode_gets_the_same_answer_as_over_http(bot):
    command = {"command": "/qms", "text": "help", "team_id": TEAM_ID, "user_id": "UALICE", "channel_id": "CGENERAL",
               "response_url": bot.slack.response_url(), "trigger_id": "1.2.3"}

    response = run_bolt_app(bot.app, envelope("slash_commands", command))

    assert response.status == 200
    assert "/qms incident" in json.dumps(json.loads(response.body))


def test_an_event_retried_over_socket_mode_is_handled_once(bot, slack):
    event = {"type": "event_callback", "team_id": TEAM_ID, "event_id": "EvSocket1", "api_app_id": "A1",
             "event": {"type": "app_home_opened", "user": "UALICE", "tab": "home"}}

    run_bolt_app(bot.app, envelope("events_api", event))
    run_bolt_app(bot.app, envelope("events_api", event, retry_attempt=1))
    bot.wait()

    assert len(slack.calls_to("views.publish")) == 1
