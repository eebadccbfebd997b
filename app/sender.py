"""Delivers the outbox to Slack: the one path every lasting message takes.

A sender works in rounds. Each round claims a few due rows per channel (best priority first:
escalation pings, cards and DMs before digests and exports), for a short lease that it renews
while it sends, and sends them paced per channel (about one message a second with short bursts, as
Slack allows), the channels interleaved so that one busy channel never holds up another. Rounds
follow each other until nothing is due, so throughput is bounded by Slack, not by a batch size.
The pace is kept in the database (`ChannelPacer`, `storage/pacing.py`), so that every sender on it
(each gunicorn worker of `serve`, every clock) keeps it together.

What a send comes to is decided in one place (`_decide`):
- sent → marked sent (and where it landed is remembered under its `ref`);
- HTTP 429 → the row waits for Slack's Retry-After, and so does the rest of that channel; a rate
  limit is not a failure and uses up no attempt;
- 5xx, network errors, Slack being down → retried with exponential backoff capped at
  `MAX_BACKOFF`, however long Slack is away, until the row is `give_up_after` old (a day); a few such
  failures in a row end the round, handing the rest back untouched;
- an answer that no retry can change (channel_not_found, invalid_blocks, ...), or one that says our
  token may not (invalid_auth, token_revoked, missing_scope, ...) → dead, at once, with the reason;
- an error code we do not know → retried `MAX_ATTEMPTS_UNKNOWN` times, then dead.

If the process dies between Slack's answer and our commit, the row is sent again when its lease runs
out (seconds): the one message in flight at a crash is the only one that can repeat. A row that
updates or threads under a message we have not posted yet waits for it without using up attempts,
and gives up only when that message itself gave up. An update overtaken by a newer one of the same
message is dropped, not sent. `stop()` ends the round under way after the send in flight and hands
the rest back (a clean shutdown).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import heapq
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable
from urllib.error import URLError
from urllib.parse import quote

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from app import metrics
from storage import outbox, pacing
from storage.db import Database
from storage.outbox import OutboxMessage

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=15)  # renewed every third of it while a round sends
MAX_ATTEMPTS_UNEXPECTED = 10  # a bug or a malformed row: a few tries, then dead, never stuck
MAX_BACKOFF = timedelta(seconds=30)  # so that within a minute of Slack coming back, everything goes out
GIVE_UP_AFTER = timedelta(days=1)
WAIT_FOR_REF = timedelta(seconds=2)
CHANNEL_RATE = 1.0  # messages per second per channel (Slack: about one)
CHANNEL_BURST = 3  # ... with bursts of this many
PACE_KEPT = 3600.0  # seconds a channel's pace is kept after its last message
ROUND_LIMIT = 100  # rows claimed at most per round
FAILURES_END_A_ROUND = 3  # transient failures in a row: Slack is down; hand the rest back
MAX_ATTEMPTS_UNKNOWN = 5  # an error code we do not know: a few tries, then dead (see `_classify`)
# Slack's answers (HTTP 200, `ok: false`) sorted by what retrying can do about them:
# - the row itself can never go out as it is;
PERMANENT = frozenset({"channel_not_found", "invalid_blocks", "invalid_blocks_format", "msg_too_long",
                       "no_text", "not_in_channel", "is_archived", "cant_update_message", "message_not_found",
                       "user_not_found", "invalid_arguments", "unknown_method", "edit_window_closed",
                       "too_many_attachments", "restricted_action", "channel_is_archived", "invalid_arg_name",
                       "invalid_form_data", "invalid_post_type", "invalid_json", "json_not_object",
                       "method_deprecated", "deprecated_endpoint", "user_is_bot", "cannot_dm_bot",
                       "messages_tab_disabled", "invalid_metadata_format", "invalid_metadata_schema",
                       "metadata_too_large", "invalid_thread_ts", "invalid_ts_latest", "file_not_found"})
# - our token (or the workspace) is not allowed to: no retry ever succeeds; someone has to reinstall,
#   reauthorise or grant a scope, and the row is dead at once with the reason (`qms-bot outbox retry`
#   sends it again once they have);
AUTH = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
                  "no_permission", "missing_scope", "ekm_access_denied", "team_access_not_granted",
                  "org_login_required", "not_allowed_token_type", "access_denied", "app_missing_action_url",
                  "two_factor_setup_required", "enterprise_is_restricted", "team_not_found", "invalid_token"})
# - Slack's own trouble: retried with backoff for as long as `give_up_after` (Slack comes back).
TRANSIENT = frozenset({"ratelimited", "rate_limited", "service_unavailable", "internal_error", "fatal_error",
                       "request_timeout", "timeout", "temporarily_unavailable"})


@dataclass
class DeliveryReport:
    sent: int = 0
    retry: int = 0
    dead: int = 0
    followed: int = 0  # answers handed on (`on_result`)
    handed_back: int = 0  # claimed but not sent this round (paced, stopped, Slack down)

    def count(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)

    def add(self, other: "DeliveryReport") -> None:
        for name in ("sent", "retry", "dead", "followed", "handed_back"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Outcome:
    status: str  # "sent" | "retry" | "dead"
    error: str = ""
    retry_after: timedelta | None = None
    counts_as_attempt: bool = True
    rate_limited: bool = False  # a 429: the whole channel waits for Retry-After
    max_attempts: int | None = None  # not Slack's known trouble (our bug, an unknown code): this many, then dead
    channel: str | None = None
    ts: str | None = None
    result: dict[str, Any] | None = None  # what a github.* call answered, for `on_result`


class _RefNotYetKnown(Exception):
    """The message this row updates or threads under has not been posted yet."""


class _RefGaveUp(Exception):
    """The message this row updates or threads under will never be posted: it is dead."""


class _NotInstalled(Exception):
    """The app is not (or no longer) installed in the row's workspace."""


class _Superseded(Exception):
    """A newer update of the same message has already been sent."""


class ChannelPacer:
    """Per channel: at most `rate` messages a second, with bursts of `burst` (GCRA), kept in the
    database (`storage/pacing.py`) so that the pace holds across every sender sharing it: the
    gunicorn workers of `serve` and every `clock`. Time is the wall clock (`clock`), which those
    processes share; a 429 holds the channel for every sender. Unpaced when `rate` is 0."""

    def __init__(self, db: Database, rate: float, burst: int, clock: Callable[[], float]):
        self.db = db
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.tolerance = self.interval * (max(burst, 1) - 1)
        self.clock = clock
        self._tidied = float("-inf")

    def take(self, lane: "Lane") -> tuple[bool, float]:
        """A slot for one message in `lane` now, if the pace allows. Returns (taken, when): when
        taken, the time the lane's next message may go; else the time this one may."""
        now = self.clock()
        if lane is None or self.interval == 0:
            return True, now
        with self.db.transaction() as session:
            return pacing.take(session, lane[0], lane[1], now=now, interval=self.interval, tolerance=self.tolerance)

    def tidy(self) -> None:
        """Once an hour: forget the pace of channels idle for an hour (no different from none)."""
        now = self.clock()
        if self.interval == 0 or now - self._tidied < PACE_KEPT:
            return
        self._tidied = now
        with self.db.transaction() as session:
            pacing.forget_idle(session, before=now - PACE_KEPT)

    def hold(self, lane: "Lane", seconds: float) -> float:
        """Slack said wait `seconds` (a 429): returns when the lane's next message may go."""
        now = self.clock()
        if lane is None:
            return now
        with self.db.transaction() as session:
            return pacing.hold(session, lane[0], lane[1], until=now + seconds, tolerance=self.tolerance)


Lane = tuple[str, str] | None  # what a row is paced by: (workspace, channel); None: not paced


class OutboxSender:
    def __init__(self, db: Database, client: WebClient, *, worker: str | None = None, lease: timedelta = LEASE,
                 monotonic=time.monotonic, sleep=time.sleep, github: "GitHubApi | None" = None,
                 on_result: dict[str, Callable[..., None]] | None = None, channel_rate: float = CHANNEL_RATE,
                 channel_burst: int = CHANNEL_BURST, give_up_after: timedelta = GIVE_UP_AFTER,
                 round_limit: int = ROUND_LIMIT, clock: Callable[[], float] = time.time,
                 client_for: Callable[[str], WebClient | None] | None = None):
        self.db = db
        self.client = client
        self.client_for = client_for  # a workspace's own client (OAuth: its token); None: not installed there
        self.github = github  # for the rows whose method is github.* (None: GITHUB_TOKEN is not set)
        # By method: who is handed a call's answer (None when it was given up), in the transaction that
        # records the row as sent or dead, so that what follows from it happens once.
        self.on_result = on_result or {}
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"[:64]
        self.lease = lease
        self.monotonic = monotonic  # real elapsed time, whatever `now` the caller passes
        self.clock = clock  # the wall clock, which every sender on the database shares (for the pace)
        self.sleep = sleep
        self.burst = max(int(channel_burst), 1)
        self.pacer = ChannelPacer(db, channel_rate, self.burst, clock)
        self.give_up_after = give_up_after
        self.round_limit = round_limit
        self._stopping = threading.Event()

    def stop(self) -> None:
        """End the round under way after the send in flight; what is left is handed back."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def deliver_due(self, *, now: datetime, limit: int | None = None, max_seconds: float = 10.0) -> DeliveryReport:
        """Send what is due at `now`, round after round, until nothing is due (or `max_seconds` have
        passed, or `stop()`). Later rounds reckon `now` forward by the real time elapsed."""
        report = DeliveryReport()
        started = self.monotonic()
        self.pacer.tidy()
        for _ in range(1000):  # rounds; a safety bound, never reached in practice
            elapsed = self.monotonic() - started
            if self.stopping or elapsed > max_seconds:
                break
            at = self._at(now, started)
            with self.db.transaction() as session:
                claimed = outbox.claim_due(session, now=at, worker=self.worker, lease=self.lease,
                                           limit=min(limit or self.round_limit, self.round_limit),
                                           per_channel=self.burst)
            if not claimed:
                break
            done, slack_down = self._send_round(claimed, now=now, started=started)
            report.add(done)
            if slack_down or (done.sent + done.dead + done.followed == 0):
                break
        return report

    def _at(self, now: datetime, started: float, ahead: float = 0.0) -> datetime:
        """`now` moved on by the real time elapsed since `started`, in whole seconds (a caller's `now`
        stays exact for the first second)."""
        return now + timedelta(seconds=int(self.monotonic() - started + ahead))

    # --- one round --------------------------------------------------------------------------------
    def _send_round(self, claimed: list[OutboxMessage], *, now: datetime, started: float) -> tuple[DeliveryReport, bool]:
        """Send a round, the channels interleaved: each channel's rows in order (best priority, then
        oldest: posts before their updates), each row when the channel's pace allows (asked of the
        database, which every sender shares), the channel whose next row may go soonest first. What
        cannot go within a third of the lease is handed back, due when its channel is free."""
        report = DeliveryReport()
        lanes: dict[Lane, deque[OutboxMessage]] = {}
        for message in sorted(claimed, key=lambda m: (m.priority, m.id)):
            lanes.setdefault(_lane(message), deque()).append(message)
        keys = list(lanes)  # heap entries name a lane by its index: (when, priority, id, index)
        start = self.clock()
        ready = [(start, rows[0].priority, rows[0].id, index) for index, rows in enumerate(lanes.values())]
        heapq.heapify(ready)
        renewed = self.monotonic()
        failures = 0
        while ready:
            if self.stopping or failures >= FAILURES_END_A_ROUND:
                report.handed_back += self._hand_back([m for rows in lanes.values() for m in rows])
                return report, failures >= FAILURES_END_A_ROUND
            when, _, _, index = ready[0]
            wait = when - self.clock()
            if wait > self.lease.total_seconds() / 3:  # the soonest is past this round: all go back
                for when, _, _, index in ready:
                    later = self._at(now, started, when - self.clock())
                    report.handed_back += self._hand_back(list(lanes[keys[index]]), not_before=later)
                return report, False
            if wait > 0:
                self.sleep(wait)
            heapq.heappop(ready)
            lane, rows = keys[index], lanes[keys[index]]
            if self.monotonic() - renewed > self.lease.total_seconds() / 3:
                self._renew(lanes, now=now, started=started)
                renewed = self.monotonic()
            if not rows:  # what was left of it was taken over
                continue
            taken, when = self.pacer.take(lane)
            if not taken:  # another sender took the slot: this lane waits its turn again
                heapq.heappush(ready, (when, rows[0].priority, rows[0].id, index))
                continue
            message = rows.popleft()
            outcome = self._send(message)
            at = self._at(now, started)
            with self.db.transaction() as session:
                status = self._decide(session, message, outcome, now=at)
                follow = self.on_result.get(message.method)
                if follow is not None and status in ("sent", "dead"):
                    follow(session, message, outcome.result if status == "sent" else None, now=at)
                    report.followed += 1
            report.count(status)
            metrics.sent(message, status, outcome.error, now=at)
            if outcome.rate_limited:
                when = self.pacer.hold(lane, outcome.retry_after.total_seconds())
            failures = failures + 1 if status == "retry" and outcome.counts_as_attempt else 0
            if rows:
                heapq.heappush(ready, (when, rows[0].priority, rows[0].id, index))
        return report, failures >= FAILURES_END_A_ROUND

    def _renew(self, lanes: "dict[Lane, deque[OutboxMessage]]", *, now: datetime, started: float) -> None:
        """Extend the claim on what is left of the round; drop what another sender took over."""
        rest = [m for rows in lanes.values() for m in rows]
        until = self._at(now, started) + self.lease
        with self.db.transaction() as session:
            held = outbox.renew(session, rest, worker=self.worker, until=until)
        lost = [m for m in rest if m.id not in held]
        if lost:
            log.warning("outbox: %d claims were taken over while this sender was slow; leaving them", len(lost))
            for rows in lanes.values():
                kept = [m for m in rows if m.id in held]
                rows.clear()
                rows.extend(kept)

    def _hand_back(self, messages: list[OutboxMessage], *, not_before: datetime | None = None) -> int:
        with self.db.transaction() as session:
            for message in messages:
                outbox.release(session, message, worker=self.worker, not_before=not_before)
        return len(messages)

    # --- the one place an outcome is decided ------------------------------------------------------
    def _decide(self, session, message: OutboxMessage, outcome: _Outcome, *, now: datetime) -> str:
        """Record what a send came to; returns the row's new state ("sent", "retry" or "dead")."""
        if outcome.status == "sent":
            outbox.mark_sent(session, message, worker=self.worker, now=now, channel=outcome.channel, ts=outcome.ts)
            return "sent"
        too_old = outcome.counts_as_attempt and now - message.created_at >= self.give_up_after
        too_many = outcome.max_attempts is not None and message.attempts + 1 >= outcome.max_attempts
        if outcome.status == "retry" and not too_old and not too_many:
            delay = outcome.retry_after or min(timedelta(seconds=2 ** min(message.attempts + 1, 16)), MAX_BACKOFF)
            log.warning("outbox %s: %s; retrying in %s", message.key, outcome.error, delay)
            outbox.mark_retry(session, message, worker=self.worker, retry_at=now + delay, error=outcome.error,
                              count_attempt=outcome.counts_as_attempt)
            return "retry"
        log.error("outbox %s: giving up after %d attempts: %s", message.key, message.attempts + 1, outcome.error)
        outbox.mark_dead(session, message, worker=self.worker, error=outcome.error)
        return "dead"

    def _send(self, message: OutboxMessage) -> _Outcome:
        try:
            args = self._resolve_refs(message)
            response = self._call(message, args)
        except _NotInstalled:
            return _Outcome("dead", "the app is not installed in the workspace")
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
            return _Outcome("retry", f"unexpected: {error!r}", max_attempts=MAX_ATTEMPTS_UNEXPECTED)
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

    # --- the one place a row's client is chosen ---------------------------------------------------
    def _client_for(self, message: OutboxMessage) -> "WebClient | GitHubApi":
        if message.method.startswith("github."):
            if self.github is None:
                raise GitHubApiError(0, "GITHUB_TOKEN is not set")
            return self.github
        client = self.client_for(message.workspace_id) if self.client_for else self.client
        if client is None:
            raise _NotInstalled()
        return client

    def _call(self, message: OutboxMessage, args: dict[str, Any]):
        client = self._client_for(message)
        method = message.method
        if isinstance(client, GitHubApi):
            return client.call(method, args)
        if method == outbox.FILE_UPLOAD:
            content = base64.b64decode(args.pop("content_base64"))
            if args.get("channel", "")[:1] in ("U", "W"):  # a file for a person goes to their DM
                args["channel"] = client.conversations_open(users=args["channel"])["channel"]["id"]
            return client.files_upload_v2(content=content, **args)
        return client.api_call(method, json=args)


def _lane(message: OutboxMessage) -> Lane:
    """What a row is paced by: its workspace's channel (GitHub's calls, and rows without a channel,
    are not paced)."""
    if message.method.startswith("github.") or not message.channel:
        return None
    return message.workspace_id, message.channel


def _as_update_target(args: dict[str, Any], channel: str, ts: str) -> None:
    args["channel"], args["ts"] = channel, ts


def _as_thread(args: dict[str, Any], channel: str, ts: str) -> None:
    args["channel"], args["thread_ts"] = channel, ts


def _classify(error: SlackApiError) -> _Outcome:
    status = error.response.status_code
    code = error.response.get("error") if isinstance(error.response.data, dict) else None
    if status == 429 or code == "ratelimited":
        headers = error.response.headers or {}
        raw = headers.get("Retry-After", headers.get("retry-after", 1))
        try:
            seconds = int(raw[0] if isinstance(raw, list) else raw)
        except (TypeError, ValueError):
            seconds = 1
        return _Outcome("retry", "rate limited", retry_after=timedelta(seconds=min(max(seconds, 1), 3600)),
                        counts_as_attempt=False, rate_limited=True)
    if code in AUTH:
        return _Outcome("dead", f"Slack refused our token: {code} (reinstall or grant the scope, then"
                                f" `qms-bot outbox retry`)")
    if code in PERMANENT or (400 <= status < 500 and status not in (408, 429)):
        return _Outcome("dead", f"Slack refused: {code or status}")
    if status >= 500 or status == 408 or code in TRANSIENT or not code:
        return _Outcome("retry", f"Slack answered {status} {code or ''}".strip())
    # A code we do not know (Slack adds new ones). It may be trouble that passes, so it is retried
    # with backoff; but most of Slack's codes name something about the request that no retry will
    # change, so after a few tries (minutes) the row is dead with the code, instead of retrying for a
    # day: the dead list (`qms-bot outbox list --dead`) is where someone sees it and can retry it.
    return _Outcome("retry", f"Slack answered {code}", max_attempts=MAX_ATTEMPTS_UNKNOWN)


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
