"""The audit evidence pack: one zip of a team's records over a period, for an auditor.

Inside: risks (with their history from the audit log), incidents (with their timelines), review
requests, gate results, DoR/DoD checks and the audit log, each as CSV and JSON; summary.html, a short
human summary; and manifest.json plus SHA256SUMS (`sha256sum -c SHA256SUMS` checks it), the SHA-256
of every other file, so an auditor can tell nothing was changed. Cells a spreadsheet would evaluate
(=, +, -, @ first) are prefixed with an apostrophe in the CSV files."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.core.errors import Refusal
from bot.dashboard.audit import day_start
from bot.dashboard.pages import page
from bot.risks import label, safe_cell
from storage import audit
from storage import dashboard as store
from storage.incidents import Incident
from storage.metrics import GateResult, ItemCheck
from storage.reviews import ReviewRequest
from storage.risks import Risk
from storage.teams import Team

PERIOD_MAX = timedelta(days=3 * 366)
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entries' timestamps: the same records give the same bytes


def period(start: date | None, end: date | None) -> tuple[datetime, datetime]:
    """[start, end] as whole UTC days; Refusal("dashboard.pack_bad_dates") when it is not a period."""
    if start is None or end is None or start > end or end - start > PERIOD_MAX:
        raise Refusal("dashboard.pack_bad_dates")
    return day_start(start), day_start(end + timedelta(days=1))


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _records(rows: list) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.model_dump().items()} for row in rows]


def _csv(records: list[dict[str, Any]], columns: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for record in records:
        writer.writerow({k: safe_cell(json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)
                         for k, v in record.items()})
    return out.getvalue().encode("utf-8")


def _columns(model) -> list[str]:
    return list(model.model_fields)


def build(session: Session, team: Team, start_day: date, end_day: date, *, now: datetime) -> tuple[bytes, dict]:
    """The zip's bytes and its summary (counts per file)."""
    start, end = period(start_day, end_day)
    ws = team.workspace_id
    risks = store.risks_in(session, ws, team.id, start, end)
    risk_records = []
    for risk in risks:
        record = {"key": label(risk.number)} | _records([risk])[0]
        record["history"] = [{"at": e.at.isoformat(), "actor_id": e.actor_id, "action": e.action,
                              "before": e.before, "after": e.after}
                             for e in audit.history(session, ws, "risk", risk.id) if start <= e.at < end]
        risk_records.append(record)
    incidents = store.incidents_in(session, ws, team.id, start, end)
    incident_records = [{"key": f"INC-{i.number:03d}"} | _records([i])[0] | {"timeline": _records(events)}
                        for i, events in incidents]
    reviews = _records(store.rows_in(session, ReviewRequest, ReviewRequest.created_at, ws, team.id, start, end))
    gates = _records(store.rows_in(session, GateResult, GateResult.happened_at, ws, team.id, start, end))
    checks = _records(store.rows_in(session, ItemCheck, ItemCheck.checked_at, ws, team.id, start, end))
    events = list(reversed(_records(store.audit_events(session, ws, team_ids=[team.id], start=start, end=end,
                                                       limit=None))))
    tables = {
        "risks": (risk_records, ["key", *_columns(Risk), "history"]),
        "incidents": (incident_records, ["key", *_columns(Incident), "timeline"]),
        "review_requests": (reviews, _columns(ReviewRequest)),
        "gate_results": (gates, _columns(GateResult)),
        "dor_dod_checks": (checks, _columns(ItemCheck)),
        "audit_log": (events, _columns(audit.AuditEvent)),
    }
    files: dict[str, bytes] = {}
    for name, (records, columns) in tables.items():
        files[f"{name}.csv"] = _csv(records, columns)
        files[f"{name}.json"] = json.dumps(records, ensure_ascii=False, indent=1, default=str).encode("utf-8")
    counts = {name: len(records) for name, (records, _) in tables.items()}
    summary = {"team": team.name, "workspace_id": ws, "from": start_day.isoformat(), "to": end_day.isoformat(),
               "generated_at": now.isoformat(), "counts": counts}
    files["summary.html"] = page("pack_summary", summary=summary, files=sorted(files)).encode("utf-8")
    sums = {name: hashlib.sha256(content).hexdigest() for name, content in sorted(files.items())}
    files["manifest.json"] = json.dumps({**summary, "algorithm": "SHA-256", "files": sums}, indent=1).encode()
    files["SHA256SUMS"] = "".join(f"{digest}  {name}\n" for name, digest in sums.items()).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(zipfile.ZipInfo(name, FIXED_TIME), content, zipfile.ZIP_DEFLATED)
    return out.getvalue(), summary


def filename(team: Team, start: date, end: date) -> str:
    slug = "".join(c if c.isascii() and c.isalnum() else "-" for c in team.name.lower()).strip("-") or "team"
    return f"audit-pack-{slug}-{start.isoformat()}-{end.isoformat()}.zip"

