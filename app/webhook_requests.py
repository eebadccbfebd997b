"""Webhook deliveries as GitHub and GitLab send them: headers, signature, event names.

`qms-bot webhook replay FILE` and the console's `webhook FILE` use these to put a payload file
through the real endpoints, so that the whole flow can be seen without GitHub; the tests do the same.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

from sqlmodel import Session

from bot import pull_requests
from bot.pull_requests import GITHUB, GITLAB
from storage import pull_requests as store

# X-Gitlab-Event for each object_kind GitLab sends.
GITLAB_EVENTS = {"merge_request": "Merge Request Hook", "pipeline": "Pipeline Hook", "build": "Job Hook",
                 "push": "Push Hook", "note": "Note Hook"}


def github_headers(secret: str, body: bytes, *, event: str, delivery: str | None = None) -> dict[str, str]:
    """What GitHub sends with a delivery: the event, a delivery ID, and the HMAC-SHA256 of the body."""
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/qms-replay", "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()), "X-Hub-Signature-256": f"sha256={signature}"}


def gitlab_headers(secret: str, *, event: str, delivery: str | None = None) -> dict[str, str]:
    """What GitLab sends: the event's name, its UUID, and the secret token itself."""
    return {"Content-Type": "application/json", "User-Agent": "GitLab/qms-replay", "X-Gitlab-Event": event,
            "X-Gitlab-Event-UUID": delivery or str(uuid.uuid4()), "X-Gitlab-Token": secret}


def event_of(payload: Any, provider: str) -> str:
    """The event a payload is of, guessed from its shape: what X-GitHub-Event or X-Gitlab-Event
    would say (`--event` overrides it)."""
    data = payload if isinstance(payload, dict) else {}
    if provider == GITLAB:
        kind = data.get("object_kind")
        return GITLAB_EVENTS.get(kind, f"{str(kind).title()} Hook") if isinstance(kind, str) else "Merge Request Hook"
    for key, event in (("review", "pull_request_review"), ("check_run", "check_run"), ("workflow_run", "workflow_run"),
                       ("pull_request", "pull_request"), ("zen", "ping")):
        if key in data:
            return event
    return "pull_request"


def repository_of(payload: Any, provider: str) -> str | None:
    data = payload if isinstance(payload, dict) else {}
    holder = data.get("repository" if provider == GITHUB else "project")
    name = holder.get("full_name" if provider == GITHUB else "path_with_namespace") if isinstance(holder, dict) else None
    return name.lower() if isinstance(name, str) else None


def secret_for_payload(session: Session, payload: Any, provider: str, *, key: str) -> str | None:
    """The webhook secret of the team whose repository the payload is about (None: no team's)."""
    name = repository_of(payload, provider)
    rows = [row for row in store.repository_everywhere(session, provider, name)] if name else []
    for row in rows:
        connection = store.connection_of(session, row.workspace_id, row.team_id, provider)
        if connection is not None:
            return pull_requests.secret_for(key, connection.salt)
    return None


def load(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None
