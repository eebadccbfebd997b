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

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Callable

from flask import Blueprint, Response, jsonify, request

from bot import render
from bot.metrics import token_owner
from bot.timeutil import utcnow
from storage import audit
from storage import metrics as store
from storage.metrics import BEFORE_RELEASE, PRODUCTION

BATCH_MAX = 1000
PROBLEMS_SHOWN = 20
FUTURE_SLACK = timedelta(hours=24)  # a clock running ahead is fine; a timestamp next year is a bug
GATE_NAME_MAX = 40
TEXT_MAX = {"commit": 64, "ref": 255, "id": 100, "title": 200, "severity": 20}
GATE_ALIASES = {"unit_tests": "unit", "unit-tests": "unit", "integration_tests": "integration",
                "integration-tests": "integration", "security_scan": "security", "security_scans": "security",
                "security-scan": "security", "performance_tests": "performance", "performance-tests": "performance",
                "perf": "performance", "code_coverage": "coverage", "code-coverage": "coverage"}
RESULTS = {"pass": True, "passed": True, "success": True, "fail": False, "failed": False, "failure": False}
NOT_RUN = ("skipped", "cancelled", "canceled", "neutral")  # CI outcomes of a gate that did not run: not counted
FOUND_IN = {"production": PRODUCTION, "prod": PRODUCTION, "before_release": BEFORE_RELEASE,
            "before-release": BEFORE_RELEASE, "pre_release": BEFORE_RELEASE, "pre-release": BEFORE_RELEASE,
            "prerelease": BEFORE_RELEASE, "release": BEFORE_RELEASE}


class Problem(Exception):
    """Something wrong with one field of one record (or with the whole body when index is None)."""

    def __init__(self, key: str, *, index: int | None = None, field: str | None = None, **params: Any):
        super().__init__(key)
        self.key, self.index, self.field, self.params = key, index, field, params

    def describe(self) -> dict[str, Any]:
        where = {} if self.index is None else {"record": self.index, "field": self.field}
        params = {**self.params, **({"field": self.field} if self.field else {})}
        return {**where, "message": render.phrase(f"metrics.api_{self.key}", **params)}


@dataclass(frozen=True)
class Kind:
    """One endpoint: how a record becomes a row, and what the audit calls the batch."""

    name: str  # "gates" | "defects"
    parse: Callable[[dict[str, Any], int, datetime], dict[str, Any] | None]
    store: Callable[[Any, list[dict[str, Any]]], int]


# --- records ---------------------------------------------------------------------------------------
def parse_gate(record: dict[str, Any], index: int, now: datetime) -> dict[str, Any] | None:
    """A gate result as a row; None for a gate that did not run (skipped, cancelled)."""
    gate = _text(record, "gate", index, required=True, limit=GATE_NAME_MAX).lower().replace(" ", "_")
    passed = _result(record, index)
    value = _number(record, "value", index)
    if gate == "coverage" and value is not None and not 0 <= value <= 100:
        raise Problem("out_of_range", index=index, field="value", low=0, high=100)
    duration = _number(record, "duration", index)
    if duration is not None and duration < 0:
        raise Problem("out_of_range", index=index, field="duration", low=0, high="∞")
    if passed is None:
        return None
    return {"gate": GATE_ALIASES.get(gate, gate), "passed": passed, "value": value,
            "duration_seconds": duration, "commit": _text(record, "commit", index),
            "ref": _text(record, "ref", index), "source_id": _text(record, "id", index),
            "happened_at": _timestamp(record, index, now), "received_at": now}


def parse_defect(record: dict[str, Any], index: int, now: datetime) -> dict[str, Any]:
    found = _text(record, "found", index, required=True, limit=40).lower().replace(" ", "_")
    if found not in FOUND_IN:
        raise Problem("bad_found", index=index, field="found", got=found)
    return {"found_in": FOUND_IN[found], "severity": _text(record, "severity", index),
            "title": _text(record, "title", index), "source_id": _text(record, "id", index),
            "found_at": _timestamp(record, index, now), "received_at": now}


def parse_batch(body: bytes, kind: Kind, now: datetime) -> tuple[list[dict[str, Any]], int]:
    """The rows of a request body and how many records were left out as not run; or Problem /
    BatchProblems, with nothing half-parsed."""
    try:
        data = json.loads(body or b"")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Problem("not_json", detail=str(error)) from None
    records = [data] if isinstance(data, dict) else data
    if not isinstance(records, list):
        raise Problem("not_records")
    if not records:
        raise Problem("empty")
    if len(records) > BATCH_MAX:
        raise Problem("too_many", count=len(records), limit=BATCH_MAX)
    rows, problems = [], []
    for index, record in enumerate(records):
        try:
            if not isinstance(record, dict):
                raise Problem("record_not_object", index=index)
            row = kind.parse(record, index, now)
            if row is not None:
                rows.append(row)
        except Problem as problem:
            problems.append(problem)
    if problems:
        raise BatchProblems(problems)
    return rows, len(records) - len(rows)


class BatchProblems(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


def _text(record: dict[str, Any], name: str, index: int, *, required: bool = False, limit: int | None = None):
    value = record.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Problem("missing", index=index, field=name)
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)  # an id or a commit written as a number
    if not isinstance(value, str):
        raise Problem("not_text", index=index, field=name)
    limit = limit or TEXT_MAX[name]
    if len(value.strip()) > limit:
        raise Problem("too_long", index=index, field=name, limit=limit)
    return value.strip()


def _number(record: dict[str, Any], name: str, index: int) -> float | None:
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise Problem("not_number", index=index, field=name)
    return float(value)


def _result(record: dict[str, Any], index: int) -> bool | None:
    value = record.get("result")
    if value is None:
        raise Problem("missing", index=index, field="result")
    if isinstance(value, bool):
        return value
    word = value.strip().lower() if isinstance(value, str) else None
    if word in NOT_RUN:
        return None
    if word not in RESULTS:
        raise Problem("bad_result", index=index, field="result", got=str(value)[:40])
    return RESULTS[word]


def _timestamp(record: dict[str, Any], index: int, now: datetime) -> datetime:
    value = record.get("timestamp")
    if value is None:
        return now
    if not isinstance(value, str):
        raise Problem("bad_timestamp", index=index, field="timestamp")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise Problem("bad_timestamp", index=index, field="timestamp") from None
    if moment.tzinfo is None:
        raise Problem("naive_timestamp", index=index, field="timestamp")
    if moment > now + FUTURE_SLACK:
        raise Problem("future_timestamp", index=index, field="timestamp")
    return moment.astimezone(UTC)


# --- HTTP --------------------------------------------------------------------------------------------
KINDS = {"gates": Kind("gates", parse_gate, store.add_gate_results),
         "defects": Kind("defects", parse_defect, store.add_defects)}


def blueprint(services) -> Blueprint:
    api = Blueprint("api", __name__, url_prefix="/api/v1")

    @api.post("/<name>")
    def ingest(name: str) -> Response:
        kind = KINDS.get(name)
        if kind is None:
            return _error(404, Problem("unknown_endpoint", name=name[:40]))
        return _ingest(services, kind)

    return api


def _ingest(services, kind: Kind) -> Response:
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
