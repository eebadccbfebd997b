"""The bot under test: the production app served over real HTTP, talking to a LocalSlack."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import waitress
from waitress import wasyncore

from app import slack_requests
from app.bolt import build_app
from app.local_slack import LocalSlack
from app.services import Runtime, build_runtime
from app.web import create_web_app
from bot.core.settings import Settings
from storage.db import Database

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-test-token"
TEAM_ID = "T0TEST"

# People and channels every test workspace starts with. Tests add more as they need.
PEOPLE = {
    "alice": dict(real_name="Alice D.", is_admin=True),
    "bob": dict(real_name="Bob R."),
    "carol": dict(real_name="Carol S."),
    "dave": dict(real_name="Dave L."),
    "eve": dict(real_name="Eve M."),
    "frank": dict(real_name="Frank P."),
    "grace": dict(real_name="Grace H."),
    "henry": dict(real_name="Henry T."),
    "ivy": dict(real_name="Ivy L."),
}
CHANNELS = ("general", "payments", "platform", "digest")


def user_id(name: str) -> str:
    return "U" + name.upper()


def channel_id(name: str) -> str:
    return "C" + name.upper()


def seed_workspace(slack: LocalSlack) -> None:
    for name, attrs in PEOPLE.items():
        slack.add_user(user_id(name), name, **attrs)
    slack.add_user("UROBOT", "robot", is_bot=True)
    for name in CHANNELS:
        slack.add_channel(channel_id(name), name, members=tuple(user_id(p) for p in PEOPLE))


@dataclass
class Reply:
    """What the bot answered over HTTP."""

    status: int
    body: str
    seconds: float
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body) if self.body else {}

    @property
    def text(self) -> str:
        """Every text of an answer's blocks, joined: for asserting on what a person reads."""
        return blocks_text(self.json)


def blocks_text(payload: dict[str, Any]) -> str:
    """The readable text of a message or view payload (fallback text, blocks, options, labels)."""
    parts: list[str] = [payload.get("text", "")] if isinstance(payload.get("text"), str) else []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                parts.append(node["text"])
            for key, value in node.items():
                if key not in ("text",) or not isinstance(value, str):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in payload.items() if k != "text"})
    return "\n".join(p for p in parts if p)


class BotUnderTest:
    def __init__(self, db: Database, slack: LocalSlack, *, env: dict[str, str] | None = None):
        self.slack = slack
        self.team_id = TEAM_ID  # the workspace the requests come from (a test of two workspaces switches it)
        self.settings = Settings.from_env({
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": db.url,
            "SLACK_CHANNEL_RATE": "0",  # unpaced: the pacing has tests of its own (tests/app/test_sender.py)
            **(env or {}),
        })
        self.services: Runtime = build_runtime(self.settings, db=db)
        self.db = db
        self.app = build_app(self.services)
        self.web = create_web_app(self.app, self.services, signing_secret=SIGNING_SECRET)
        self._server = waitress.create_server(self.web, host="127.0.0.1", port=0, threads=6,
                                             asyncore_loop_timeout=0.05)
        self.url = f"http://127.0.0.1:{self._server.effective_port}"
        self._thread = threading.Thread(target=self._server.run, name="bot-http", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.wait()
        # Close the sockets on the server's own loop thread, so it exits without a race.
        try:
            self._server.trigger.pull_trigger(lambda: wasyncore.close_all(self._server._map))
        except OSError:  # the trigger is already closed: the loop is on its way out
            wasyncore.close_all(self._server._map)
        self._thread.join(timeout=5)
        self._server.task_dispatcher.shutdown()

    # --- raw HTTP ---------------------------------------------------------------------------
    def post(self, path: str, body: str | bytes, headers: dict[str, str] | None = None, *, wait: bool = True) -> Reply:
        data = body.encode() if isinstance(body, str) else body
        request = urllib.request.Request(self.url + path, data=data, method="POST", headers=headers or {})
        reply = self._open(request)
        if wait:
            self.wait()
        return reply

    def get(self, path: str) -> Reply:
        return self._open(urllib.request.Request(self.url + path, method="GET"))

    def _open(self, request: urllib.request.Request) -> Reply:
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body, status, headers = response.read().decode(), response.status, dict(response.headers)
        except urllib.error.HTTPError as error:
            body, status, headers = error.read().decode(), error.code, dict(error.headers)
        return Reply(status, body, time.perf_counter() - started, headers)

    def wait(self) -> None:
        """Wait until the listeners have finished what the last request started."""
        assert self.app.listener_runner.listener_executor.wait_idle(timeout=30), "listeners still busy after 30 s"
        assert self.services.wait_idle(timeout=30), "outbox delivery still busy after 30 s"

    # --- signed requests, as Slack sends them -------------------------------------------------
    def signed_post(self, body: str, *, content_type: str = "application/x-www-form-urlencoded",
                    timestamp: int | None = None, wait: bool = True) -> Reply:
        headers = {"Content-Type": content_type, **slack_requests.sign(SIGNING_SECRET, body, timestamp)}
        return self.post("/slack/events", body, headers, wait=wait)

    def command(self, text: str, *, user: str = "alice", channel: str = "general", wait: bool = True) -> Reply:
        """`/qms <text>` typed by `user` in `channel` (names from the seeded workspace, or IDs)."""
        body = slack_requests.slash_command(
            text=text, user_id=_user(user), user_name=user, channel_id=_channel(channel), channel_name=channel,
            team_id=self.team_id, response_url=self.slack.response_url("command"))
        return self.signed_post(body, wait=wait)

    def press(self, action_id: str, *, value: str = "", user: str = "alice", message: dict | None = None,
              channel: str | None = None, view: dict | None = None, block_id: str | None = None,
              **action: Any) -> Reply:
        """A button pressed (or any block action) in a message or a view."""
        payload = slack_requests.block_action(
            action={"action_id": action_id, "block_id": block_id or "b", "type": action.pop("type", "button"),
                    "value": value, **action},
            user_id=_user(user), team_id=self.team_id, response_url=self.slack.response_url("action"),
            channel_id=_channel(channel) if channel else (message or {}).get("channel"), message=message, view=view)
        return self.signed_post(slack_requests.interaction(payload))

    def submit(self, view: dict[str, Any], values: dict[str, Any], *, user: str = "alice") -> Reply:
        """Submit a modal. `values` maps block_id to a plain value, turned into Slack's state shape
        by the element type the view declares (text, select, users, date, ...)."""
        state = {block_id: {"value": _element_state(view, block_id, value)} for block_id, value in values.items()}
        payload = slack_requests.view_submission(view=view, values=state, user_id=_user(user), team_id=self.team_id)
        return self.signed_post(slack_requests.interaction(payload))

    def event(self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None) -> Reply:
        body = slack_requests.event_callback(event=event, team_id=self.team_id, event_id=event_id)
        headers = {"Content-Type": "application/json", **slack_requests.sign(SIGNING_SECRET, body)}
        if retry_num is not None:
            headers.update({"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"})
        return self.post("/slack/events", body, headers)

    # --- what Slack saw ----------------------------------------------------------------------
    def last_view(self) -> dict[str, Any]:
        """The modal most recently opened (views.open / views.push)."""
        opened = [c for c in self.slack.calls if c.method in ("views.open", "views.push") and c.response.get("ok")]
        assert opened, "no modal was opened"
        return opened[-1].response["view"]

    def responses(self) -> list[dict[str, Any]]:
        """What was sent to response_url (delayed ephemeral or in-channel answers)."""
        return list(self.slack.responses)


def _user(name: str) -> str:
    return name if name[:1] in "UW" and name.isupper() else user_id(name)


def _channel(name: str) -> str:
    return name if name[:1] in "CGD" and name.isupper() else channel_id(name)


def _element_state(view: dict[str, Any], block_id: str, value: Any) -> dict[str, Any]:
    block = next((b for b in view.get("blocks", []) if b.get("block_id") == block_id), None)
    kind = block["element"]["type"] if block else "plain_text_input"
    if kind == "plain_text_input":
        return {"type": kind, "value": value}
    if kind in ("static_select", "radio_buttons"):
        return {"type": kind, "selected_option": None if value is None else {"value": str(value)}}
    if kind in ("multi_static_select", "checkboxes"):
        return {"type": kind, "selected_options": [{"value": str(v)} for v in value or []]}
    if kind == "users_select":
        return {"type": kind, "selected_user": _user(value) if value else None}
    if kind == "multi_users_select":
        return {"type": kind, "selected_users": [_user(v) for v in value or []]}
    if kind in ("conversations_select", "channels_select"):
        return {"type": kind, "selected_conversation": _channel(value) if value else None}
    if kind == "datepicker":
        return {"type": kind, "selected_date": value}
    if kind == "timepicker":
        return {"type": kind, "selected_time": value}
    return {"type": kind, "value": value}
