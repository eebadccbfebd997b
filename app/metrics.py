"""Prometheus metrics: GET /metrics on `serve` and on `clock` (its own port, CLOCK_METRICS_PORT).

Two kinds of series:
- what this process did, counted as it happens (prometheus_client counters and histograms): Slack
  requests by kind and listener and how long their acknowledgement took, outbox sends by method and
  outcome, the lag of escalation pings, each clock job's duration and failures, database errors;
- what the database holds, read at scrape time by `StateCollector` (a few aggregate queries, the same
  the digests use): the outbox's depth and oldest due row, each clock job's last run, and per team
  the open risks by band, open incidents by level, the review queue and utilization, the KPIs and
  their targets, and how late a due escalation is.

Several worker processes (`serve` under gunicorn) share their counters through prometheus_client's
multiprocess mode: PROMETHEUS_MULTIPROC_DIR must name an empty directory before prometheus_client is
imported (`prepare_multiprocess`), and a worker that exits is marked dead (`worker_exited`).

/metrics is not public: loopback may read it; anyone else needs `Authorization: Bearer $METRICS_TOKEN`.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import shutil
import tempfile
from datetime import UTC, datetime, timedelta

from flask import Blueprint, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event, func
from sqlmodel import select

from bot import digests, metrics as kpis
from bot.core.timeutil import utcnow
from bot.incidents import thresholds
from storage import incidents as incident_store
from storage import outbox, runtime
from storage import reviews as review_store
from storage import teams as team_store
from storage.db import Database

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
ACK_DEADLINE = 3.0  # Slack shows the user an error when a request is not acknowledged within 3 s
KPI_PERIOD = timedelta(days=7)  # the KPI gauges cover the last week, as the weekly digest does

# The process's own series. With PROMETHEUS_MULTIPROC_DIR set, their values live in files shared by
# the workers; `exposition` reads them back with MultiProcessCollector.
OWN = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("qms_slack_requests", "Slack requests handled, by kind and listener",
                   ["kind", "listener"], registry=OWN)
ACK_SECONDS = Histogram("qms_slack_ack_seconds", "Time from receiving a Slack request to acknowledging it",
                        ["kind", "listener"], registry=OWN,
                        buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0))
SLOW_ACKS = Counter("qms_slack_slow_acks", "Slack requests acknowledged after Slack's 3 s deadline",
                    ["kind", "listener"], registry=OWN)
SENDS = Counter("qms_outbox_sends", "Outbox rows sent to Slack or GitHub, by method and outcome "
                "(sent, retried, rate_limited, dead)", ["method", "outcome"], registry=OWN)
ESCALATION_LAG = Histogram("qms_escalation_ping_lag_seconds",
                           "From an escalation being queued to its ping being sent",
                           registry=OWN, buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800))
JOB_SECONDS = Histogram("qms_clock_job_duration_seconds", "How long each clock job's run took", ["job"],
                        registry=OWN, buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300))
JOB_FAILURES = Counter("qms_clock_job_failures", "Clock job runs that raised", ["job"], registry=OWN)
DB_ERRORS = Counter("qms_db_errors", "Database errors (SQLAlchemy), by exception class", ["error"], registry=OWN)

KINDS = {"event_callback": "event", "block_actions": "action", "view_submission": "view",
         "view_closed": "view_closed", "shortcut": "shortcut", "message_action": "shortcut",
         "block_suggestion": "options", "url_verification": "url_verification"}


# --- counting ---------------------------------------------------------------------------------------
def request_kind(body: dict) -> tuple[str, str]:
    """(kind, listener) of a Slack request's parsed body: ("command", "/qms"), ("action", "risk_close"),
    ("view", "risk_form"), ("event", "app_home_opened"). Unknown types are "other"."""
    if "command" in body:
        return "command", _label(body.get("command"))
    kind = KINDS.get(body.get("type"), "other")
    if kind == "action":
        actions = body.get("actions") or [{}]
        return kind, _label(actions[0].get("action_id") if isinstance(actions[0], dict) else None)
    if kind in ("view", "view_closed"):
        view = body.get("view") if isinstance(body.get("view"), dict) else {}
        return kind, _label(view.get("callback_id"))
    if kind == "event":
        inner = body.get("event") if isinstance(body.get("event"), dict) else {}
        return kind, _label(inner.get("type"))
    if kind in ("shortcut", "options"):
        return kind, _label(body.get("callback_id") or body.get("action_id"))
    return kind, ""


def _label(value) -> str:
    """A listener's name as a label: our own ids are short words; anything else is clipped."""
    return value[:64] if isinstance(value, str) else ""


def request_handled(kind: str, listener: str, seconds: float) -> None:
    REQUESTS.labels(kind, listener).inc()
    ACK_SECONDS.labels(kind, listener).observe(seconds)
    if seconds > ACK_DEADLINE:
        SLOW_ACKS.labels(kind, listener).inc()


def sent(message, status: str, error: str = "", *, now: datetime) -> None:
    """The sender decided an outbox row's outcome ("sent", "retry" or "dead")."""
    outcome = {"sent": "sent", "dead": "dead"}.get(status, "rate_limited" if error == "rate limited" else "retried")
    SENDS.labels(message.method, outcome).inc()
    if status == "sent" and message.key.startswith("escalation:"):
        ESCALATION_LAG.observe(max((now - message.created_at).total_seconds(), 0.0))


def job_ran(job_id: str, seconds: float, *, failed: bool = False) -> None:
    JOB_SECONDS.labels(job_id).observe(seconds)
    if failed:
        JOB_FAILURES.labels(job_id).inc()


def watch_database(db: Database) -> None:
    """Count the engine's errors (a lost connection, a timeout, a constraint broken by a bug)."""
    if getattr(db, "_metrics_watched", False):
        return
    event.listen(db.engine, "handle_error", lambda context: DB_ERRORS.labels(
        type(context.original_exception).__name__).inc())
    db._metrics_watched = True


# --- what the database holds, read at scrape time --------------------------------------------------
class StateCollector(Collector):
    def __init__(self, db: Database, *, now: datetime | None = None):
        self.db, self.now = db, now

    def collect(self):
        now = self.now or utcnow()
        try:
            with self.db.transaction() as session:
                families = self._outbox(session, now) + self._clock(session) + self._teams(session, now)
        except Exception as error:  # an unreachable database is a figure, not a failed scrape
            log.warning("metrics: reading the database failed: %s", error)
            up = GaugeMetricFamily("qms_database_up", "1 when the database answered this scrape")
            up.add_metric([], 0)
            return [up]
        up = GaugeMetricFamily("qms_database_up", "1 when the database answered this scrape")
        up.add_metric([], 1)
        return [up, *families]

    def _outbox(self, session, now: datetime):
        depth = GaugeMetricFamily("qms_outbox_messages", "Outbox rows by status", labels=["status"])
        counts = outbox.counts_by_status(session)
        for status in sorted({outbox.PENDING, outbox.SENT, outbox.DEAD} | set(counts)):
            depth.add_metric([status], counts.get(status, 0))
        due = GaugeMetricFamily("qms_outbox_due", "Pending outbox rows whose time has come")
        oldest = GaugeMetricFamily("qms_outbox_oldest_due_age_seconds",
                                   "How long the oldest due, unsent outbox row has waited (0: none)")
        count, first = session.exec(select(func.count(), func.min(outbox.OutboxMessage.not_before)).where(
            outbox.OutboxMessage.status == outbox.PENDING, outbox.OutboxMessage.not_before <= now)).one()
        due.add_metric([], count)
        oldest.add_metric([], max((now - _aware(first)).total_seconds(), 0.0) if first else 0.0)
        return [depth, due, oldest]

    def _clock(self, session):
        last = GaugeMetricFamily("qms_clock_job_last_run_timestamp_seconds",
                                 "When each clock job last finished a run (any clock process)", labels=["job"])
        for beat in runtime.heartbeats(session):
            last.add_metric([beat.job_id], _aware(beat.last_run_at).timestamp())
        return [last]

    def _teams(self, session, now: datetime):
        labels = ["workspace", "team"]
        risks = GaugeMetricFamily("qms_open_risks", "Open risks by band", labels=labels + ["band"])
        incidents = GaugeMetricFamily("qms_open_incidents", "Open incidents by escalation level",
                                      labels=labels + ["level"])
        queue = GaugeMetricFamily("qms_review_queue", "Open review requests", labels=labels)
        stalled = GaugeMetricFamily("qms_reviews_stalled", "Open review requests past the review-time target",
                                    labels=labels)
        utilization = GaugeMetricFamily("qms_review_utilization_ratio",
                                        "The team's open reviews over its capacity, last 7 days", labels=labels)
        kpi_value = GaugeMetricFamily("qms_kpi_value", "Each KPI over the last 7 days", labels=labels + ["kpi"])
        kpi_target = GaugeMetricFamily("qms_kpi_target", "Each KPI's target", labels=labels + ["kpi"])
        kpi_met = GaugeMetricFamily("qms_kpi_met", "1 when the KPI meets its target, 0 when not",
                                    labels=labels + ["kpi"])
        late = GaugeMetricFamily("qms_escalation_late_seconds",
                                 "How long the most overdue escalation of the team has been due (0: none)",
                                 labels=labels)
        bounds = kpis.recent_bounds(now, KPI_PERIOD)
        for team in team_store.all_teams(session):
            names = [team.workspace_id, team.name]
            report, sections = digests.figures(session, team, bounds, now=now)
            if sections.get("risks") is not None:
                for band, count in sections["risks"].by_band.items():
                    risks.add_metric(names + [band], count)
            if sections.get("incidents") is not None:
                for level in (1, 2, 3):
                    incidents.add_metric(names + [str(level)], sections["incidents"].open_by_level.get(level, 0))
            section = sections.get("reviews")
            queue.add_metric(names, len(review_store.active_requests(session, team.workspace_id, team.id)))
            if section is not None:
                stalled.add_metric(names, section.stalled)
                if section.team_utilization is not None:
                    utilization.add_metric(names, section.team_utilization / 100)
            for figure in report.figures:
                kpi_target.add_metric(names + [figure.kpi.key], figure.target)
                if figure.value is not None:
                    kpi_value.add_metric(names + [figure.kpi.key], figure.value)
                    kpi_met.add_metric(names + [figure.kpi.key], 1 if figure.met else 0)
            late.add_metric(names, _escalation_late(session, team, now))
        return [risks, incidents, queue, stalled, utilization, kpi_value, kpi_target, kpi_met, late]


def _escalation_late(session, team, now: datetime) -> float:
    worst = 0.0
    for incident in incident_store.open_incidents(session, team.workspace_id, team.id):
        rules = thresholds(team, incident.severity)
        if rules.due_level(_aware(incident.declared_at), now) > incident.level:
            due_at = _aware(incident.declared_at) + rules.at(incident.level + 1)
            worst = max(worst, (now - due_at).total_seconds())
    return worst


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- the exposition ---------------------------------------------------------------------------------
def exposition(db: Database, *, now: datetime | None = None) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Own())
    registry.register(StateCollector(db, now=now))
    return generate_latest(registry)


class _Own(Collector):
    def collect(self):
        return OWN.collect()


def allowed(remote_addr: str | None, authorization: str | None, token: str | None) -> bool:
    """Loopback may read /metrics; anyone else must bring the bearer token (none set: nobody else)."""
    try:
        if remote_addr and ipaddress.ip_address(remote_addr.split("%")[0]).is_loopback:
            return True
    except ValueError:
        pass
    if not token or not authorization or not authorization.startswith("Bearer "):
        return False
    return hmac.compare_digest(authorization[len("Bearer "):].strip().encode(), token.encode())


def blueprint(db: Database, token: str | None) -> Blueprint:
    metrics = Blueprint("metrics", __name__)

    @metrics.get("/metrics")
    def scrape() -> Response:
        if not allowed(request.remote_addr, request.headers.get("Authorization"), token):
            response = Response('{"error": "metrics need a bearer token"}\n', 401, mimetype="application/json")
            response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        return Response(exposition(db), 200, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return metrics


# --- several processes -------------------------------------------------------------------------------
def prepare_multiprocess() -> str:
    """A fresh, empty directory for this run's worker files, set as PROMETHEUS_MULTIPROC_DIR. Call it
    in the parent before the workers start (the files of an earlier run would count twice)."""
    path = tempfile.mkdtemp(prefix="qms-prometheus-")
    os.environ[MULTIPROC_ENV] = path
    return path


def worker_exited(pid: int) -> None:
    """gunicorn's child_exit: drop a dead worker's live gauges (its counters still count)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def cleanup_multiprocess(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)
