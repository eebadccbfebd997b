"""Builds the Bolt app: its middleware and error handling; every listener comes from handlers.register."""

from __future__ import annotations

import copy
import json
import logging
import threading
from urllib.error import URLError

from slack_bolt import Ack, App, BoltResponse
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.webhook import WebhookClient
from sqlalchemy.exc import SQLAlchemyError

import handlers
from app import workspaces
from app.services import ListenerPool, Runtime
from bot.core import render
from bot.core.timeutil import utcnow
from handlers.core.payload import MalformedPayload
from storage import runtime

log = logging.getLogger(__name__)


class _TokenGivenTwice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment even when it is handed a client built with
    that very token, and warns that the token goes unused: true, and no news to us."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def build_app(services: Runtime, *, signing_secret: str | None = None, verified_upstream: bool = False) -> App:
    """`verified_upstream`: every request reaches Bolt through app/web.py, which has checked its
    signature already (or over Socket Mode, which is not signed): Bolt need not check it again."""
    bolt_logger = logging.getLogger("slack_bolt")
    if not any(isinstance(f, _TokenGivenTwice) for f in bolt_logger.filters):
        bolt_logger.addFilter(_TokenGivenTwice())
    oauth = services.workspaces is not None and services.workspaces.oauth
    app = App(
        client=services.slack,
        signing_secret=signing_secret or services.settings.slack_signing_secret,
        listener_executor=ListenerPool(max_workers=32),
        logger=bolt_logger,
        request_verification_enabled=not verified_upstream,
        **({"oauth_settings": services.workspaces.oauth_settings(),
            "installation_store": services.workspaces.installations} if oauth else {}),
    )
    app.use(_handle_each_event_once(services))
    app.error(_answer_errors)

    handlers.register(app, services)
    if oauth:
        workspaces.register(app, services.workspaces)  # app_uninstalled, tokens_revoked
    return app


class EarlyAck(Ack):
    """An `ack()` that tells whoever waits for it (app/web.py) the moment it is called, so the HTTP
    answer goes out then while the listener goes on in the same thread (see `acking_early`)."""

    def __init__(self) -> None:
        super().__init__()
        self.called = threading.Event()
        self.answer: BoltResponse | None = None  # the first answer: what went out over HTTP

    def __call__(self, *args, **kwargs) -> BoltResponse:
        response = super().__call__(*args, **kwargs)
        if self.answer is None:
            self.answer = response
            self.called.set()
        return response


def acking_early(app: App) -> App:
    """The same app (the same listeners, middleware and error handlers), whose listener runs in the
    thread that dispatched the request instead of being handed to Bolt's listener pool while that
    thread polls every 10 ms for the `ack()`: the hop and the polling cost about as much CPU as a bare
    Bolt app's whole ack. The request's context must hold an EarlyAck, which app/web.py waits on.
    Not for the Events API (Bolt acknowledges an event before running its listener only in the
    pooled mode)."""
    early = copy.copy(app)
    early._listener_runner = copy.copy(app.listener_runner)
    early._listener_runner.process_before_response = True
    return early


def _handle_each_event_once(services: Runtime):
    """Slack retries an Events API delivery up to three times (X-Slack-Retry-Num)."""

    def middleware(body, next, ack):
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            with services.db.transaction() as session:
                first = runtime.first_delivery(session, body.get("team_id", ""), event_id, now=utcnow())
            if not first:
                log.info("event %s already handled; skipping Slack's retry", event_id)
                ack()
                return BoltResponse(status=200, body="")
        return next()

    return middleware


def _answer_errors(error, body, response, logger, context):
    """A malformed payload is the sender's fault (400). Anything else is ours: logged, and the person
    is told politely (the database or Slack being away, or something failing), never a 500: a modal
    keeps its input and shows the sentence under its first field, a command answers ephemerally."""
    if isinstance(error, MalformedPayload):
        logger.warning("malformed payload: %s", error)
        if response is not None:
            response.status, response.body = 400, '{"error": "malformed payload"}'
        return
    key = _trouble(error)
    if key == "common.something_failed":
        logger.exception("unhandled error in a listener", exc_info=error)
    else:
        logger.warning("could not answer a request: %s: %s", type(error).__name__, str(error).splitlines()[0][:300]
                       if str(error) else "")
    body = body if isinstance(body, dict) else {}
    ack = context.get("ack") if context is not None else None
    if isinstance(ack, EarlyAck) and ack.answer is not None:
        response = None  # acknowledged already (the listener ran on after its ack: acking_early)
    if response is None:  # already acknowledged: say it beside what they did, when Slack gave us the way
        _say_later(body, render.phrase(key), logger)
        return
    response.status, response.headers = 200, {"content-type": ["application/json;charset=utf-8"]}
    response.body = json.dumps(polite_answer(body, key))


def _trouble(error: BaseException) -> str:
    if isinstance(error, (SQLAlchemyError, DatabaseUnavailable)):
        return "common.database_unreachable"
    if isinstance(error, (SlackApiError, SlackRequestError, URLError, TimeoutError, ConnectionError)):
        return "common.slack_trouble"
    return "common.something_failed"


def _say_later(body: dict, sentence: str, logger) -> None:
    url = body.get("response_url")
    if not isinstance(url, str) or not url.startswith(("https://hooks.slack.com/", "http://127.0.0.1", "http://localhost")):
        return
    try:
        WebhookClient(url, timeout=3).send(text=sentence, response_type="ephemeral", replace_original=False)
    except Exception as error:  # Slack is away too: nothing more we can do for this person
        logger.warning("could not tell the person either: %s", error)


def polite_answer(body: dict, key: str) -> dict:
    """What a person is told over HTTP when their request could not be done: `key` names the phrase."""
    sentence = render.phrase(key)
    if body.get("type") == "view_submission":
        blocks = (body.get("view") or {}).get("blocks") or []
        field = next((b.get("block_id") for b in blocks if isinstance(b, dict) and b.get("type") == "input"
                      and isinstance(b.get("block_id"), str)), None)
        if field:
            return {"response_action": "errors", "errors": {field: sentence}}
        return {"response_action": "update", "view": render.view("common/notice_modal.json.j2", title="QMS Bot",
                                                                 text=sentence)}
    if "command" in body:
        return {"response_type": "ephemeral", "text": sentence}
    return {}


class DatabaseUnavailable(Exception):
    """The database did not answer in time."""
