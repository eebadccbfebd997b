"""Everything the risk register says in Slack, queued in the outbox in the caller's transaction.

Keys name the side effect, so a repeat (a second clock, a retried request) adds nothing:
- `risk:{id}:card` posts the risk's card in the team's channel (remembered under the same ref);
  `risk:{id}:card:v{version}` updates it after each change, and `risk:{id}:note:v{version}`
  says why in its thread (a re-score, a closure);
- `risk:{id}:owner:{owner}:v{version}` tells a new owner by DM;
- `risk:{id}:review:{date}` reminds the owner that the review date has come.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.core import render
from bot.risks.rules import label
from bot.risks.view import RiskView
from bot.teams import notices
from storage import held, outbox
from storage import risks as risk_store
from storage.risks import Risk
from storage.teams import Team


def card_ref(risk: Risk) -> str:
    return f"risk:{risk.id}:card"


def post_card(session: Session, risk: Risk, team: Team, shown: RiskView, *, now: datetime) -> None:
    outbox.enqueue(session, workspace_id=risk.workspace_id, key=card_ref(risk), ref=card_ref(risk),
                   method="chat.postMessage", now=now,
                   payload=render.message("risks/card.json.j2", risk=shown) | {"channel": team.home_channel_id})


def update_card(session: Session, risk: Risk, shown: RiskView, *, now: datetime,
                note: tuple[str, dict[str, Any]] | None = None) -> None:
    """The card of the risk's current version (`risk.version`), and why it changed under it if asked."""
    outbox.enqueue(session, workspace_id=risk.workspace_id, key=f"{card_ref(risk)}:v{risk.version}",
                   method="chat.update", now=now,
                   payload=render.message("risks/card.json.j2", risk=shown) | {"update_ref": card_ref(risk)})
    if note is not None:
        template, context = note
        outbox.enqueue(session, workspace_id=risk.workspace_id, key=f"risk:{risk.id}:note:v{risk.version}",
                       method="chat.postMessage", now=now,
                       payload=render.message(template, risk_label=label(risk.number), **context)
                       | {"thread_ref": card_ref(risk)})


def tell_owner(session: Session, risk: Risk, shown: RiskView, actor_id: str, *, now: datetime) -> None:
    if risk.owner_id == actor_id:
        return  # they know: they just said so
    outbox.enqueue(session, workspace_id=risk.workspace_id, key=f"risk:{risk.id}:owner:{risk.owner_id}:v{risk.version}",
                   method="chat.postMessage", now=now,
                   payload=render.message("risks/owner_dm.json.j2", risk=shown, actor_id=actor_id)
                   | {"channel": risk.owner_id})


def remind_owner(session: Session, risk: Risk, shown: RiskView, *, now: datetime) -> None:
    """Held until the sweep ends (bot/teams/notices.py): an owner with several risks due gets one
    message, with "Remind me later", kept back in their quiet hours."""
    notices.hold(session, workspace_id=risk.workspace_id, person_id=risk.owner_id, kind="risk_review",
                 key=f"risk:{risk.id}:review:{risk.review_by}", message=render.message("risks/review_reminder.json.j2",
                                                                                       risk=shown),
                 team_id=risk.team_id, now=now)


def _still_due(session: Session, item: held.HeldMessage) -> bool:
    """A review reminder that waited goes out only while the risk is open with that review date."""
    _, risk_id, _, review_by = item.key.split(":")[:4]  # risk:{id}:review:{date}[:later:{n}]
    risk = risk_store.get_risk(session, item.workspace_id, int(risk_id))
    return risk is not None and risk.is_open and str(risk.review_by) == review_by


notices.STILL_DUE["risk_review"] = _still_due
