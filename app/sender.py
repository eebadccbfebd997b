"""Delivers the outbox to Slack: the one path every lasting message takes.

A sender claims due rows for a lease, sends each, and records the outcome:
- sent → marked sent (and where it landed is remembered under its `ref`);
- HTTP 429 → retried after Slack's Retry-After; 5xx and network errors → retried with
  exponential backoff; retries are rows with a later `not_before`, never a sleep, so a
  rate-limited channel does not hold up the clock;
- any other Slack error (channel_not_found, ...) → marked dead and logged: retrying won't help.

If the process dies between Slack's answer and our commit, the lease runs out and the row is
sent again: the one message in flight at a crash is the only one that can repeat. A sender that is
still working through its batch when half its lease has passed (Slack is slow) hands the rest back
unsent rather than risk another sender taking them over while it sends.

A row that updates or threads under a message we have not posted yet waits for it without using up
its attempts, and gives up only when that message itself gave up. An update overtaken by a newer one
of the same message (the older was retried after the newer went out) is dropped, not sent.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable
from urllib.error import URLError
from urllib.parse import quote

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from app import metrics
from storage import outbox
from storage.db import Database
from storage.outbox import OutboxMessage

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # a send takes at most ~90 s (files: 3 calls × 30 s); we stop at half
MAX_ATTEMPTS = 10
MAX_BACKOFF = timedelta(minutes=15)
WAIT_FOR_REF = timedelta(seconds=5)


@dataclass
class DeliveryReport:
    sent: int = 0
    retry: int = 0
    dead: int = 0
    followed: int = 0  # answers handed on (`on_result`)

    def count(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)


@dataclass
class _Outcome:
    status: str  # "sent" | "retry" | "dead"
    error: str = ""
    retry_after: timedelta | None = None
    counts_as_attempt: bool = True
    channel: str | None = None
    ts: str | None = None
    result: dict[str, Any] | None = None  # what a github.* call answered, for `on_result`


class _RefNotYetKnown(Exception):
    """The message this row updates or threads under has not been posted yet."""


class _RefGaveUp(Exception):
    """The message this row updates or threads under will never be posted: it is dead."""


class _Superseded(Exception):
    """A newer update of the same message has already been sent."""


class OutboxSender:
    def __init__(self, db: Database, client: WebClient, *, worker: str | None = None, lease: timedelta = LEASE,
                 monotonic=time.monotonic, github: "GitHubApi | None" = None,
                 on_result: dict[str, Callable[..., None]] | None = None,
                 client_for: Callable[[str], WebClient | None] | None = None):
        self.db = db
        self.client = client
        self.client_for = client_for  # a workspace's own client (OAuth: its token); None: not installed there
        self.github = github  # for the rows whose method is github.* (None: GITHUB_TOKEN is not set)
        # By method: who is handed a call's answer (None when it was given up), in the transaction that
        # records the row as sent or dead, so that what follows from it happens once.
        self.on_result = on_result or {}
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.lease = lease
        self.monotonic = monotonic  # real elapsed time, whatever `now` the caller passes

    def deliver_due(self, *, now: datetime, limit: int = 50) -> DeliveryReport:
        report = self._deliver_batch(now=now, limit=limit)
        if report.followed:  # an answer queued messages of its own (a filed request's card): send them too
            more = self._deliver_batch(now=now, limit=limit)
            report.sent, report.retry, report.dead = (report.sent + more.sent, report.retry + more.retry,
                                                      report.dead + more.dead)
        return report

    def _deliver_batch(self, *, now: datetime, limit: int) -> DeliveryReport:
        report = DeliveryReport()
        claimed_at = self.monotonic()
        with self.db.transaction() as session:
            claimed = outbox.claim_due(session, now=now, worker=self.worker, lease=self.lease, limit=limit)
        for index, message in enumerate(claimed):
            if timedelta(seconds=self.monotonic() - claimed_at) > self.lease / 2:
                self._hand_back(claimed[index:])
                break
            outcome = self._send(message)
            with self.db.transaction() as session:
                self._record(session, message, outcome, now=now)
                follow = self.on_result.get(message.method)
                if follow is not None and outcome.status in ("sent", "dead"):
                    follow(session, message, outcome.result if outcome.status == "sent" else None, now=now)
                    report.followed += 1
            report.count(outcome.status)
            metrics.sent(message, outcome.status, outcome.error, now=now)
        return report

    def _hand_back(self, messages: list[OutboxMessage]) -> None:
        log.warning("outbox: handing back %d unsent messages: half the lease is gone", len(messages))
        with self.db.transaction() as session:
            for message in messages:
                outbox.release(session, message, worker=self.worker)

    def _record(self, session, message: OutboxMessage, outcome: _Outcome, *, now: datetime) -> None:
        if outcome.status == "sent":
            outbox.mark_sent(session, message, worker=self.worker, now=now, channel=outcome.channel, ts=outcome.ts)
        elif outcome.status == "retry" and (not outcome.counts_as_attempt or message.attempts + 1 < MAX_ATTEMPTS):
            delay = outcome.retry_after or min(timedelta(seconds=2 ** (message.attempts + 1)), MAX_BACKOFF)
            log.warning("outbox %s: %s; retrying in %s", message.key, outcome.error, delay)
            outbox.mark_retry(session, message, worker=self.worker, retry_at=now + delay, error=outcome.error,
                              count_attempt=outcome.counts_as_attempt)
        else:
            log.error("outbox %s: giving up after %d attempts: %s", message.key, message.attempts + 1, outcome.error)
            outbox.mark_dead(session, message, worker=self.worker, error=outcome.error)

    def _send(self, message: OutboxMessage) -> _Outcome:
        try:
            args = self._resolve_refs(message)
            client = self.client_for(message.workspace_id) if self.client_for else self.client
            if client is None and not message.method.startswith("github."):
                return _Outcome("dead", "the app is not installed in the workspace")
            response = self._call(message.method, args, client)
        except _RefNotYetKnown as missing:
            return _Outcome("retry", f"waiting for {missing}", retry_after=WAIT_FOR_REF, counts_as_attempt=False)
        except _RefGaveUp as dead:
            return _Outcome("dead", f"{dead} was never posted")
        except _Superseded:
            return _Outcome("sent", error="superseded by a newer update")
        except SlackApiError as error:
            return _classify(error)
        except GitHubApiError as error:
            return error.outcome()
        except (URLError, SlackRequestError, OSError) as error:
            return _Outcome("retry", f"network: {error}")
        except Exception as error:  # a bug or a malformed row: retried a few times, then dead, never stuck
            log.exception("outbox %s: unexpected error", message.key)
            return _Outcome("retry", f"unexpected: {error!r}")
        if message.method.startswith("github."):
            return _Outcome("sent", result=response)
        return _Outcome("sent", channel=response.get("channel"), ts=response.get("ts"))

    def _resolve_refs(self, message: OutboxMessage) -> dict[str, Any]:
        """`update_ref` and `thread_ref` name a message we posted earlier; look up where it landed."""
        args = dict(message.payload)
        update_ref, thread_ref = args.pop("update_ref", None), args.pop("thread_ref", None)
        with self.db.transaction() as session:
            if update_ref and outbox.newer_update_sent(session, message, update_ref):
                raise _Superseded()
            for ref, apply in ((update_ref, _as_update_target), (thread_ref, _as_thread)):
                if ref:
                    found = outbox.location(session, message.workspace_id, ref)
                    if found is None:
                        if outbox.gave_up_on(session, message.workspace_id, ref):
                            raise _RefGaveUp(ref)
                        raise _RefNotYetKnown(ref)
                    apply(args, found.channel, found.ts)
        return args

    def _call(self, method: str, args: dict[str, Any], client: WebClient | None = None):
        client = client or self.client
        if method.startswith("github."):
            if self.github is None:
                raise GitHubApiError(0, "GITHUB_TOKEN is not set")
            return self.github.call(method, args)
        if method == outbox.FILE_UPLOAD:
            content = base64.b64decode(args.pop("content_base64"))
            if args.get("channel", "")[:1] in ("U", "W"):  # a file for a person goes to their DM
                args["channel"] = client.conversations_open(users=args["channel"])["channel"]["id"]
            return client.files_upload_v2(content=content, **args)
        return client.api_call(method, json=args)


def _as_update_target(args: dict[str, Any], channel: str, ts: str) -> None:
    args["channel"], args["ts"] = channel, ts


def _as_thread(args: dict[str, Any], channel: str, ts: str) -> None:
    args["channel"], args["thread_ts"] = channel, ts


def _classify(error: SlackApiError) -> _Outcome:
    status = error.response.status_code
    code = error.response.get("error") if isinstance(error.response.data, dict) else None
    if status == 429 or code == "ratelimited":
        seconds = int(error.response.headers.get("Retry-After", error.response.headers.get("retry-after", 1)) or 1)
        return _Outcome("retry", "rate limited", retry_after=timedelta(seconds=max(seconds, 1)))
    if status >= 500 or code in ("internal_error", "fatal_error", "service_unavailable", "request_timeout"):
        return _Outcome("retry", f"Slack answered {status} {code or ''}".strip())
    return _Outcome("dead", f"Slack refused: {code or status}")


# --- GitHub's REST API, for the rows whose method is github.* --------------------------------------
class GitHubApiError(Exception):
    """GitHub refused or failed a call: 429, a rate-limited 403 and 5xx are retried, the rest is final."""

    def __init__(self, status: int, message: str, *, retry_after: timedelta | None = None):
        super().__init__(f"GitHub answered {status}: {message}" if status else message)
        self.status, self.retry_after = status, retry_after

    def outcome(self) -> _Outcome:
        if self.status == 429 or self.status >= 500 or self.retry_after is not None:
            return _Outcome("retry", str(self), retry_after=self.retry_after)
        return _Outcome("dead", str(self))


class GitHubApi:
    """The few GitHub REST calls the bot makes (https://docs.github.com/rest), one attempt each: the
    outbox schedules the retries. `base_url` is https://api.github.com/, or GitHub Enterprise's
    https://HOST/api/v3/."""

    CALLS = {"github.request_reviewers": "request_reviewers", "github.pull_files": "pull_files"}
    FILES_MAX = 300  # three pages: enough to tell what a change is about

    def __init__(self, token: str, base_url: str, *, timeout: float = 10.0):
        self.token, self.base_url, self.timeout = token, base_url if base_url.endswith("/") else base_url + "/", timeout

    def call(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        name = self.CALLS.get(method)
        if name is None:
            raise GitHubApiError(0, f"no GitHub call {method!r}")
        return getattr(self, name)(**args)

    def request_reviewers(self, repository: str, number: int, reviewers: list[str]) -> dict[str, Any]:
        """POST /repos/{owner}/{repo}/pulls/{number}/requested_reviewers"""
        path = f"repos/{quote(repository, safe='/')}/pulls/{int(number)}/requested_reviewers"
        self._post(path, {"reviewers": reviewers})
        return {}

    def pull_files(self, repository: str, number: int, **_snapshot: Any) -> dict[str, Any]:
        """GET /repos/{owner}/{repo}/pulls/{number}/files: the paths a pull request changes."""
        files: list[str] = []
        path = f"repos/{quote(repository, safe='/')}/pulls/{int(number)}/files?per_page=100&page="
        for page in range(1, self.FILES_MAX // 100 + 1):
            found = self._call("GET", path + str(page))
            if not isinstance(found, list):
                raise GitHubApiError(0, "GitHub's list of files is not a list")
            files += [item["filename"] for item in found if isinstance(item, dict) and isinstance(item.get("filename"), str)]
            if len(found) < 100:
                break
        return {"files": files}

    def _post(self, path: str, body: dict[str, Any]) -> None:
        self._call("POST", path, body)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            self.base_url + path, data=json.dumps(body).encode() if body is not None else None, method=method,
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": "2022-11-28", "Content-Type": "application/json",
                     "User-Agent": "qms-bot"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = response.read()
        except urllib.error.HTTPError as error:
            raise GitHubApiError(error.code, _github_message(error), retry_after=_rate_limited(error)) from None
        try:
            return json.loads(answer or b"null")
        except ValueError:
            raise GitHubApiError(0, "GitHub's answer is not JSON") from None


def _github_message(error) -> str:
    try:
        return str(json.loads(error.read() or b"{}").get("message", ""))[:300]
    except (ValueError, AttributeError):
        return ""


def _rate_limited(error) -> timedelta | None:
    """How long to wait when GitHub says its rate limit is spent (429, or 403 with no requests left)."""
    headers = error.headers or {}
    if error.code not in (403, 429):
        return None
    if headers.get("Retry-After", "").isdigit():
        return timedelta(seconds=max(int(headers["Retry-After"]), 1))
    if headers.get("X-RateLimit-Remaining") == "0" and headers.get("X-RateLimit-Reset", "").isdigit():
        return timedelta(seconds=max(int(headers["X-RateLimit-Reset"]) - int(time.time()), 1))
    return timedelta(minutes=1) if error.code == 429 else None
