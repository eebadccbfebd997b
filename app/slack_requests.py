"""The requests Slack sends us — slash commands, interactions, events — built and signed the way
Slack builds and signs them (v0 HMAC-SHA256 over `v0:{timestamp}:{body}`).

The console uses these to put what a person types through the real Bolt app; the tests use them
to drive the app over HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

_ids = itertools.count(1)


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers that make `body` a request Slack signed with `secret`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


def trigger_id() -> str:
    return f"{next(_ids)}.{int(time.time())}.localtrigger"


def slash_command(*, text: str, user_id: str, channel_id: str, team_id: str, response_url: str,
                  command: str = "/qms", user_name: str = "", channel_name: str = "") -> str:
    """The form-encoded body of a slash command."""
    return urlencode({
        "token": "unused-verification-token",
        "team_id": team_id,
        "team_domain": "local",
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": "AQMSBOT",
        "response_url": response_url,
        "trigger_id": trigger_id(),
    })


def interaction(payload: dict[str, Any]) -> str:
    """The form-encoded body of an interaction (`payload=<json>`)."""
    return urlencode({"payload": json.dumps(payload)})


def block_action(*, action: dict[str, Any], user_id: str, team_id: str, response_url: str,
                 channel_id: str | None = None, message: dict[str, Any] | None = None,
                 view: dict[str, Any] | None = None) -> dict[str, Any]:
    """A `block_actions` payload: a button pressed or a checkbox ticked, in a message or a view."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": team_id, "domain": "local"},
        "user": {"id": user_id, "team_id": team_id},
        "api_app_id": "AQMSBOT",
        "trigger_id": trigger_id(),
        "actions": [{"action_ts": f"{time.time():.6f}", **action}],
        "response_url": response_url,
    }
    if message is not None:
        payload["container"] = {"type": "message", "message_ts": message["ts"], "channel_id": channel_id}
        payload["channel"] = {"id": channel_id}
        payload["message"] = message
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id")}
        payload["view"] = view
    return payload


def view_submission(*, view: dict[str, Any], values: dict[str, dict[str, Any]], user_id: str,
                    team_id: str) -> dict[str, Any]:
    """A `view_submission` payload: `values` is `{block_id: {action_id: element_state}}`."""
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "local"},
        "user": {"id": user_id, "team_id": team_id},
        "api_app_id": "AQMSBOT",
        "trigger_id": trigger_id(),
        "view": {**view, "state": {"values": values}},
        "response_urls": [],
    }


def event_callback(*, event: dict[str, Any], team_id: str, event_id: str | None = None) -> str:
    return json.dumps({
        "token": "unused-verification-token",
        "team_id": team_id,
        "api_app_id": "AQMSBOT",
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}",
        "event_time": int(time.time()),
        "event": event,
    })
