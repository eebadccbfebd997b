"""Reading Slack payloads into plain values, refusing ones that are not shaped like Slack's.

Handlers use these instead of indexing payloads directly, so that a signed but malformed
request becomes a 400 (`MalformedPayload`) instead of a KeyError deep in a listener.
"""

from __future__ import annotations

import json
from typing import Any

from bot import render
from bot.errors import Invalid, Refusal


class MalformedPayload(ValueError):
    """The request is signed but not shaped like anything Slack sends."""


def field(payload: Any, *path: str | int, default: Any = ..., kind: type | tuple[type, ...] = str) -> Any:
    """`field(body, "view", "id")`: the value at a path, of the expected kind, or MalformedPayload."""
    value = payload
    for step in path:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            if default is not ...:
                return default
            raise MalformedPayload(f"missing {'.'.join(map(str, path))}") from None
    if value is None and default is not ...:
        return default
    if not isinstance(value, kind):
        raise MalformedPayload(f"{'.'.join(map(str, path))} is {type(value).__name__}, expected {kind}")
    return value


def view_values(view: dict[str, Any]) -> dict[str, Any]:
    """The submitted values of a modal, by block_id: strings, lists, or None when left empty."""
    state = field(view, "state", "values", kind=dict)
    values: dict[str, Any] = {}
    for block_id, actions in state.items():
        if not isinstance(actions, dict) or not actions:
            raise MalformedPayload(f"state of {block_id} is not an object")
        element = next(iter(actions.values()))
        if not isinstance(element, dict):
            raise MalformedPayload(f"state of {block_id} is not an object")
        values[block_id] = _element_value(element)
    return values


def _element_value(element: dict[str, Any]) -> Any:
    kind = element.get("type")
    if kind == "plain_text_input":
        return element.get("value")
    if kind in ("static_select", "external_select", "radio_buttons"):
        option = element.get("selected_option")
        return option.get("value") if isinstance(option, dict) else None
    if kind in ("multi_static_select", "checkboxes"):
        return [o.get("value") for o in element.get("selected_options") or [] if isinstance(o, dict)]
    if kind == "users_select":
        return element.get("selected_user")
    if kind == "multi_users_select":
        return list(element.get("selected_users") or [])
    if kind in ("conversations_select", "channels_select"):
        return element.get("selected_conversation") or element.get("selected_channel")
    if kind == "datepicker":
        return element.get("selected_date")
    if kind == "number_input":
        return element.get("value")
    raise MalformedPayload(f"unexpected input type {kind!r}")


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The JSON object a modal carries in private_metadata (empty when it carries none)."""
    raw = field(view, "private_metadata", default="")
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        raise MalformedPayload("private_metadata is not JSON") from None
    if not isinstance(data, dict):
        raise MalformedPayload("private_metadata is not an object")
    return data


def inline_errors(invalid: Invalid) -> dict[str, Any]:
    """The ack that puts each problem under its field in the open modal."""
    return {
        "response_action": "errors",
        "errors": {name: render.phrase(p.key, **p.params) for name, p in invalid.problems.items()},
    }


def refused(refusal: Refusal, *, title: str) -> dict[str, Any]:
    """The ack that replaces a submitted modal with a clear "no" (nothing was changed)."""
    text = render.phrase(refusal.phrase.key, **refusal.phrase.params)
    return {"response_action": "update", "view": render.view("common/notice_modal.json.j2", title=title, text=text)}


def refuse_press(body: dict[str, Any], respond, client, refusal: Refusal, *, title: str = "QMS Bot") -> None:
    """Say no to whoever pressed a button: beside the message they pressed it in (its response_url),
    or, on the App Home tab, which has no response_url, in a small modal."""
    text = render.phrase(refusal.phrase.key, **refusal.phrase.params)
    if body.get("response_url"):
        respond(response_type="ephemeral", replace_original=False, text=text)
    elif body.get("trigger_id"):
        client.views_open(trigger_id=body["trigger_id"],
                          view=render.view("common/notice_modal.json.j2", title=title, text=text))
