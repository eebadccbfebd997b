"""What `qms-bot clock` does for reviews at `now`, for every active request of every team:

- a request nobody could take yet gets another try at finding a primary reviewer;
- a reviewer who has not accepted after 2 working hours is reminded, once;
- a request not done after the team's review-time target (working hours, default 6 h) is stalled:
  its open reviewers are reminded and the team leads told, once.

Reminders go out only inside the team's working hours, and none while a request is paused (its
pull request went back to draft); a clock that was down catches up at the next
working moment. Each request is handled in its own transaction with its row locked, and every
reminder is a compare-and-set on its row plus a unique outbox key, so two clocks never double one.
A request that fails (a broken row, a team whose settings no longer parse) is rolled back, logged
and counted, and the sweep goes on with the next: one bad request never holds up the rest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot import teams
from bot.reviews import messages as notify
from bot.reviews import service as reviews
from bot.teams import WorkingHours, notices
from storage import audit
from storage import reviews as store
from storage import teams as team_store
from storage.db import Database
from storage.reviews import ASSIGNED, PRIMARY, SECONDARY, WAITING, ReviewRequest
from storage.teams import Team

ACCEPT_WITHIN = timedelta(hours=2)

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    assigned: int = 0
    accept_nudges: int = 0
    stalled: int = 0
    failed: int = 0  # requests whose sweep raised: rolled back, logged, tried again at the next sweep


def sweep(db: Database, *, now: datetime) -> SweepReport:
    report = SweepReport()
    with db.transaction() as session:
        work = [(team.workspace_id, request.id) for team in team_store.all_teams(session)
                for request in store.active_requests(session, team.workspace_id, team.id)]
    for workspace_id, request_id in work:
        done = SweepReport()
        try:
            with db.transaction() as session:
                sweep_request(session, workspace_id, request_id, now=now, report=done)
        except Exception:  # noqa: BLE001 - one request's failure must not stop the others'
            log.exception("reviews sweep: request %s of workspace %s failed; the others go on, and it is tried "
                          "again at the next sweep", request_id, workspace_id)
            report.failed += 1
            continue
        report.assigned += done.assigned  # counted only once its transaction has committed
        report.accept_nudges += done.accept_nudges
        report.stalled += done.stalled
    with db.transaction() as session:  # what the sweep has for each person, as one message per kind
        notices.release_held(session, now=now)
    return report


def sweep_request(session: Session, workspace_id: str, request_id: int, *, now: datetime,
                  report: SweepReport | None = None) -> None:
    report = report or SweepReport()
    request = store.get_request(session, workspace_id, request_id, lock=True)
    if request is None or not request.is_active:
        return  # finished or withdrawn since the list was read
    team = team_store.get_team(session, workspace_id, request.team_id)
    hours = teams.working_hours(team)
    if request.status == WAITING and _retry_assignment(session, team, request, now=now):
        report.assigned += 1
    if not hours.is_working(now) or request.paused_at is not None:  # paused: its pull request is a draft
        return
    if _stall_if_late(session, team, request, hours, now=now):
        report.stalled += 1  # its reminder says everything the accept reminder would have said
    report.accept_nudges += _remind_to_accept(session, request, hours, reviews.target_hours(session, team), now=now)


def _retry_assignment(session: Session, team: Team, request: ReviewRequest, *, now: datetime) -> bool:
    choice, added = reviews.assign(session, team, request, need_primary=True, need_secondary=False, now=now)
    if choice.primary is None:
        return False  # still nobody: the leads were told when it started waiting
    if not any(a.role == SECONDARY and a.is_active for a in store.assignments_of(session, request)):
        added += reviews.assign(session, team, request, need_primary=False, need_secondary=True, now=now)[1]
    reviews.bump(request, now)
    request.status = store.OPEN
    session.add(request)
    session.flush()
    notify.update_card(session, request, reviews.card(session, team, request, now=now), now=now)
    reviews.send_assignments(session, team, request, added, now=now)
    primary = next(a for a in added if a.role == PRIMARY)
    notify.tell_author_assigned(session, request, primary, now=now)
    return True


def _remind_to_accept(session: Session, request: ReviewRequest, hours: WorkingHours, target: float, *,
                      now: datetime) -> int:
    sent = 0
    for assignment in store.assignments_of(session, request):
        if assignment.status != ASSIGNED or assignment.accept_nudged_at is not None:
            continue
        if now < hours.add(assignment.assigned_at, ACCEPT_WITHIN):
            continue
        if store.set_nudged(session, assignment, "accept", now=now):
            waited = hours.elapsed(assignment.assigned_at, now).total_seconds() / 3600
            notify.nudge(session, request, assignment, "accept", waited_hours=waited, target_hours=target, now=now)
            audit.record(session, workspace_id=request.workspace_id, actor_id=audit.BOT_ACTOR,
                         entity_type="review", entity_id=request.id, action="nudged",
                         after={"reviewer": assignment.reviewer_id, "stage": "accept"}, at=now)
            sent += 1
    return sent


def _stall_if_late(session: Session, team: Team, request: ReviewRequest, hours: WorkingHours, *,
                   now: datetime) -> bool:
    target = reviews.target_hours(session, team)
    if request.stalled_at is not None or now < hours.add(request.created_at, timedelta(hours=target)):
        return False
    if not store.mark_stalled(session, request, now=now):
        return False  # another clock got there first
    waited = hours.elapsed(request.created_at, now).total_seconds() / 3600
    everyone = store.assignments_of(session, request)
    for assignment in everyone:
        if assignment.status == ASSIGNED:
            store.set_nudged(session, assignment, "accept", now=now)  # one reminder at a time is enough
        if assignment.is_active and store.set_nudged(session, assignment, "done", now=now):
            notify.nudge(session, request, assignment, "done", waited_hours=waited, target_hours=target, now=now)
    leads = reviews.who_to_tell(session, team).people
    notify.tell_leads_stalled(session, request, team, everyone, leads, waited_hours=waited, target_hours=target,
                              now=now)
    notify.update_card(session, request, reviews.card(session, team, request, now=now), now=now)
    audit.record(session, workspace_id=request.workspace_id, actor_id=audit.BOT_ACTOR, entity_type="review",
                 entity_id=request.id, action="stalled",
                 after={"waited_hours": round(waited, 2), "target_hours": target, "leads": leads}, at=now)
    return True
