"""Builds the Bolt app. Every entry point of the bot is registered here, in one place."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Settings
from bot.pull_requests import service as pull_request_service
from bot.sender import GitHubApi, OutboxSender
from bot.timeutil import utcnow
from handlers import commands, home, incidents, metrics, pull_requests, reviews, risks, teams
from handlers.forms import MalformedPayload
from storage import runtime
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What the handlers and the clock share: settings, the database and the way out to Slack."""

    settings: Settings
    db: Database
    slack: WebClient  # for direct answers (views.open, ephemeral replies); retries on its own
    sender: OutboxSender  # for everything that must be neither lost nor doubled
    pump: "OutboxPump" = None

    def __post_init__(self) -> None:
        self.pump = self.pump or OutboxPump(self.sender)

    def deliver_outbox(self) -> None:
        """Send what the last change queued now, rather than at the clock's next tick (in the
        background: see OutboxPump)."""
        self.pump.kick()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        return self.pump.wait_idle(timeout)


def build_services(settings: Settings, *, db: Database | None = None) -> Services:
    db = db or Database(settings.database_url)
    token = settings.slack_bot_token
    interactive = WebClient(
        token=token,
        base_url=settings.slack_api_url,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )
    # The sender schedules its own retries (a later not_before), so its client never sleeps.
    outgoing = WebClient(token=token, base_url=settings.slack_api_url, retry_handlers=[])
    github = GitHubApi(settings.github_token, settings.github_api_url) if settings.github_token else None
    sender = OutboxSender(db, outgoing, github=github, on_result=pull_request_service.OUTBOX_RESULTS)
    return Services(settings=settings, db=db, slack=interactive, sender=sender)


class ListenerPool(ThreadPoolExecutor):
    """Bolt's listener thread pool, which can also tell when all submitted work is finished
    (the console waits for that before it prints the next prompt; tests do the same)."""

    def __init__(self, max_workers: int = 10):
        super().__init__(max_workers=max_workers, thread_name_prefix="listener")
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with self._idle:
            self._pending += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)


class OutboxPump:
    """Delivers the outbox off Bolt's listener threads. Handlers kick it after a commit and go on;
    one background thread sends. A slow Slack then never holds up the threads that must acknowledge
    new requests within 3 seconds. Kicks while a delivery is queued fold into it."""

    def __init__(self, sender: OutboxSender):
        self.sender = sender
        self._pool = ListenerPool(max_workers=1)
        self._lock = threading.Lock()
        self._queued = False

    def kick(self) -> None:
        with self._lock:
            if self._queued:
                return
            self._queued = True
        self._pool.submit(self._deliver)

    def _deliver(self) -> None:
        with self._lock:
            self._queued = False  # a kick from now on queues another round after this one
        try:
            self.sender.deliver_due(now=utcnow())
        except Exception:
            log.exception("outbox delivery failed; the clock retries it")

    def wait_idle(self, timeout: float = 30.0) -> bool:
        return self._pool.wait_idle(timeout)


class _TokenGivenTwice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment even when it is handed a client built with
    that very token, and warns that the token goes unused: true, and no news to us."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def build_app(services: Services, *, signing_secret: str | None = None) -> App:
    bolt_logger = logging.getLogger("slack_bolt")
    if not any(isinstance(f, _TokenGivenTwice) for f in bolt_logger.filters):
        bolt_logger.addFilter(_TokenGivenTwice())
    app = App(
        client=services.slack,
        signing_secret=signing_secret or services.settings.slack_signing_secret,
        listener_executor=ListenerPool(),
        logger=bolt_logger,
    )
    app.use(_handle_each_event_once(services))
    app.error(_answer_errors)

    subcommands = commands.Subcommands()
    home.register(app, services)
    teams.register(app, services, subcommands)  # /qms setup
    incidents.register(app, services, subcommands)  # /qms incident, /qms setup escalation
    risks.register(app, services, subcommands)  # /qms risk
    reviews.register(app, services, subcommands)  # /qms review
    metrics.register(app, services, subcommands)  # /qms dor, dod, metrics, setup token, setup digest
    pull_requests.register(app, services, subcommands)  # /qms setup github|gitlab, /qms link
    commands.register(app, services, subcommands)  # /qms, /qms help, and the table above
    return app


def _handle_each_event_once(services: Services):
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
