"""The webhook endpoints GitHub and GitLab post to: `POST /webhooks/github`, `POST /webhooks/gitlab`.

Each delivery is authenticated before its body is parsed: GitHub's `X-Hub-Signature-256` (HMAC
SHA-256 of the raw body with a team's secret, compared in constant time), GitLab's `X-Gitlab-Token`
(a team's secret, found by its hash). Then, always JSON:

    200  handled, or handled before (a redelivery: `{"duplicate": true}`), or a ping
    202  authentic, but about a repository that is not the sending team's: nothing changed (logged)
    400  not JSON, nested too deeply, a number of more than 4,300 digits, not shaped like the provider's
    401  unsigned, or signed with no team's secret
    413  a body over 1 MB
    503  the database could not be reached: GitHub and GitLab show it, and it can be redelivered

The answer comes as soon as the delivery's transaction commits (well within GitHub's 10 s); the
messages it queued are sent after, by the outbox.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any
from urllib.parse import parse_qs

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.exc import DBAPIError

from bot import pull_requests
from bot.core import render
from bot.core.timeutil import utcnow
from bot.pull_requests import GITHUB, GITLAB, MalformedWebhook
from handlers.core.deps import Services
from storage.pull_requests import WebhookConnection

log = logging.getLogger(__name__)

DELIVERY_ID_MAX = 100


def blueprint(services: Services) -> Blueprint:
    hooks = Blueprint("webhooks", __name__, url_prefix="/webhooks")

    @hooks.post("/github")
    def github() -> Response:
        body = request.get_data(cache=False)
        signature = request.headers.get("X-Hub-Signature-256", "").strip()
        if not signature:
            return _error(401, "no_signature")
        key = services.settings.webhook_key
        try:
            with services.db.transaction() as session:
                sender = pull_requests.github_sender(session, body, signature, key=key) if key else None
        except DBAPIError as error:
            return _database_down(GITHUB, error)
        if sender is None:
            return _error(401, "bad_signature")
        return _handle(services, sender, GITHUB, request.headers.get("X-GitHub-Event", ""), body,
                       request.headers.get("X-GitHub-Delivery"))

    @hooks.post("/gitlab")
    def gitlab() -> Response:
        body = request.get_data(cache=False)
        token = request.headers.get("X-Gitlab-Token", "").strip()
        if not token:
            return _error(401, "no_token")
        try:
            with services.db.transaction() as session:
                sender = pull_requests.gitlab_sender(session, token)
        except DBAPIError as error:
            return _database_down(GITLAB, error)
        if sender is None:
            return _error(401, "bad_token")
        # Idempotency-Key (GitLab 17.4+) stays the same across retries; X-Gitlab-Event-UUID names the event.
        delivery = request.headers.get("Idempotency-Key") or request.headers.get("X-Gitlab-Event-UUID")
        return _handle(services, sender, GITLAB, request.headers.get("X-Gitlab-Event", ""), body, delivery)

    return hooks


def _handle(services: Services, sender: WebhookConnection, provider: str, event_name: str, body: bytes,
            delivery_id: str | None) -> Response:
    if not event_name:
        return _error(400, "no_event", provider=provider)
    if delivery_id is not None and not (0 < len(delivery_id.strip()) <= DELIVERY_ID_MAX):
        return _error(400, "bad_delivery_id", limit=DELIVERY_ID_MAX)
    try:
        payload = parse_body(body, request.content_type or "")
    except MalformedWebhook as malformed:
        return _error(400, "malformed", detail=str(malformed))
    try:
        with services.transaction() as session:  # what it queues is sent after the commit, by itself
            current = session.get(WebhookConnection, sender.id)
            if current is None or current.salt != sender.salt:  # rotated or removed since it was checked
                return _error(401, "secret_changed")
            handled = pull_requests.handle(session, current, provider, event_name, payload,
                                           delivery_id=delivery_id.strip() if delivery_id else None,
                                           github_api=bool(services.settings.github_token), now=utcnow())
    except MalformedWebhook as malformed:
        log.warning("webhook %s %s: malformed %s delivery: %s", provider, delivery_id, event_name, malformed)
        return _error(400, "malformed", detail=str(malformed))
    except DBAPIError as error:
        return _database_down(provider, error)
    response = jsonify(handled.answer())
    response.status_code = handled.status
    return response


def _database_down(provider: str, error: DBAPIError) -> Response:
    log.error("webhook %s: database error, nothing changed: %s", provider, error)
    return _error(503, "database_down")


def parse_body(body: bytes, content_type: str) -> Any:
    """The JSON of a delivery, sent as application/json or (GitHub's other choice) as a form's
    `payload` field. Raises MalformedWebhook for anything else."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedWebhook("the body is not UTF-8") from None
    if content_type.startswith("application/x-www-form-urlencoded"):
        try:
            fields = parse_qs(text, max_num_fields=10)
        except ValueError:
            raise MalformedWebhook("the form has too many fields") from None
        text = (fields.get("payload") or [""])[0]
    try:
        return json.loads(text)
    except RecursionError:
        raise MalformedWebhook("the JSON is nested too deeply") from None
    except json.JSONDecodeError as error:
        raise MalformedWebhook(f"the body is not JSON: {error}") from None
    except ValueError:  # an integer of more than 4,300 digits: Python refuses to convert it
        raise MalformedWebhook(f"a number has more than {sys.get_int_max_str_digits()} digits") from None


def _error(status: int, key: str, **params: Any) -> Response:
    """An error in the words of templates/pull_requests/phrases.j2 (webhook_<key>)."""
    response = jsonify(error=render.phrase(f"pull_requests.webhook_{key}", **params))
    response.status_code = status
    return response
