"""The risk register as evidence (guide, section 6.2): CSV for spreadsheets, JSON with each
risk's full history for audit trails.

`/qms risk export` sends the CSV to the person who asked, through the outbox; `qms-bot export
risks --team NAME --format csv|json` writes either locally.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from bot.core import render
from bot.risks.rules import RESPONSES, band_ranges, bands_from
from bot.risks.view import RiskView, describe_many, history_of
from storage import outbox
from storage import risks as store
from storage.teams import Team

COLUMNS = [
    "id", "team", "title", "description", "category", "probability", "impact", "score", "band", "status",
    "owner_id", "owner_name", "review_by", "mitigation_actions", "actions_done", "actions_total", "response",
    "closing_note", "closed_by", "closed_at", "created_by", "created_at", "updated_at",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet would run as a formula


def register_views(session: Session, team: Team, *, now: datetime) -> list[RiskView]:
    """Every risk of the team, open and closed, in ID order."""
    return describe_many(session, store.team_register(session, team.workspace_id, team.id), {team.id: team}, now=now)


def csv_rows(views: list[RiskView], names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    names = names or {}
    return [{
        "id": v.label, "team": v.team, "title": v.title, "description": v.description, "category": v.category,
        "probability": v.probability, "impact": v.impact, "score": v.score, "band": v.band, "status": v.status,
        "owner_id": v.owner_id, "owner_name": names.get(v.owner_id, ""), "review_by": _iso(v.review_by),
        "mitigation_actions": "\n".join(f"[{'x' if a.done else ' '}] {a.text}" for a in v.actions),
        "actions_done": v.done_count, "actions_total": len(v.actions), "response": v.response or "",
        "closing_note": v.closing_note or "", "closed_by": v.closed_by or "", "closed_at": _iso(v.closed_at),
        "created_by": v.created_by, "created_at": _iso(v.created_at), "updated_at": _iso(v.updated_at),
    } for v in views]


def to_csv(views: list[RiskView], names: dict[str, str] | None = None, *, excel: bool = True) -> str:
    """One row per risk; the checklist as "[x] done" / "[ ] open" lines in one cell. `excel` adds
    the byte-order mark that makes Excel read UTF-8."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in csv_rows(views, names):
        writer.writerow({key: safe_cell(value) for key, value in row.items()})
    return ("\ufeff" if excel else "") + buffer.getvalue()


def to_json(session: Session, team: Team, views: list[RiskView], *, now: datetime) -> str:
    """The register with each risk's checklist and full history from the audit log."""
    risks = {risk.id: risk for risk in store.team_register(session, team.workspace_id, team.id)}
    document = {
        "team": team.name, "workspace_id": team.workspace_id, "exported_at": _iso(now),
        "bands": {name: [low, high] for name, low, high in band_ranges(bands_from(team.risk_bands))},
        "responses": list(RESPONSES),
        "risks": [_risk_json(view, history_of(session, risks[view.id])) for view in views],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def filename(team: Team, now: datetime, extension: str = "csv") -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", team.name.lower()).strip("-") or f"team-{team.id}"
    return f"risk-register-{slug}-{now:%Y-%m-%d}.{extension}"


def queue_csv_for(session: Session, team: Team, user_id: str, *, now: datetime,
                  names: dict[str, str] | None = None) -> int:
    """Queue the team's register as a CSV file for a person's DM. Returns how many risks it holds."""
    views = register_views(session, team, now=now)
    outbox.enqueue_file(session, workspace_id=team.workspace_id, key=f"risks:export:{team.id}:{user_id}:{now.isoformat()}",
                        channel=user_id, filename=filename(team, now), title=f"Risk register · {team.name}",
                        content=to_csv(views, names).encode(), now=now,
                        initial_comment=render.phrase("risks.export_comment", team=team.name, count=len(views)))
    return len(views)


def _risk_json(view: RiskView, history) -> dict[str, Any]:
    return {
        "id": view.label, "title": view.title, "description": view.description, "category": view.category,
        "probability": view.probability, "impact": view.impact, "score": view.score, "band": view.band,
        "status": view.status, "owner_id": view.owner_id, "review_by": _iso(view.review_by) or None,
        "mitigation_actions": [{"text": a.text, "done": a.done, "done_by": a.done_by,
                                "done_at": _iso(a.done_at) or None} for a in view.actions],
        "response": view.response, "closing_note": view.closing_note, "closed_by": view.closed_by,
        "closed_at": _iso(view.closed_at) or None, "created_by": view.created_by,
        "created_at": _iso(view.created_at), "updated_at": _iso(view.updated_at),
        "history": [{"at": _iso(e.at), "actor_id": e.actor_id, "action": e.action, "before": e.before or None,
                     "after": e.after or None} for e in history],
    }


def safe_cell(value: Any) -> Any:
    """Text a spreadsheet would evaluate (=, +, -, @ first) is prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _iso(value: date | datetime | None) -> str:
    return value.isoformat() if value else ""
