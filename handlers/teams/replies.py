"""What the setup messages' buttons share: reading a button's state and finding its team, and
answering in the message the button was pressed in.

`/qms setup reviewers` and `/qms setup targets` answer with an ephemeral message whose buttons
carry their state as JSON ({"team": 3, "user": "UDAVE", "page": 0}). A modal opened from such a
button replaces that message with its new contents once saved, where the person is already
looking: the message's response_url, from Slack's signed button press, is kept in our database
(storage.runtime.ModalOrigin) and the modal's private_metadata carries only a random key to it, so
that no URL the bot calls ever comes from a payload (docs/security.md).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient
from sqlmodel import Session

from bot.core.timeutil import utcnow
from handlers.core import people
from handlers.core.deps import Services
from handlers.core.payload import MalformedPayload, field, row_id
from handlers.core.routing import team_or_refusal
from storage import runtime
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


def remember_origin(session: Session, body: dict[str, Any], *, now: datetime) -> dict[str, str]:
    """Keep where a pressed button's message is; what the modal it opens carries in its
    private_metadata to find it again: {"origin": key}."""
    channel = field(body, "container", "channel_id", default=None) or field(body, "channel", "id", default=None)
    key = runtime.remember_origin(
        session, workspace_id=field(body, "team", "id"), user_id=field(body, "user", "id"),
        response_url=field(body, "response_url", default=None),
        channel_id=channel if channel and len(channel) <= runtime.CHANNEL_ID_MAX else None, now=now)
    return {"origin": key}


def ephemeral(payload: dict[str, Any], *, replace: bool) -> dict[str, Any]:
    return {**payload, "response_type": "ephemeral", "replace_original": replace}


def replace_message(services: Services, client: WebClient, state: dict[str, Any], workspace_id: str, user_id: str,
                    payload: dict[str, Any]) -> None:
    """After a modal is saved, replace the message it was opened from, through the response_url
    kept when its button was pressed. When that fails (a response_url lives 30 minutes), post the
    new contents beside it instead. A key that finds nothing (forged, or long expired) does nothing."""
    key = state.get("origin")
    if not isinstance(key, str) or not key:
        return
    with services.transaction() as session:
        found = runtime.origin(session, workspace_id, user_id, key, now=utcnow())
    if found is None:
        return
    if found.response_url:
        try:
            if WebhookClient(found.response_url).send_dict(ephemeral(payload, replace=True)).status_code == 200:
                return
        except Exception as error:  # whatever went wrong, the fallback below still answers
            log.warning("could not replace a setup message through its response_url: %s", error)
    if found.channel_id:
        client.chat_postEphemeral(channel=found.channel_id, user=user_id, **payload)
