"""What CI sends: the team's bearer tokens, and the records of the ingestion API (app/api.py).

A token is `qms_` and 256 random bits, shown once when `/qms setup token` creates it; only its
SHA-256 is stored. A record is one quality-gate result or one defect; `parse_batch` turns a request
body into rows or into problems that name the record and the field, never into half a batch.

CI retries a post that timed out, and a batch whose records carry no `id` would then be stored
twice. A batch sent with an `Idempotency-Key` header is stored once: a retry under the same key
within KEY_KEPT is answered as the first post was (`Idempotent-Replayed: true`) and stores nothing;
the same key with another batch is refused (`key_reused`). Keys are each team's own.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Callable

from sqlmodel import Session

from bot import teams
from bot.core import render
from bot.core.errors import Refusal
from storage import audit
from storage import metrics as store
from storage.metrics import BEFORE_RELEASE, PRODUCTION, ApiToken
from storage.teams import Team

TOKEN_START = "qms_"
TOKEN_SHOWN = 12  # "qms_" and 8 characters identify a token in lists; the rest is never shown again
TOKENS_PER_TEAM = 10
BATCH_MAX = 1000
FUTURE_SLACK = timedelta(hours=24)  # a clock running ahead is fine; a timestamp next year is a bug
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # before this a timestamp is a bug too (an unset clock, year 1)
DURATION_MAX = 30 * 24 * 3600  # seconds: no CI gate runs for a month
VALUE_MAX = 10**12  # a gate's value either side of 0: far beyond any real one, and sums stay finite in SQL
GATE_NAME_MAX = 40
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII: a UUID, "$GITHUB_RUN_ID-…"
KEY_KEPT = timedelta(hours=24)  # how long a retry with the same key is answered as the first post
# What no database stores as text: NUL (PostgreSQL refuses it) and lone UTF-16 surrogates (not UTF-8).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
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


# --- problems --------------------------------------------------------------------------------------
class Problem(Exception):
    """Something wrong with one field of one record (or with the whole body when index is None)."""

    def __init__(self, key: str, *, index: int | None = None, field: str | None = None, **params: Any):
        super().__init__(key)
        self.key, self.index, self.field, self.params = key, index, field, params

    def describe(self) -> dict[str, Any]:
        where = {} if self.index is None else {"record": self.index, "field": self.field}
        params = {**self.params, **({"field": self.field} if self.field else {})}
        return {**where, "message": render.phrase(f"metrics.api_{self.key}", **params)}


class BatchProblems(Exception):
    """Every problem of a batch (each naming its record and field)."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


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
    value = _number(record, "value", index, *((0, 100) if gate == "coverage" else (-VALUE_MAX, VALUE_MAX)))
    duration = _number(record, "duration", index, 0, DURATION_MAX, unit="seconds")
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
    except RecursionError:  # arrays or objects nested deeper than Python's recursion limit
        raise Problem("too_deep") from None
    except ValueError:  # an integer of more than 4300 digits: Python refuses to convert it
        raise Problem("number_too_long", limit=sys.get_int_max_str_digits()) from None
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
    if UNSTORABLE.search(value):
        raise Problem("unstorable_text", index=index, field=name)
    limit = limit or TEXT_MAX[name]
    if len(value.strip()) > limit:
        raise Problem("too_long", index=index, field=name, limit=limit)
    return value.strip()


def _number(record: dict[str, Any], name: str, index: int, low: float, high: float,
            unit: str = "") -> float | None:
    """A number from low to high. JSON's integers have no bound: one too large for a float is out of
    range too (not an OverflowError)."""
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Problem("not_number", index=index, field=name)
    if isinstance(value, float) and not math.isfinite(value):  # NaN and Infinity, which json.loads accepts
        raise Problem("not_number", index=index, field=name)
    if not low <= value <= high:  # compares ints exactly, however large
        raise Problem("out_of_range", index=index, field=name, low=low, high=high, unit=unit)
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
        raise Problem("bad_result", index=index, field="result", got=_shown(value))
    return RESULTS[word]


def _shown(value: Any) -> str:
    """A wrong value as an error names it: the start of a text or number (never a whole array)."""
    if isinstance(value, str):
        return UNSTORABLE.sub("\ufffd", value[:40])
    if isinstance(value, (int, float)):
        return str(value)[:40]
    return {list: "an array", dict: "an object"}.get(type(value), type(value).__name__)


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
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+05:00 is before the first moment Python can hold in UTC
        raise Problem("past_timestamp", index=index, field="timestamp", earliest=EARLIEST.year) from None
    if moment < EARLIEST:
        raise Problem("past_timestamp", index=index, field="timestamp", earliest=EARLIEST.year)
    return moment


# --- the endpoints' kinds ---------------------------------------------------------------------------
RECORD_KINDS = {"gates": Kind("gates", parse_gate, store.add_gate_results),
         "defects": Kind("defects", parse_defect, store.add_defects)}


# --- retries --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Answer:
    """What the API answered a batch: kept under its Idempotency-Key, and given again to a retry."""

    status: int
    body: str  # JSON, byte for byte
    replayed: bool = False


def idempotency_key(header: str | None) -> str | None:
    """The Idempotency-Key a request names, or None when it names none; Problem when it is not one."""
    if header is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(header):
        raise Problem("bad_idempotency_key")
    return header


def batch_fingerprint(kind: Kind, body: bytes) -> str:
    """What makes a retry the same batch: the same endpoint and the same body."""
    return hashlib.sha256(kind.name.encode() + b"\n" + body).hexdigest()


def answered_before(session: Session, team: Team, key: str, fingerprint: str, *, now: datetime) -> Answer | None:
    """The answer a batch posted under `key` in the last KEY_KEPT got, to give a retry again; None when
    the key is new. Problem("key_reused") when the key came with a different batch."""
    kept = store.idempotent_answer(session, team.workspace_id, team.id, key, since=now - KEY_KEPT)
    if kept is None:
        return None
    if kept.fingerprint != fingerprint:
        raise Problem("key_reused", hours=int(KEY_KEPT.total_seconds() // 3600))
    return Answer(kept.status, kept.response, replayed=True)


def claim_key(session: Session, team: Team, key: str, fingerprint: str, *, now: datetime) -> Answer | None:
    """Take `key` for the batch this transaction stores; when another post took it first (a retry that
    overtook the original), its answer instead, and this transaction must store nothing."""
    if store.claim_idempotency_key(session, workspace_id=team.workspace_id, team_id=team.id, key=key,
                                   fingerprint=fingerprint, now=now, since=now - KEY_KEPT):
        return None
    return answered_before(session, team, key, fingerprint, now=now)


def keep_answer(session: Session, team: Team, key: str, answer: Answer) -> None:
    store.record_idempotent_answer(session, team.workspace_id, team.id, key, status=answer.status,
                                   response=answer.body)


# --- tokens ---------------------------------------------------------------------------------------
TOKEN_VERBS = ("list", "create", "revoke")


def require_token_manager(session: Session, team: Team, user_id: str, *, workspace_admin: bool, verb: str) -> None:
    """The team's leads and engineering managers, and workspace admins, may see, create and revoke its
    CI tokens; anyone else is told so, in the words of what they asked for (`verb`: list, create, revoke)."""
    if not teams.may_manage(session, team, user_id, workspace_admin=workspace_admin):
        raise Refusal("metrics.only_managers_may_tokens", verb=verb, team=team.name)


def hash_token(token: str) -> str:
    """Tokens are 256 random bits, so a plain SHA-256 is enough to keep them unusable if read."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, team: Team, *, actor_id: str, now: datetime) -> tuple[str, ApiToken]:
    """A new bearer token for the team's CI. The token itself is returned once and never stored."""
    if len(store.live_tokens(session, team.workspace_id, team.id)) >= TOKENS_PER_TEAM:
        raise Refusal("metrics.too_many_tokens", limit=TOKENS_PER_TEAM)
    token = TOKEN_START + secrets.token_urlsafe(32)
    row = store.add_token(session, ApiToken(workspace_id=team.workspace_id, team_id=team.id,
                                            token_hash=hash_token(token), prefix=token[:TOKEN_SHOWN],
                                            created_by=actor_id, created_at=now))
    audit.record(session, workspace_id=team.workspace_id, actor_id=actor_id, entity_type="api_token",
                 entity_id=row.id, action="created", after={"team": team.id, "prefix": row.prefix}, at=now)
    return token, row


def revoke_tokens(session: Session, team: Team, which: str, *, actor_id: str, now: datetime) -> list[ApiToken]:
    """Revoke one live token by its shown prefix, or "all" of them."""
    live = store.live_tokens(session, team.workspace_id, team.id)
    wanted = which.strip().rstrip("…").strip()
    if not wanted:
        raise Refusal("metrics.token_usage")
    chosen = live if wanted.lower() == "all" else [t for t in live if _same_prefix(t.prefix, wanted)]
    if not chosen:
        raise Refusal("metrics.no_such_token", prefix=wanted)
    for token in chosen:
        if store.revoke(session, token, actor_id=actor_id, now=now):
            audit.record(session, workspace_id=team.workspace_id, actor_id=actor_id, entity_type="api_token",
                         entity_id=token.id, action="revoked", before={"team": team.id, "prefix": token.prefix},
                         at=now)
    return chosen


def _same_prefix(prefix: str, typed: str) -> bool:
    typed = typed if typed.startswith(TOKEN_START) else TOKEN_START + typed
    return len(typed) >= len(TOKEN_START) + 4 and prefix.startswith(typed[:TOKEN_SHOWN])


def token_owner(session: Session, token: str, *, used_at: datetime | None = None) -> tuple[ApiToken, Team] | None:
    """The live token and its team, or None for an unknown or revoked token. `used_at` records its use."""
    if not token.startswith(TOKEN_START):
        return None
    row = store.token_by_hash(session, hash_token(token))
    if row is None:
        return None
    team = session.get(Team, row.team_id)
    if team is None or team.workspace_id != row.workspace_id:
        return None
    if used_at is not None:
        store.touch_token(session, row, now=used_at)
    return row, team
