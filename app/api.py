"""The CI ingestion API: quality-gate results and defects, posted by a team's pipeline.

    POST /api/v1/gates     [{"gate": "unit", "result": "pass", ...}, ...]  or one object
    POST /api/v1/defects   [{"found": "production", ...}, ...]             or one object
    Authorization: Bearer qms_…   (a team's token from `/qms setup token`)

A batch is stored whole or not at all: any problem answers 4xx with a JSON error naming it (the
record's index and field), and nothing is stored. A record with an `id` already stored for the team
is skipped, so a pipeline may retry a post safely; a gate that did not run (CI's "skipped",
"cancelled") is left out and counted as `not_run`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from bot.core.timeutil import utcnow
from bot.metrics import RECORD_KINDS, BatchProblems, Kind, Problem, parse_batch, token_owner
from handlers.core.deps import Services
from storage import audit

PROBLEMS_SHOWN = 20


def blueprint(services: Services) -> Blueprint:
    api = Blueprint("api", __name__, url_prefix="/api/v1")

    @api.post("/<name>")
    def ingest(name: str) -> Response:
        kind = RECORD_KINDS.get(name)
        if kind is None:
            return _error(404, Problem("unknown_endpoint", name=name[:40]))
        return _ingest(services, kind)

    return api


def _ingest(services: Services, kind: Kind) -> Response:
    """Authenticate, then validate the whole batch, then store it with its audit in one transaction."""
    token = _bearer(request.headers.get("Authorization", ""))
    if token is None:
        return _error(401, Problem("no_token"))
    now = utcnow()
    with services.db.transaction() as session:
        if token_owner(session, token) is None:
            return _error(401, Problem("unknown_token"))
    try:
        rows, not_run = parse_batch(request.get_data(cache=False), kind, now)
    except Problem as problem:
        return _error(413 if problem.key == "too_many" else 400, problem)
    except BatchProblems as batch:
        return _error(422, batch.problems[0], batch.problems)
    with services.db.transaction() as session:
        owner = token_owner(session, token, used_at=now)
        if owner is None:  # revoked while we were reading the body
            return _error(401, Problem("unknown_token"))
        token_row, team = owner
        for row in rows:
            row.update(workspace_id=team.workspace_id, team_id=team.id)
        stored = kind.store(session, rows)
        counts = {"stored": stored, "duplicates": len(rows) - stored, "not_run": not_run}
        audit.record(session, workspace_id=team.workspace_id, actor_id=f"ci:{token_row.prefix}",
                     entity_type=kind.name, entity_id=team.id, action="ingested", at=now, after=counts)
    return _answer(201, {**counts, "team": team.name})


def _bearer(header: str) -> str | None:
    scheme, _, token = header.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _error(status: int, problem: Problem, problems: list[Problem] | None = None) -> Response:
    body: dict[str, Any] = {"error": problem.describe()["message"]}
    if problems:
        body["problems"] = [p.describe() for p in problems[:PROBLEMS_SHOWN]]
        body["problem_count"] = len(problems)
    response = _answer(status, body)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="qms-bot"'
    return response


def _answer(status: int, body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response
