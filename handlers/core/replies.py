"""Answers every handler gives the same way: a form's inline errors, a refused form, a refused press."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.core import render
from bot.core.errors import Invalid, Refusal

log = logging.getLogger(__name__)


def said(refusal: Refusal) -> str:
    """A refusal in words."""
    return render.phrase(refusal.phrase.key, **refusal.phrase.params)


def inline_errors(invalid: Invalid) -> dict[str, Any]:
    """The ack that puts each problem under its field in the open modal."""
    return {
        "response_action": "errors",
        "errors": {name: render.phrase(p.key, **p.params) for name, p in invalid.problems.items()},
    }


def refused(refusal: Refusal, *, title: str) -> dict[str, Any]:
    """The ack that replaces a submitted modal with a clear "no" (nothing was changed)."""
    return {"response_action": "update", "view": render.view("common/notice_modal.json.j2", title=title,
                                                             text=said(refusal))}


def refuse_press(body: dict[str, Any], respond: Respond, client: WebClient, refusal: Refusal, *,
                 title: str = "QMS Bot") -> None:
    """Say no to whoever pressed a button: beside the message they pressed it in (its response_url),
    or, on the App Home tab, which has no response_url, in a small modal."""
    if body.get("response_url"):
        respond(response_type="ephemeral", replace_original=False, text=said(refusal))
    elif body.get("trigger_id"):
        client.views_open(trigger_id=body["trigger_id"],
                          view=render.view("common/notice_modal.json.j2", title=title, text=said(refusal)))
    else:
        log.info("refused a press with no way to answer it: %s", refusal.phrase.key)
