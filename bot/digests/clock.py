"""What `qms-bot clock` does for digests at `now`: post every digest that came due, each once.

The decision for a team, kind and period is recorded once (`digest_run`), in the same transaction
as the digest's outbox rows (`digest:{team}:{kind}:{period}`), so two clocks post a digest once. A
clock that was down posts what it missed if it is not too late (GRACE), and skips it otherwise,
saying so in the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.digests.rules import DAILY, WEEKLY, latest_due
from bot.digests.service import build, enqueue
from storage import metrics as store
from storage import teams as team_store
from storage.db import Database
from storage.metrics import POSTED, SKIPPED

log = logging.getLogger(__name__)

GRACE = {DAILY: timedelta(hours=6), WEEKLY: timedelta(hours=24)}  # later than this: skipped, and logged


@dataclass(frozen=True)
class Outcome:
    team_id: int
    kind: str
    period: str
    status: str  # "posted" | "skipped"


def post_due(db: Database, *, now: datetime) -> list[Outcome]:
    """Post every digest that came due and was not decided yet, one transaction per team and kind."""
    with db.transaction() as session:
        teams = [(team.workspace_id, team.id) for ws in team_store.workspaces(session)
                 for team in team_store.teams(session, ws)]
    outcomes = []
    for workspace_id, team_id in teams:
        for kind in (DAILY, WEEKLY):
            try:
                with db.transaction() as session:
                    outcome = _decide(session, workspace_id, team_id, kind, now=now)
            except Exception:
                log.exception("digest: the %s digest of team %s failed; it is tried again next minute", kind, team_id)
                continue
            if outcome is not None:
                outcomes.append(outcome)
    return outcomes


def _decide(session: Session, workspace_id: str, team_id: int, kind: str, *, now: datetime) -> Outcome | None:
    team = team_store.get_team(session, workspace_id, team_id)
    due = latest_due(team, kind, now=now) if team is not None else None
    if due is None or due.scheduled_for < team.created_at:
        return None  # nothing due yet, or due before the team existed
    if store.digest_decided(session, workspace_id, team.id, kind, due.period):
        return None
    channel = team.digest_channel_id or team.home_channel_id
    late = now - due.scheduled_for
    status = POSTED if late <= GRACE[kind] and channel else SKIPPED
    if not store.claim_digest(session, workspace_id=workspace_id, team_id=team.id, kind=kind, period=due.period,
                              status=status, scheduled_for=due.scheduled_for, now=now):
        return None  # another clock decided it a moment ago
    if status == SKIPPED:
        why = (f"{_hours(late)} late, over the {_hours(GRACE[kind])} grace" if channel
               else "it has no digest channel")
        log.warning("digest: skipped the %s digest of %s for %s (due %s): %s", kind, team.name, due.period,
                    due.scheduled_for.isoformat(), why)
    else:
        enqueue(session, team, build(session, team, due, now=now), channel, now=now)
        log.info("digest: queued the %s digest of %s for %s", kind, team.name, due.period)
    return Outcome(team.id, kind, due.period, status)


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:.1f} h"
