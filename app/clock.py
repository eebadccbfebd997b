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


def _deliver_outbox(services: Runtime, now: datetime) -> None:
    services.sender.deliver_due(now=now)


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
    Job("workspaces.purge", lambda services, now: workspaces.purge_expired(
        services.db, now=now, grace=timedelta(days=services.settings.uninstall_grace_days)), timedelta(hours=1)),
]


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
        services.sender.deliver_due(now=now + timedelta(seconds=time.monotonic() - started))
    with services.db.transaction() as session:
        runtime.beat(session, job.id, now=now, worker=worker_name())


def sweep(services: Runtime, *, now: datetime, jobs: list[Job] | None = None) -> None:
    """Run every job once at `now`: what a clock does at start-up to catch up."""
    for job in jobs or JOBS:
        run_job(services, job, now=now)


def _timed(services: Runtime, job: Job) -> None:
    try:
        run_job(services, job, now=utcnow())
    except Exception:
        log.exception("clock job %s failed; it runs again at its next tick", job.id)


def build_scheduler(services: Runtime, *, jobs: list[Job] | None = None) -> BackgroundScheduler:
    timezone = services.settings.timezone
    scheduler = BackgroundScheduler(timezone=timezone)
    start = datetime.now(timezone)
    for job in jobs or JOBS:
        scheduler.add_job(
            _timed,
            PhasedInterval(seconds=int(job.every.total_seconds()), start_date=start + job.phase, timezone=timezone),
            args=(services, job),
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
