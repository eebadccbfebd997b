"""Reading Slack payloads into plain values, refusing ones that are not shaped like Slack's.

Handlers use these instead of indexing payloads directly, so that a signed but malformed
request becomes a 400 (`MalformedPayload`) instead of a KeyError deep in a listener.
"""

from __future__ import annotations

import json
from typing import Any

from storage.db import ID_MAX


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
    if kind in ("plain_text_input", "number_input"):
        return _text(element.get("value"), kind)
    if kind in ("static_select", "external_select", "radio_buttons"):
        option = element.get("selected_option")
        if option is None:
            return None
        return _text(option.get("value") if isinstance(option, dict) else option, kind)
    if kind in ("multi_static_select", "checkboxes"):
        options = element.get("selected_options") or []
        if not isinstance(options, list) or not all(isinstance(o, dict) for o in options):
            raise MalformedPayload(f"{kind} selected_options is not a list of options")
        return [_text(o.get("value"), kind) for o in options]
    if kind == "users_select":
        return _text(element.get("selected_user"), kind)
    if kind == "multi_users_select":
        return _texts(element.get("selected_users"), kind)
    if kind in ("conversations_select", "channels_select"):
        return _text(element.get("selected_conversation") or element.get("selected_channel"), kind)
    if kind == "datepicker":
        return _text(element.get("selected_date"), kind)
    if kind == "timepicker":
        return _text(element.get("selected_time"), kind)
    raise MalformedPayload(f"unexpected input type {kind!r}")


def _text(value: Any, kind: str) -> str | None:
    """A submitted value is text (or absent); anything else is not what Slack sends."""
    if value is not None and not isinstance(value, str):
        raise MalformedPayload(f"{kind} value is {type(value).__name__}, expected text")
    return value


def _texts(values: Any, kind: str) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, list):
        raise MalformedPayload(f"{kind} values are {type(values).__name__}, expected a list")
    return [_text(value, kind) for value in values]


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The JSON object a modal carries in private_metadata (empty when it carries none)."""
    raw = field(view, "private_metadata", default="")
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # JSONDecodeError, a 4,300-digit number, deep nesting
        raise MalformedPayload("private_metadata is not JSON we wrote") from None
    if not isinstance(data, dict):
        raise MalformedPayload("private_metadata is not an object")
    return data


def text(values: dict[str, Any], name: str) -> str:
    """A text input's value ("" when left empty); anything but text is a malformed payload."""
    value = values.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedPayload(f"{name} is {type(value).__name__}, expected text")
    return value


def row_id(value: Any) -> int:
    """A row id of ours, as a button's value ("42") or a modal's metadata (42) carries it: a whole
    number from 1 to ID_MAX, in ASCII digits ("²".isdigit() is true, but int("²") fails; a forged
    number of thousands of digits would overflow the database's integer, or int() itself). JSON's
    true is no 1."""
    if isinstance(value, str) and value.isascii() and value.isdecimal() and len(value) <= len(str(ID_MAX)):
        value = int(value)
    if type(value) is not int or not 0 < value <= ID_MAX:
        raise MalformedPayload(f"{str(value)[:40]!r} is not an id")
    return value
