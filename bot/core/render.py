"""Jinja2 templates → Block Kit JSON, checked against Slack's limits before anything is sent.

Every user-visible text lives in `templates/`:
- `message("risks/card.json.j2", ...)` → {"text": ..., "blocks": [...]} for chat.postMessage,
  chat.update, ephemeral replies and acks;
- `view("risks/modal.json.j2", ...)` → a modal or Home view;
- `phrase("risks.title_required", ...)` → one short sentence, a macro in `templates/risks/phrases.j2`
  (inline modal errors, refusals).

Templates write JSON and pass every value through `tojson`; a trailing comma before `]` or `}`
is allowed, so loops need no `loop.last` bookkeeping. Slack refuses Block Kit past its limits,
so each result is parsed with slack_sdk's own models, which raise on them.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

import templates
from bot.core.untrusted import link_url

TEMPLATES = Path(templates.__file__).parent
MESSAGE_BLOCKS_MAX = 50
MESSAGE_TEXT_MAX = 3000  # the notification fallback; Slack truncates long ones, we never need more
PHRASE_MAX = 2000  # one sentence, with whatever a person typed in it: an inline error, an ephemeral answer


class TemplateLimitError(ValueError):
    """A rendered template breaks one of Slack's limits: a bug in the template, not bad input."""


def clip(value: Any, limit: int) -> str:
    """Shorten a text to `limit` characters, saying so: "…(clipped)" (templates/common/phrases.j2)
    where it fits, an ellipsis alone in a short label. The one place texts are made to fit Slack's
    limits: the macros of templates/_blocks.j2, every phrase (`phrase`) and fallback text go through it."""
    text = "" if value is None else str(value)
    if len(text) <= limit:
        return text
    mark = clipped_mark()
    if limit < 4 * len(mark):  # a button, a title: keep the words, not the mark
        mark = "…"
    return text[: max(limit - len(mark), 0)] + mark


@lru_cache(maxsize=1)
def clipped_mark() -> str:
    return phrase("common.clipped")


def escape(value: Any) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(url: Any, text: Any, limit: int | None = None) -> str:
    """`<url|text>` when `url` is one Slack may show as a link (bot.core.untrusted.link_url) and no
    longer than `limit`; else `text` alone. A URL is never clipped (that would change where it goes),
    and one that could pose as something else is never linked: the text says what the link opens."""
    url = link_url(url)
    shown = escape(text)
    if url is None or (limit is not None and len(url) > limit):
        return shown
    return f"<{escape(url)}|{shown}>"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=False,  # we write JSON; every value goes through tojson
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # templates ship with the code: compiled once, never stat'ed per render
    )
    env.filters["clip"] = clip
    env.filters["esc"] = escape
    env.filters["link"] = slack_link  # {{ request.url | link(request.label) }}
    env.filters["link_url"] = link_url  # a button's url, or None
    env.filters["mention"] = mention
    env.filters["channel"] = lambda channel_id: f"<#{channel_id}>" if channel_id else "no channel"
    env.filters["when"] = _slack_date
    env.filters["duration"] = duration
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": False}
    return env


def mention(user_id: str | None) -> str:
    """A Slack user as Slack shows them; a pull request's person nobody has linked ("github:octocat")
    by their login, in the words of templates/common/phrases.j2."""
    if not user_id:
        return "nobody"
    provider, colon, login = user_id.partition(":")
    if colon:
        return phrase("common.code_host_person", provider=provider, login=login)
    return f"<@{user_id}>"


def message(name: str, **context: Any) -> dict[str, Any]:
    """A message payload: `text` (the notification fallback) and validated `blocks`."""
    raw = _render_raw(name, context)
    text = _seen_valid(name, raw)
    if text is not None:
        payload = json.loads(text)
        payload["blocks"] = payload.get("blocks", [])
        if isinstance(payload.get("text"), str):
            payload["text"] = clip(payload["text"], MESSAGE_TEXT_MAX)
        return payload
    text = strip_trailing_commas(raw)
    payload = _parse(name, text)
    blocks = payload.get("blocks", [])
    if len(blocks) > MESSAGE_BLOCKS_MAX:
        raise TemplateLimitError(f"{name}: {len(blocks)} blocks, Slack allows {MESSAGE_BLOCKS_MAX} in a message")
    if isinstance(payload.get("text"), str):  # the fallback often names what someone typed: clipped here
        payload["text"] = clip(payload["text"], MESSAGE_TEXT_MAX)
    payload["blocks"] = [_checked_block(name, block) for block in blocks]
    _remember_valid(name, raw, text)
    return payload


def view(name: str, **context: Any) -> dict[str, Any]:
    """A modal or Home view, validated by slack_sdk's View model (title ≤ 24, ≤ 100 blocks, ...)."""
    raw = _render_raw(name, context)
    text = _seen_valid(name, raw)
    if text is not None:
        return json.loads(text)
    text = strip_trailing_commas(raw)
    payload = _parse(name, text)
    for block in payload.get("blocks", []):
        _checked_block(name, block)
    try:
        View(**payload).to_dict()
    except Exception as error:  # slack_sdk raises SlackObjectFormationError and friends
        raise TemplateLimitError(f"{name}: {error}") from error
    _remember_valid(name, raw, text)
    return payload


# Renders already checked against Slack's limits, by the template's name and its raw output (before
# the trailing commas go): the same output is valid again (the help, an unchanged list), so neither
# slack_sdk's models nor the comma-stripping pass runs again on it. Bounded by the characters kept.
_VALID_CHARS = 4_000_000
_valid: OrderedDict[tuple[str, str], str] = OrderedDict()
_valid_chars = 0
_valid_lock = threading.Lock()


def _seen_valid(name: str, raw: str) -> str | None:
    """The JSON text of a render seen valid before (its trailing commas dropped), else None."""
    key = (name, raw)
    with _valid_lock:
        text = _valid.get(key)
        if text is not None:
            _valid.move_to_end(key)
        return text


def _remember_valid(name: str, raw: str, text: str) -> None:
    global _valid_chars
    key = (name, raw)
    with _valid_lock:
        if key in _valid:
            return
        _valid[key] = text
        _valid_chars += len(raw) + len(text)
        while _valid_chars > _VALID_CHARS and _valid:
            (_, old_raw), old_text = _valid.popitem(last=False)
            _valid_chars -= len(old_raw) + len(old_text)


def phrase(key: str, **params: Any) -> str:
    """One sentence from `templates/<domain>/phrases.j2`: `phrase("risks.title_required")`."""
    domain, _, macro = key.partition(".")
    module = environment().get_template(f"{domain}/phrases.j2").module
    try:
        said = str(getattr(module, macro)(**params)).strip()
    except AttributeError:
        raise KeyError(f"no phrase {macro!r} in templates/{domain}/phrases.j2") from None
    return clip(said, PHRASE_MAX)  # a phrase that echoes what someone typed stays a sentence


def template_names() -> list[str]:
    return sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.j2"))


def _render(name: str, context: dict[str, Any]) -> str:
    """The template rendered, trailing commas dropped: JSON text."""
    return strip_trailing_commas(_render_raw(name, context))


def _render_raw(name: str, context: dict[str, Any]) -> str:
    return environment().get_template(name).render(**context)


def _parse(name: str, text: str) -> dict[str, Any]:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise TemplateLimitError(f"{name} did not render valid JSON: {error}") from error


def _checked_block(name: str, block: dict[str, Any]) -> dict[str, Any]:
    try:
        parsed = Block.parse(block)
        if parsed is None:
            raise ValueError(f"unknown block type {block.get('type')!r}")
        parsed.to_dict()
    except Exception as error:
        raise TemplateLimitError(f"{name}: {error}") from error
    return block


# A JSON string (kept as it is) or a comma followed only by blanks and a closing `]` or `}`.
_STRING_OR_TRAILING_COMMA = re.compile(r'("(?:[^"\\]|\\.)*")|,(?=\s*[\]}])', re.DOTALL)


def strip_trailing_commas(text: str) -> str:
    """Drop commas that directly precede `]` or `}` outside of strings."""
    return _STRING_OR_TRAILING_COMMA.sub(r"\1", text)  # a string stays; a lone comma leaves nothing


def duration(seconds: float | int | None, nearest: bool = False) -> str:
    """How long something took or has been open, the same way everywhere: minutes under an hour
    ("45 min"), hours with one decimal under a day ("1.5 h", "3 h"), then days and hours ("2 d 3 h").
    Rounded down by default, so that an incident open 23 h 59 min never reads as the 24 h threshold;
    `nearest` rounds figures such as a mean review time."""
    if seconds is None:
        return "—"
    sign, seconds = ("−" if seconds < 0 else ""), abs(seconds)
    if nearest:
        minutes = round(seconds / 60)
        if minutes < 60:
            return f"{sign}{minutes} min"
        if round(minutes / 60, 1) < 24:
            return f"{sign}{round(minutes / 60, 1):g} h"
        days, hours = divmod(round(minutes / 60), 24)
    else:
        minutes = int(seconds) // 60
        if minutes < 60:
            return f"{sign}{minutes} min"
        if minutes < 24 * 60:
            tenths = minutes * 10 // 60
            return f"{sign}{tenths // 10}" + (f".{tenths % 10}" if tenths % 10 else "") + " h"
        days, hours = divmod(minutes // 60, 24)
    return f"{sign}{days:,} d" + (f" {hours} h" if hours else "")


def _slack_date(moment, fmt: str = "{date_short_pretty} {time}") -> str:
    """A timestamp every reader sees in their own time zone (Slack's <!date> token)."""
    if moment is None:
        return "—"
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{fmt}|{fallback}>"
