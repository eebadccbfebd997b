"""Slack's limits on what the bot sends, checked on what the Slack stand-in recorded.

Every Web API call that carries a message or a view, every body POSTed to a response_url and every
HTTP answer to Slack (acks with a message, a view or inline errors) is parsed with slack_sdk's own
models (`Block.parse(b).to_dict()`, `View(**v).to_dict()`, which raise past Slack's limits) and
measured: message text 40,000; ≤ 50 blocks in a message, ≤ 100 in a view; section text 3,000, a
field 2,000; header 150; a button's or an option's text 75; context ≤ 10 elements; modal title 24;
private_metadata 3,000; a text input's initial_value within its max_length (3,000 at most).
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from app.local_slack import LocalSlack
from tests.templates.test_limits import check_block

MESSAGE_TEXT_MAX = 40_000
MESSAGE_BLOCKS_MAX, VIEW_BLOCKS_MAX = 50, 100
INPUT_MAX = 3000
MESSAGE_METHODS = {"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.scheduleMessage", "response_url"}
VIEW_METHODS = {"views.open", "views.push", "views.update", "views.publish"}
# Slack's own answers when it refuses a payload past its limits
REFUSALS = {"msg_too_long", "invalid_blocks", "invalid_blocks_format", "invalid_arguments", "too_many_attachments"}


def problems(slack: LocalSlack, answers: list[Any] = ()) -> list[str]:
    """What broke a limit: each as "where: what" (an empty list when all is well)."""
    found: list[str] = []
    for call in list(slack.calls):
        where = f"{call.method} #{slack.calls.index(call)}"
        if call.method in MESSAGE_METHODS:
            found += [f"{where}: {p}" for p in message_problems(call.args)]
        elif call.method in VIEW_METHODS:
            found += [f"{where}: {p}" for p in view_problems(_json(call.args.get("view")))]
        if isinstance(call.response, dict) and call.response.get("error") in REFUSALS:
            found.append(f"{where}: Slack refused it ({call.response['error']})")
    for index, answer in enumerate(answers):
        found += [f"HTTP answer #{index}: {p}" for p in answer_problems(answer)]
    return found


def answer_problems(body: Any) -> list[str]:
    """An HTTP answer to Slack: empty, a message, `response_action` errors, or a view to update or push."""
    if not body:
        return []
    if not isinstance(body, dict):
        return [f"not a JSON object: {str(body)[:80]}"]
    if body.get("response_action") == "errors":
        errors = body.get("errors")
        if not isinstance(errors, dict) or not all(isinstance(v, str) and len(v) <= INPUT_MAX for v in errors.values()):
            return [f"inline errors malformed or too long: {str(errors)[:200]}"]
        return []
    if body.get("response_action") in ("update", "push"):
        return view_problems(body.get("view"))
    return message_problems(body)


def message_problems(args: dict[str, Any]) -> list[str]:
    found = []
    text = args.get("text")
    if text is not None and (not isinstance(text, str) or len(text) > MESSAGE_TEXT_MAX):
        found.append(f"text of {len(str(text)):,} characters (Slack allows {MESSAGE_TEXT_MAX:,})")
    blocks = _json(args.get("blocks"))
    if blocks is not None:
        if not isinstance(blocks, list) or len(blocks) > MESSAGE_BLOCKS_MAX:
            found.append(f"{len(blocks) if isinstance(blocks, list) else 'no list of'} blocks (≤ {MESSAGE_BLOCKS_MAX})")
        else:
            found += blocks_problems(blocks)
    return found


def view_problems(view: Any) -> list[str]:
    if not isinstance(view, dict):
        return [f"view is not an object: {str(view)[:80]}"]
    found = []
    try:
        View(**view).to_dict()
    except Exception as error:  # slack_sdk raises SlackObjectFormationError past a limit
        found.append(f"View: {error}")
    blocks = view.get("blocks") or []
    if len(blocks) > VIEW_BLOCKS_MAX:
        found.append(f"{len(blocks)} blocks in a view (≤ {VIEW_BLOCKS_MAX})")
    if len((view.get("title") or {}).get("text", "")) > 24:
        found.append("modal title past 24")
    if len(view.get("private_metadata") or "") > 3000:
        found.append("private_metadata past 3,000")
    return found + blocks_problems(blocks)


def blocks_problems(blocks: list[Any]) -> list[str]:
    found = []
    for block in blocks:
        try:
            parsed = Block.parse(block)
            assert parsed is not None, f"unknown block type {block.get('type')!r}"
            parsed.to_dict()
            check_block(block)
            if block.get("type") == "context":
                assert len(block["elements"]) <= 10, "more than 10 context elements"
                for element in block["elements"]:
                    assert len(element.get("text", "")) <= 3000, "context text past 3,000"
            if block.get("type") == "input":
                element = block["element"]
                initial = element.get("initial_value")
                if initial is not None:
                    limit = min(element.get("max_length") or INPUT_MAX, INPUT_MAX)
                    assert len(initial) <= limit, f"initial_value of {len(initial):,} past {limit:,}"
        except Exception as error:
            found.append(f"{str(block)[:120]}…: {str(error)[:300]}")
    return found


def _json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        return json.loads(value)
    return value
