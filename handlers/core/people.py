"""Who a Slack user is, as plain values the domain can use (admin? bot? their time zone?)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

CACHE_SECONDS = 300


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    is_workspace_admin: bool  # admin or owner of the Slack workspace
    is_bot: bool
    exists: bool  # False when Slack does not know the ID, or the account is deactivated
    tz: str = "UTC"

    @property
    def is_person(self) -> bool:
        """A real, active human account: what roles, owners and reviewers must be."""
        return self.exists and not self.is_bot


_cache: dict[tuple[str, str], tuple[float, Person]] = {}
_lock = threading.Lock()


def lookup(client: WebClient, user_id: str) -> Person:
    """users.info, cached for a few minutes: admin checks happen on every setup change."""
    key = (client.base_url, user_id)
    with _lock:
        cached = _cache.get(key)
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    try:
        user = client.users_info(user=user_id)["user"]
        person = Person(id=user_id, name=user.get("name", user_id),
                        is_workspace_admin=bool(user.get("is_admin") or user.get("is_owner")),
                        is_bot=bool(user.get("is_bot")) or user_id == "USLACKBOT", exists=not user.get("deleted"),
                        tz=user.get("tz") or "UTC")
    except SlackApiError as error:
        if error.response.get("error") != "user_not_found":
            raise
        person = Person(id=user_id, name=user_id, is_workspace_admin=False, is_bot=False, exists=False)
    with _lock:
        _cache[key] = (time.monotonic(), person)
    return person


def not_people(client: WebClient, user_ids) -> set[str]:
    """Those of `user_ids` that are bots, deactivated, or unknown to Slack."""
    return {user_id for user_id in set(user_ids) if not lookup(client, user_id).is_person}


def forget_cache() -> None:
    with _lock:
        _cache.clear()
