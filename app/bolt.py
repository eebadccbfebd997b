"""Builds the Bolt app: its middleware and error handling; every listener comes from handlers.register."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltResponse

import handlers
from app.services import ListenerPool, Runtime
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
    app = App(
        client=services.slack,
        signing_secret=signing_secret or services.settings.slack_signing_secret,
        listener_executor=ListenerPool(),
        logger=bolt_logger,
        request_verification_enabled=not verified_upstream,
    )
    app.use(_handle_each_event_once(services))
    app.error(_answer_errors)

    handlers.register(app, services)
    return app


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


def _answer_errors(error, body, response, logger):
    """A malformed payload is the sender's fault (400); anything else is ours, and logged."""
    if isinstance(error, MalformedPayload):
        logger.warning("malformed payload: %s", error)
        if response is not None:
            response.status, response.body = 400, '{"error": "malformed payload"}'
        return
    logger.exception("unhandled error in a listener", exc_info=error)
