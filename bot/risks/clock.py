"""What `qms-bot clock` does for risks at `now`: remind owners whose risk's review date has come."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot import teams
from bot.teams import notices
from bot.risks import messages
from bot.risks.service import new_version
from bot.risks.view import describe
from storage import risks as store
from storage import teams as team_store
from storage.db import Database
from storage.teams import Team

EARLIEST_ZONE = ZoneInfo("Etc/GMT-14")  # UTC+14: where each calendar day begins first


def remind_due_reviews(db: Database, *, now: datetime) -> int:
    """DM each owner whose risk's review date has come (at the team's first working moment of
    that day), once per date; a clock that was down catches up. Safe with two clocks: a
    compare-and-set on the risk plus a unique outbox key. Each risk is reminded in its own
    transaction, locked and read afresh, so a change in flight finishes first and the card
    update follows it. Returns how many were reminded."""
    reminded = 0
    horizon = now.astimezone(EARLIEST_ZONE).date()  # no team's local date is later than this
    with db.transaction() as session:
        due = [(workspace_id, risk.id) for workspace_id in store.workspaces_with_open_reviews(session)
               for risk in store.reviews_to_remind(session, workspace_id, due_on_or_before=horizon)]
    for workspace_id, risk_id in due:
        with db.transaction() as session:
            risk = store.get_risk(session, workspace_id, risk_id, for_update=True)
            if risk is None or not risk.is_open or risk.review_by is None or risk.review_by > horizon:
                continue  # closed, deleted or given a later date since
            team = team_store.get_team(session, workspace_id, risk.team_id)
            if now < review_due_at(team, risk.review_by) or not store.claim_review_reminder(session, risk):
                continue
            messages.remind_owner(session, risk, describe(session, risk, team, now=now), now=now)
            new_version(session, risk, team, now=now)
            reminded += 1
    with db.transaction() as session:  # one message per owner, however many of their risks came due
        notices.release_held(session, now=now)
    return reminded


def review_due_at(team: Team, review_by: date) -> datetime:
    """The team's first working moment on or after the start of the review date."""
    hours = teams.working_hours(team)
    return hours.next_working_moment(datetime.combine(review_by, time.min, hours.timezone))
