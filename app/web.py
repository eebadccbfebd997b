"""The HTTP face of the bot: Slack's requests, health checks, and (later) the CI ingestion API.

Slack's requests are verified here, before Bolt parses them: Bolt parses the body first and a
malformed one would otherwise surface as a 500. Forged or stale → 401; signed but malformed → 400.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs

from flask import Flask, Response, jsonify, request
from slack_bolt import App, BoltRequest
from slack_sdk.signature import SignatureVerifier
from werkzeug.exceptions import HTTPException

from app import api, clock, webhooks
from app.services import Runtime
from bot.core.timeutil import utcnow
from storage import runtime

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000


def create_web_app(bolt_app: App, services: Runtime, *, signing_secret: str) -> Flask:
    web = Flask("qms-bot")
    web.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    verifier = SignatureVerifier(signing_secret)

    @web.post("/slack/events")
    def slack_events() -> Response:
        try:
            body = request.get_data(cache=False).decode("utf-8")
        except UnicodeDecodeError:
            return _error(400, "body is not UTF-8")
        headers = {name.lower(): value for name, value in request.headers.items()}
        if parse_qs(body).get("ssl_check") == ["1"]:
            return Response("", 200)  # Slack's certificate check carries no signature
        if not verifier.is_valid_request(body, headers):
            return _error(401, "invalid or missing Slack signature")
        try:
            bolt_request = BoltRequest(body=body, query=request.query_string.decode(), headers=headers)
        except Exception as error:  # Bolt's body parser: bad JSON, a list instead of an object, ...
            log.warning("malformed Slack request: %s", error)
            return _error(400, "malformed body")
        bolt_response = bolt_app.dispatch(bolt_request)
        response = Response(bolt_response.body, bolt_response.status)
        for name, values in bolt_response.headers.items():
            for value in values:
                response.headers.add(name, value)
        return response

    @web.get("/healthz")
    def healthz() -> Response:
        if services.db.is_reachable():
            return jsonify(status="ok", database="ok")
        return _error(503, "database unreachable")

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


def _error(status: int, message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return response
