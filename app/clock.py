"""The clock process: APScheduler only triggers; every decision is made by the domain at `now`.

Each job has an explicit id, coalesce=True, max_instances=1, a misfire grace and a timezone.
Job state lives in our tables (outbox keys, compare-and-set columns), never in a job store, so
any number of clock processes can run against one database and a restarted one catches up at
its first sweep, which runs at start-up.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

import waitress
from waitress import wasyncore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from app import metrics, workspaces
from app.services import Runtime
from bot import digests, incidents, pull_requests, reviews, risks
from bot.core.timeutil import utcnow
from bot.teams import notices
from storage import runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    id: str
    run: Callable[[Runtime, datetime], object]
    every: timedelta
    phase: timedelta = timedelta(0)  # its ticks fall this long after the others' (after the start-up run)


class PhasedInterval(IntervalTrigger):
    """An interval whose ticks keep to start_date's phase: APScheduler's own reckons each tick from
    the previous run, so the start-up run (at `start`) would pull a job's ticks back to `start`'s."""

    def get_next_fire_time(self, previous_fire_time, now):
        if previous_fire_time is None:
            return super().get_next_fire_time(previous_fire_time, now)
        ticks = math.floor((previous_fire_time.timestamp() - self.start_date.timestamp()) / self.interval_length)
        return datetime.fromtimestamp(self.start_date.timestamp() + self.interval_length * (ticks + 1),
                                      tz=self.timezone)


# One delivery at a time in a clock process: the jobs of a sweep run side by side and each sends
# what it queued; were they to send at once, a crash (kill -9) could catch several messages in
# flight, each of which would go twice. One at a time, only the one in flight can.
_delivering = threading.Lock()


def deliver(services: Runtime, now: datetime) -> None:
    """Send what is due, once no other job of this process is sending; `now` is moved on by the wait."""
    waited = time.monotonic()
    with _delivering:
        services.sender.deliver_due(now=now + timedelta(seconds=time.monotonic() - waited))


def _deliver_outbox(services: Runtime, now: datetime) -> None:
    deliver(services, now)


def _forget_old_events(services: Runtime, now: datetime) -> None:
    with services.db.transaction() as session:
        runtime.forget_events_before(session, now - runtime.event_retention())
        pull_requests.forget_old_deliveries(session, now=now)  # webhook deliveries: a week's IDs


# The job registry: each domain's scheduled work, in one list. Later issues add their sweeps
# here (escalations, review nudges, digests); the outbox job sends what they queue.
JOBS: list[Job] = [
    Job("outbox.deliver", _deliver_outbox, timedelta(seconds=5)),  # each run sends until nothing is due
    Job("events.forget", _forget_old_events, timedelta(hours=1)),
    Job("incidents.escalate", lambda services, now: incidents.sweep(services.db, now=now), timedelta(minutes=1)),
    Job("incidents.review_reminders", lambda services, now: incidents.remind_reviews(services.db, now=now),
        timedelta(minutes=5)),
    Job("risks.review_reminders", lambda services, now: risks.remind_due_reviews(services.db, now=now),
        timedelta(minutes=10)),
    Job("reviews.sweep", lambda services, now: reviews.sweep(services.db, now=now), timedelta(minutes=1)),
    # half a minute after incidents.escalate: with the sweep it makes first, escalations are looked at
    # every 30 s, and a ping goes out within 30 s of falling due (bench/escalation_lag.py)
    Job("digests.post", lambda services, now: _summarise(services, now), timedelta(minutes=1),
        phase=timedelta(seconds=30)),
    Job("reminders.release", lambda services, now: _release_reminders(services, now), timedelta(minutes=1)),
    Job("workspaces.purge", lambda services, now: workspaces.purge_expired(
        services.db, now=now, grace=timedelta(days=services.settings.uninstall_grace_days)), timedelta(hours=1)),
]


def _release_reminders(services: Runtime, now: datetime) -> None:
    """Reminders whose snooze or whose person's quiet hours ended (each sweep releases its own too)."""
    with services.db.transaction() as session:
        notices.release_held(session, now=now)


def _summarise(services: Runtime, now: datetime) -> None:
    """Escalate what is due before a digest summarises it: a digest never shows an incident at a
    level it is about to leave (the jobs of a start-up sweep run side by side)."""
    incidents.sweep(services.db, now=now)
    digests.post_due(services.db, now=now)


STALE_AFTER = timedelta(minutes=5)  # the dead-man's switch: no sweep of a minutely job for 5 minutes


def stale_jobs(last_runs: dict[str, datetime], *, now: datetime, jobs: list[Job] | None = None) -> list[str]:
    """The jobs that have not run for longer than they should: 5 minutes, or three of their own
    intervals for the slow ones. A job that fails every time records no run, so it shows here
    even while the other jobs keep the clock looking alive."""
    stale = []
    for job in jobs or JOBS:
        allowed = max(STALE_AFTER, 3 * job.every)
        last = last_runs.get(job.id)
        if last is None or now - last > allowed:
            stale.append(job.id)
    return stale


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_job(services: Runtime, job: Job, *, now: datetime) -> None:
    """Run one job at `now`, then record the sweep (the heartbeat /healthz/clock watches)."""
    started = time.monotonic()
    try:
        job.run(services, now)
    except Exception:
        metrics.job_ran(job.id, time.monotonic() - started, failed=True)
        raise
    metrics.job_ran(job.id, time.monotonic() - started)
    if job.id != "outbox.deliver":
        # Send what the sweep queued without waiting. A long sweep makes `now` stale, and the
        # outbox leases are reckoned from it: deliver at the time it is by now.
        deliver(services, now + timedelta(seconds=time.monotonic() - started))
    with services.db.transaction() as session:
        runtime.beat(session, job.id, now=now, worker=worker_name())


def sweep(services: Runtime, *, now: datetime, jobs: list[Job] | None = None) -> None:
    """Run every job once at `now`: what a clock does at start-up to catch up."""
    for job in jobs or JOBS:
        run_job(services, job, now=now)


RETRY_FIRST = 1.0  # seconds: a failed job is retried after this, then twice as long each time ...
RETRY_MOST = 60.0  # ... up to this (or its own interval, when that is shorter)


class Backoff:
    """A job that failed (the database away, say) runs again sooner than its next tick: after 1 s,
    then 2, 4, 8 … up to its own interval or a minute. So a clock through a database outage keeps
    trying without hammering, and catches up within seconds of the database coming back; a job with
    a long interval (hourly) does not wait an hour."""

    def __init__(self) -> None:
        self.scheduler: BackgroundScheduler | None = None
        self.failures: dict[str, int] = {}
        self._lock = threading.Lock()

    def failed(self, job: Job, error: BaseException) -> float:
        with self._lock:
            failures = self.failures[job.id] = self.failures.get(job.id, 0) + 1
        delay = min(RETRY_FIRST * 2 ** (failures - 1), RETRY_MOST, job.every.total_seconds())
        if _database_trouble(error):  # a line, not a traceback, every few seconds of an outage
            log.warning("clock job %s failed (the database: %s); retrying in %.0f s (failure %d)", job.id,
                        _first_line(error), delay, failures)
        else:
            log.error("clock job %s failed; retrying in %.0f s (failure %d)", job.id, delay, failures,
                      exc_info=error)
        scheduler = self.scheduler
        if scheduler is not None:
            try:
                scheduled = scheduler.get_job(job.id)
                retry_at = datetime.now(scheduler.timezone) + timedelta(seconds=delay)
                if scheduled is not None and (scheduled.next_run_time is None or retry_at < scheduled.next_run_time):
                    scheduled.modify(next_run_time=retry_at)
            except Exception:  # shutting down, or the job is gone: its next tick will do
                log.debug("could not bring clock job %s forward", job.id, exc_info=True)
        return delay

    def succeeded(self, job: Job) -> None:
        with self._lock:
            failures = self.failures.pop(job.id, 0)
        if failures:
            log.info("clock job %s ran again after %d failure%s", job.id, failures, "" if failures == 1 else "s")


def _database_trouble(error: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError, TimeoutError as PoolTimeout

    return isinstance(error, (DBAPIError, PoolTimeout))


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


def _timed(services: Runtime, job: Job, backoff: Backoff | None = None) -> None:
    try:
        run_job(services, job, now=utcnow())
    except Exception as error:
        if backoff is None:
            log.exception("clock job %s failed; it runs again at its next tick", job.id)
        else:
            backoff.failed(job, error)
        return
    if backoff is not None:
        backoff.succeeded(job)


def build_scheduler(services: Runtime, *, jobs: list[Job] | None = None) -> BackgroundScheduler:
    timezone = services.settings.timezone
    scheduler = BackgroundScheduler(timezone=timezone)
    backoff = Backoff()
    backoff.scheduler = scheduler
    start = datetime.now(timezone)
    for job in jobs or JOBS:
        scheduler.add_job(
            _timed,
            PhasedInterval(seconds=int(job.every.total_seconds()), start_date=start + job.phase, timezone=timezone),
            args=(services, job, backoff),
            id=job.id,
            name=job.id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(int(job.every.total_seconds() // 2), 1),
            next_run_time=start,  # a sweep at start-up catches up on what came due while down
            replace_existing=True,
        )
    return scheduler


def run(services: Runtime) -> None:
    """Run until SIGTERM or SIGINT, then let running jobs finish."""
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    # Block the stop signals before any thread starts (threads inherit the mask), then wait for one
    # with sigwait: no signal handler runs, so none can deadlock on a lock the main thread holds.
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)  # no line per tick
    scheduler = build_scheduler(services)
    scheduler.start()
    metrics_server = serve_metrics(services)
    log.info("clock: started with jobs %s", ", ".join(job.id for job in JOBS))
    received = signal.sigwait(stop_signals)
    log.info("clock: %s received, stopping after the running jobs finish", signal.Signals(received).name)
    scheduler.shutdown(wait=True)
    if metrics_server is not None:
        metrics_server.close()
    log.info("clock: stopped")


def serve_metrics(services: Runtime, *, host: str = "0.0.0.0"):
    """GET /metrics on CLOCK_METRICS_PORT, on a thread of its own (None when the port is 0)."""
    port = services.settings.clock_metrics_port
    if not port:
        return None
    web = Flask("qms-bot-clock")
    web.register_blueprint(metrics.blueprint(services.db, services.settings.metrics_token))
    server = MetricsServer(waitress.create_server(web, host=host, port=port, threads=2, ident="qms-bot-clock"))
    log.info("clock: metrics on http://%s:%d/metrics", host, port)
    return server


class MetricsServer:
    """waitress on a thread of its own, closed from its own loop (so the loop ends without a race)."""

    def __init__(self, server):
        self.server = server
        self.thread = threading.Thread(target=server.run, name="metrics", daemon=True)
        self.thread.start()

    def close(self) -> None:
        try:
            self.server.trigger.pull_trigger(lambda: wasyncore.close_all(self.server._map))
        except OSError:  # the trigger is closed already: the loop is ending
            wasyncore.close_all(self.server._map)
        self.thread.join(timeout=5)
        self.server.task_dispatcher.shutdown()
