"""What the setup messages' buttons share: reading a button's state and finding its team, and
answering in the message the button was pressed in.

`/qms setup reviewers` and `/qms setup targets` answer with an ephemeral message whose buttons
carry their state as JSON ({"team": 3, "user": "UDAVE", "page": 0}). A modal opened from such a
button remembers the message's response_url, so that after the modal is saved the message is
replaced with its new contents, where the person is already looking.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient
from sqlmodel import Session

from handlers.core import people
from handlers.core.payload import MalformedPayload, field, row_id
from handlers.core.routing import team_or_refusal
from storage.teams import Team

log = logging.getLogger(__name__)


def team_id(state: dict[str, Any]) -> int:
    """The team a button's or a modal's state names."""
    return row_id(state.get("team"))


def page(state: dict[str, Any]) -> int:
    """The page of the matrix a button or modal was on (0 when it says none)."""
    value = state.get("page", 0)
    if type(value) is not int or not 0 <= value <= 10_000:
        raise MalformedPayload("page is not a page")
    return value


def text(state: dict[str, Any], key: str) -> str:
    value = state.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedPayload(f"{key} is missing")
    return value


def team_of(session: Session, workspace_id: str, state: dict[str, Any]) -> Team:
    """The team a button or modal belongs to, in this workspace only."""
    return team_or_refusal(session, workspace_id, team_id(state))


def is_workspace_admin(client: WebClient, user_id: str) -> bool:
    return people.lookup(client, user_id).is_workspace_admin


def origin(body: dict[str, Any]) -> dict[str, Any]:
    """Where a pressed button's message is, for a modal to remember in its private_metadata."""
    return {"url": field(body, "response_url", default=None),
            "channel": field(body, "container", "channel_id", default=None)
            or field(body, "channel", "id", default=None)}


def ephemeral(payload: dict[str, Any], *, replace: bool) -> dict[str, Any]:
    return {**payload, "response_type": "ephemeral", "replace_original": replace}


def replace_message(client: WebClient, state: dict[str, Any], user_id: str, payload: dict[str, Any]) -> None:
    """After a modal is saved, replace the message it was opened from (its response_url, kept in the
    modal's metadata). When that fails (the URL lives 30 minutes), post the new contents instead."""
    url, channel = state.get("url"), state.get("channel")
    if isinstance(url, str) and url:
        try:
            if WebhookClient(url).send_dict(ephemeral(payload, replace=True)).status_code == 200:
                return
        except Exception as error:  # whatever went wrong, the fallback below still answers
            log.warning("could not replace a setup message through its response_url: %s", error)
    if isinstance(channel, str) and channel:
        client.chat_postEphemeral(channel=channel, user=user_id, **payload)
