"""The HTTP face of the bot: Slack's requests, health checks, and (later) the CI ingestion API.

Slack's requests are verified here, before Bolt parses them: Bolt parses the body first and a
malformed one would otherwise surface as a 500. Forged or stale → 401; signed but malformed → 400.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import parse_qs

from flask import Flask, Response, jsonify, request
from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier
from werkzeug.exceptions import HTTPException

import time

from app import api, clock, dashboard, guard, metrics, webhooks
from app.bolt import EarlyAck, acking_early, polite_answer
from app.services import Runtime
from bot.core.timeutil import utcnow
from storage import runtime

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
ANSWER_WITHIN = 2.5  # seconds a Slack request may take before the person is told what is wrong
HEALTH_WITHIN = 1.5  # seconds /healthz waits for the database before it answers 503
PROBE_WITHIN = 0.3


def create_web_app(bolt_app: App, services: Runtime, *, signing_secret: str) -> Flask:
    web = Flask("qms-bot")
    web.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    verifier = SignatureVerifier(signing_secret)
    dispatcher = ThreadPoolExecutor(max_workers=32, thread_name_prefix="slack-request")
    # Commands, buttons and forms: the listener runs in a thread of Bolt's listener pool (so that
    # waiting for the listeners to finish still covers it) and the answer goes out at its ack().
    early_app, early_pool = acking_early(bolt_app), bolt_app.listener_runner.listener_executor
    checker = ThreadPoolExecutor(max_workers=4, thread_name_prefix="db-probe")

    @web.post("/slack/events")
    def slack_events() -> Response:
        try:
            body = request.get_data(cache=False).decode("utf-8")
        except UnicodeDecodeError:
            return _error(400, "body is not UTF-8")
        headers = {name.lower(): value for name, value in request.headers.items()}
        if "ssl_check" in body and parse_qs(body).get("ssl_check") == ["1"]:  # parsed only when it may be one
            return Response("", 200)  # Slack's certificate check carries no signature
        if not verifier.is_valid_request(body, headers):
            return _error(401, "invalid or missing Slack signature")
        try:
            guard.check(body, request.content_type or "")
        except guard.Malformed as error:
            log.warning("malformed Slack request: %s", error)
            return _error(400, "malformed body")
        try:
            bolt_request = BoltRequest(body=body, query=request.query_string.decode(), headers=headers)
        except Exception as error:  # Bolt's body parser: bad JSON, a list instead of an object, ...
            log.warning("malformed Slack request: %s", error)
            return _error(400, "malformed body")
        # Slack waits 3 s for an answer. A database gone silent must not hold the person up: past
        # ANSWER_WITHIN, they are told what is wrong while the listener finishes (or times out) behind.
        started = time.monotonic()
        try:
            if bolt_request.body.get("type") == "event_callback":  # acknowledged before its listener runs
                bolt_response = dispatcher.submit(_dispatch, bolt_app, bolt_request).result(timeout=ANSWER_WITHIN)
            else:
                bolt_response = _dispatch_early(early_app, early_pool, bolt_request, ANSWER_WITHIN)
        except FutureTimeout:
            log.warning("a Slack request took longer than %.1f s; answered without waiting", ANSWER_WITHIN)
            database_ok = _ready_within(services, checker, PROBE_WITHIN)
            answer = polite_answer(bolt_request.body, "common.something_failed" if database_ok
                                   else "common.database_unreachable")
            metrics.request_handled(*metrics.request_kind(bolt_request.body), time.monotonic() - started)
            return Response(json.dumps(answer) if answer else "", 200, content_type="application/json")
        metrics.request_handled(*metrics.request_kind(bolt_request.body), time.monotonic() - started)
        response = Response(bolt_response.body, bolt_response.status)
        for name, values in bolt_response.headers.items():
            for value in values:
                response.headers.add(name, value)
        return response

    if bolt_app.oauth_flow is not None:  # OAuth mode: install from Slack into any number of workspaces
        flow = bolt_app.oauth_flow

        @web.get(flow.install_path)
        def slack_install() -> Response:
            return _flask_response(flow.handle_installation(_get_request()))

        @web.get(flow.redirect_uri_path)
        def slack_oauth_redirect() -> Response:
            return _flask_response(flow.handle_callback(_get_request()))

    @web.get("/healthz")
    def healthz() -> Response:
        if _ready_within(services, checker, HEALTH_WITHIN):
            return jsonify(status="ok", database="ok")
        return _error(503, "database unreachable or not migrated")

    @web.get("/healthz/clock")
    def clock_health() -> Response:
        with services.db.transaction() as session:
            last_runs = {beat.job_id: beat.last_run_at for beat in runtime.heartbeats(session)}
        if not last_runs:
            return _error(503, "the clock has never run")
        now = utcnow()
        last = max(last_runs.values())
        stale = clock.stale_jobs(last_runs, now=now)
        body = {"last_sweep_at": last.isoformat(), "age_seconds": int((now - last).total_seconds()),
                "stale_jobs": stale}
        if stale:
            return jsonify(status="stale", **body), 503
        return jsonify(status="ok", **body)

    web.register_blueprint(api.blueprint(services))  # POST /api/v1/gates, /api/v1/defects (CI)
    web.register_blueprint(webhooks.blueprint(services))  # POST /webhooks/github, /webhooks/gitlab
    web.register_blueprint(metrics.blueprint(services.db, services.settings.metrics_token))  # GET /metrics
    web.register_blueprint(dashboard.blueprint(services))  # /dashboard: the web pages (app/dashboard.py)

    @web.errorhandler(413)
    def too_large(_error_) -> Response:
        return _error(413, "body too large")

    @web.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        """Every answer under /api/ is JSON, a wrong method (405) or path (404) included."""
        if not request.path.startswith("/api/"):
            return error
        response = error.get_response()
        response.set_data(json.dumps({"error": (error.name or "error").lower()}, sort_keys=True) + "\n")
        response.mimetype = "application/json"
        return response

    return web


def _dispatch(bolt_app: App, bolt_request: BoltRequest) -> BoltResponse:
    """Bolt's dispatch; Bolt's own payload checks raising on a shape the guard let through is still
    the sender's fault (400), not ours."""
    try:
        return bolt_app.dispatch(bolt_request)
    except (KeyError, IndexError, TypeError, AttributeError) as error:
        log.warning("malformed Slack request (Bolt could not read it): %r", error)
        return BoltResponse(status=400, body='{"error": "malformed body"}')


def _dispatch_early(early_app: App, pool, bolt_request: BoltRequest, within: float) -> BoltResponse:
    """The answer as soon as the listener calls ack() (it goes on behind), or Bolt's own answer when
    the request ends without one (a refusal, a middleware's answer, an error before the ack)."""
    ack = EarlyAck()
    bolt_request.context["ack"] = ack
    work = pool.submit(_dispatch, early_app, bolt_request)
    work.add_done_callback(lambda _: ack.called.set())
    if not ack.called.wait(timeout=within):
        raise FutureTimeout()
    if ack.answer is not None:
        return ack.answer
    return work.result(timeout=0)


def _ready_within(services: Runtime, checker: ThreadPoolExecutor, seconds: float) -> bool:
    """Whether the database answers, with its schema, within `seconds` (a silent one does not)."""
    try:
        return checker.submit(services.db.is_ready).result(timeout=seconds)
    except FutureTimeout:
        return False


def _get_request() -> BoltRequest:
    headers = {name.lower(): value for name, value in request.headers.items()}
    return BoltRequest(body="", query=request.query_string.decode(), headers=headers)


def _flask_response(bolt_response) -> Response:
    response = Response(bolt_response.body, bolt_response.status)
    for name, values in bolt_response.headers.items():
        for value in values:
            response.headers.add(name, value)
    return response


def _error(status: int, message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return response
