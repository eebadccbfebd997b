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
import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

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


class _RefNotYetKnown(Exception):
    """The message this row updates or threads under has not been posted yet."""


class _RefGaveUp(Exception):
    """The message this row updates or threads under will never be posted: it is dead."""


class _Superseded(Exception):
    """A newer update of the same message has already been sent."""


class OutboxSender:
    def __init__(self, db: Database, client: WebClient, *, worker: str | None = None, lease: timedelta = LEASE,
                 monotonic=time.monotonic):
        self.db = db
        self.client = client
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.lease = lease
        self.monotonic = monotonic  # real elapsed time, whatever `now` the caller passes

    def deliver_due(self, *, now: datetime, limit: int = 50) -> DeliveryReport:
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
            report.count(outcome.status)
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
            response = self._call(message.method, args)
        except _RefNotYetKnown as missing:
            return _Outcome("retry", f"waiting for {missing}", retry_after=WAIT_FOR_REF, counts_as_attempt=False)
        except _RefGaveUp as dead:
            return _Outcome("dead", f"{dead} was never posted")
        except _Superseded:
            return _Outcome("sent", error="superseded by a newer update")
        except SlackApiError as error:
            return _classify(error)
        except (URLError, SlackRequestError, OSError) as error:
            return _Outcome("retry", f"network: {error}")
        except Exception as error:  # a bug or a malformed row: retried a few times, then dead, never stuck
            log.exception("outbox %s: unexpected error", message.key)
            return _Outcome("retry", f"unexpected: {error!r}")
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

    def _call(self, method: str, args: dict[str, Any]):
        if method == outbox.FILE_UPLOAD:
            content = base64.b64decode(args.pop("content_base64"))
            if args.get("channel", "")[:1] in ("U", "W"):  # a file for a person goes to their DM
                args["channel"] = self.client.conversations_open(users=args["channel"])["channel"]["id"]
            return self.client.files_upload_v2(content=content, **args)
        return self.client.api_call(method, json=args)


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
