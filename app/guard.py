"""A guard before Bolt: a signed Slack request whose body is not the shape Slack sends is a 400.

Bolt trusts the shape of what it parses: an interaction whose `view` is null, or an event callback
whose `event` is null, raises inside Bolt's own payload checks, before any listener or error handler
runs, and the person (or a forger holding a leaked secret) would get a 500. The guard checks what Bolt
and our listeners read before they read it: the `payload` of an interaction is a JSON object with a
text `type`; `view`, `event`, `user`, `team`, `channel`, `container` are objects when present;
`actions` is a list of objects; a view's `state.values` maps block ids to objects of objects.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs

OBJECT_FIELDS = ("view", "event", "user", "team", "channel", "container", "message", "enterprise",
                 "authorizations_entry", "response_urls_entry")
TEXT_FIELDS = ("type", "trigger_id", "response_url", "callback_id", "api_app_id", "token", "team_id",
               "event_id", "action_ts", "command", "text", "user_id", "channel_id")
ID_FIELDS = ("team_id", "user_id", "channel_id", "enterprise_id")
SLACK_ID = re.compile(r"[A-Za-z0-9_.-]{0,40}")  # Slack's ids are short: T0…, U…, C…, D…, G…
LONG_TEXT_FIELDS = ("trigger_id", "response_url")
MAX_DEPTH = 64  # Slack's payloads are a dozen levels deep at most


class Malformed(ValueError):
    """Why a signed body is not a Slack request we can handle."""


def check(body: str, content_type: str) -> None:
    """Raise Malformed unless `body` has the shape of a Slack request."""
    if body.startswith("{") or "json" in content_type.lower():
        _check_event(_json_object(body, "body"))
        return
    try:
        form = parse_qs(body, keep_blank_values=True, strict_parsing=False, max_num_fields=1000)
    except ValueError as error:
        raise Malformed(f"form body: {error}") from None
    if "payload" in form:
        if len(form["payload"]) != 1:
            raise Malformed("payload given more than once")
        _check_interaction(_json_object(form["payload"][0], "payload"))
    elif "command" in form:
        for name in ("command", "user_id", "team_id", "channel_id"):
            if len(form.get(name, [])) > 1:
                raise Malformed(f"{name} given more than once")
        _check_ids({name: values[0] for name, values in form.items() if values}, "form")


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Malformed(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Malformed(f"{what} is not a JSON object")
    if _depth(value) > MAX_DEPTH:
        raise Malformed(f"{what} is nested too deeply")
    return value


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _check_ids(fields: dict[str, Any], where: str) -> None:
    for name in ID_FIELDS:
        if isinstance(fields.get(name), str) and not SLACK_ID.fullmatch(fields[name]):
            raise Malformed(f"{where}.{name} is not a Slack id")
    for name in LONG_TEXT_FIELDS:
        if isinstance(fields.get(name), str) and len(fields[name]) > 1000:
            raise Malformed(f"{where}.{name} is too long")


def _common(payload: dict[str, Any], where: str) -> None:
    _check_ids(payload, where)
    for name in OBJECT_FIELDS:
        if name in payload and not isinstance(payload[name], dict):
            raise Malformed(f"{where}.{name} is not an object")
    for name in TEXT_FIELDS:
        if name in payload and payload[name] is not None and not isinstance(payload[name], str):
            raise Malformed(f"{where}.{name} is not text")
    for name in ("user", "team", "channel"):
        if isinstance(payload.get(name), dict) and "id" in payload[name]:
            if not isinstance(payload[name]["id"], str) or not SLACK_ID.fullmatch(payload[name]["id"]):
                raise Malformed(f"{where}.{name}.id is not a Slack id")


def _check_event(body: dict[str, Any]) -> None:
    if not isinstance(body.get("type"), str):
        raise Malformed("type is missing or not text")
    _common(body, "body")
    if body["type"] == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise Malformed("event is not an object with a type")
        _common({k: v for k, v in event.items() if k not in ("channel", "user", "team", "message")}, "event")
        for name in ("user", "channel", "team", "tab", "subtype", "text", "ts", "thread_ts"):
            if name in event and event[name] is not None and not isinstance(event[name], str):
                raise Malformed(f"event.{name} is not text")
    if "authorizations" in body and not _list_of_objects(body["authorizations"]):
        raise Malformed("authorizations is not a list of objects")


def _check_interaction(payload: dict[str, Any]) -> None:
    if not isinstance(payload.get("type"), str):
        raise Malformed("payload.type is missing or not text")
    _common(payload, "payload")
    kind = payload["type"]
    if kind in ("view_submission", "view_closed") and not (isinstance(payload.get("view"), dict)
                                                           and isinstance(payload["view"].get("type"), str)):
        raise Malformed("payload.view is not an object with a type")
    if kind == "block_actions" and not (isinstance(payload.get("actions"), list) and payload["actions"]):
        raise Malformed("payload.actions is not a list of actions")
    if "actions" in payload and not _list_of_objects(payload["actions"]):
        raise Malformed("payload.actions is not a list of objects")
    for action in payload.get("actions") or ():
        for name in ("action_id", "block_id", "value", "type"):
            if name in action and action[name] is not None and not isinstance(action[name], str):
                raise Malformed(f"an action's {name} is not text")
    if "response_urls" in payload and not _list_of_objects(payload["response_urls"]):
        raise Malformed("payload.response_urls is not a list of objects")
    view = payload.get("view")
    if isinstance(view, dict):
        _check_view(view)
    if "state" in payload:
        _check_state(payload["state"], "payload.state")


def _check_view(view: dict[str, Any]) -> None:
    for name in ("id", "callback_id", "private_metadata", "hash", "type", "root_view_id", "external_id"):
        if name in view and view[name] is not None and not isinstance(view[name], str):
            raise Malformed(f"view.{name} is not text")
    if "blocks" in view and not _list_of_objects(view["blocks"]):
        raise Malformed("view.blocks is not a list of objects")
    if "state" in view:
        _check_state(view["state"], "view.state")


def _check_state(state: Any, where: str) -> None:
    if not isinstance(state, dict):
        raise Malformed(f"{where} is not an object")
    values = state.get("values", {})
    if not isinstance(values, dict):
        raise Malformed(f"{where}.values is not an object")
    for block in values.values():
        if not isinstance(block, dict) or not all(isinstance(element, dict) for element in block.values()):
            raise Malformed(f"{where}.values holds something other than objects of objects")


def _list_of_objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)
