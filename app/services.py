"""One process's runtime: what every listener is handed (handlers.core.deps.Services: the settings
and the database), plus the ways out to Slack, built once."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from app import metrics
from app.sender import GitHubApi, OutboxSender
from app.workspaces import Workspaces
from bot import pull_requests
from bot.core.settings import Settings
from bot.core.timeutil import utcnow
from handlers.core.deps import Services
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class Runtime(Services):
    """Services, and what the process layer alone uses: the Slack client, the outbox sender and the
    pump, which sends in the background what a listener's transaction queued (Services.deliver)."""

    slack: WebClient  # for direct answers (views.open, ephemeral replies); retries on its own
    sender: OutboxSender  # for everything that must be neither lost nor doubled
    pump: "OutboxPump | None" = None
    workspaces: Workspaces | None = None  # each workspace's token (OAuth mode), or the one token

    def client_for(self, workspace_id: str) -> WebClient | None:
        """The client that speaks for a workspace: its own token in OAuth mode; None if not installed there."""
        return self.workspaces.client_for(workspace_id) if self.workspaces else self.sender.client

    def __post_init__(self) -> None:
        self.pump = self.pump or OutboxPump(self.sender)
        self.deliver = self.pump.kick

    def deliver_outbox(self) -> None:
        """Send what is due now, rather than at the clock's next tick (in the background)."""
        self.pump.kick()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        return self.pump.wait_idle(timeout)


def build_runtime(settings: Settings, *, db: Database | None = None) -> Runtime:
    db = db or Database(settings.database_url, timeout=settings.database_timeout)
    metrics.watch_database(db)
    token = settings.slack_bot_token
    if settings.oauth:
        token = None  # each request is authorized with its workspace's installation (Bolt's OAuth flow)
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
    outgoing = WebClient(token=token, base_url=settings.slack_api_url, retry_handlers=[], timeout=15)
    github = GitHubApi(settings.github_token, settings.github_api_url) if settings.github_token else None
    workspaces = Workspaces(settings, db, default=outgoing)
    sender = OutboxSender(db, outgoing, github=github, on_result=pull_requests.OUTBOX_RESULTS,
                          channel_rate=settings.slack_channel_rate,
                          lease=timedelta(seconds=settings.outbox_lease_seconds),
                          give_up_after=timedelta(hours=settings.outbox_give_up_hours),
                          client_for=workspaces.client_for if settings.oauth else None)
    return Runtime(settings=settings, db=db, slack=interactive, sender=sender, workspaces=workspaces)


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
