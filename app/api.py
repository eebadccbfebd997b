"""The CI ingestion API: quality-gate results and defects, posted by a team's pipeline.

    POST /api/v1/gates     [{"gate": "unit", "result": "pass", ...}, ...]  or one object
    POST /api/v1/defects   [{"found": "production", ...}, ...]             or one object
    Authorization: Bearer qms_…   (a team's token from `/qms setup token`)

A batch is stored whole or not at all: any problem answers 4xx with a JSON error naming it (the
record's index and field), and nothing is stored. A record with an `id` already stored for the team
is skipped, so a pipeline may retry a post safely; a gate that did not run (CI's "skipped",
"cancelled") is left out and counted as `not_run`. A batch sent with an `Idempotency-Key` header is
stored once however often it is retried within a day: a retry gets the first answer again, with
`Idempotent-Replayed: true` (bot/metrics/ci.py).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, request

from bot.core.timeutil import utcnow
from bot.metrics import (RECORD_KINDS, Answer, BatchProblems, Kind, Problem, answered_before, batch_fingerprint,
                         claim_key, idempotency_key, keep_answer, parse_batch, token_owner)
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
    """Authenticate, then validate the whole batch, then store it with its audit (and its
    Idempotency-Key, if it has one) in one transaction."""
    token = _bearer(request.headers.get("Authorization", ""))
    if token is None:
        return _error(401, Problem("no_token"))
    now = utcnow()
    body = request.get_data(cache=False)
    try:
        key = idempotency_key(request.headers.get("Idempotency-Key"))
    except Problem as problem:
        return _error(400, problem)
    fingerprint = batch_fingerprint(kind, body)
    with services.db.transaction() as session:
        owner = token_owner(session, token)
        if owner is None:
            return _error(401, Problem("unknown_token"))
        try:
            before = answered_before(session, owner[1], key, fingerprint, now=now) if key else None
        except Problem as problem:
            return _error(422, problem)
    if before is not None:
        return _answered(before)
    try:
        rows, not_run = parse_batch(body, kind, now)
    except Problem as problem:
        return _error(413 if problem.key == "too_many" else 400, problem)
    except BatchProblems as batch:
        return _error(422, batch.problems[0], batch.problems)
    try:
        return _answered(_store(services, kind, token, key, fingerprint, rows, not_run, now=now))
    except Problem as problem:  # a retry that overtook the original, with another batch under its key
        return _error(422 if problem.key == "key_reused" else 401, problem)


def _store(services: Services, kind: Kind, token: str, key: str | None, fingerprint: str,
           rows: list[dict[str, Any]], not_run: int, *, now) -> Answer:
    with services.db.transaction() as session:
        owner = token_owner(session, token, used_at=now)
        if owner is None:  # revoked while we were reading the body
            raise Problem("unknown_token")
        token_row, team = owner
        if key is not None and (earlier := claim_key(session, team, key, fingerprint, now=now)) is not None:
            return earlier  # stored by a post with this key that got here first: nothing is stored twice
        for row in rows:
            row.update(workspace_id=team.workspace_id, team_id=team.id)
        stored = kind.store(session, rows)
        counts = {"stored": stored, "duplicates": len(rows) - stored, "not_run": not_run}
        audit.record(session, workspace_id=team.workspace_id, actor_id=f"ci:{token_row.prefix}",
                     entity_type=kind.name, entity_id=team.id, action="ingested", at=now, after=counts)
        answer = Answer(201, _json({**counts, "team": team.name}))
        if key is not None:
            keep_answer(session, team, key, answer)
    return answer


def _bearer(header: str) -> str | None:
    scheme, _, token = header.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _error(status: int, problem: Problem, problems: list[Problem] | None = None) -> Response:
    body: dict[str, Any] = {"error": problem.describe()["message"]}
    if problems:
        body["problems"] = [p.describe() for p in problems[:PROBLEMS_SHOWN]]
        body["problem_count"] = len(problems)
    response = _answered(Answer(status, _json(body)))
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="qms-bot"'
    return response


def _answered(answer: Answer) -> Response:
    response = Response(answer.body, answer.status, mimetype="application/json")
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _json(body: dict[str, Any]) -> str:
    """JSON as the API has always written it (Flask's jsonify: sorted keys, compact, a newline)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":")) + "\n"
