"""When a team's digests are due: at its local `digest_time` (09:00 unless changed), the daily one on
its working days, the weekly one on Mondays; and the period each one reports on.

All of it in the team's time zone (zoneinfo applies each day's offset, so it is DST-correct), as UTC
instants for the clock and the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.teams import working_hours
from storage.teams import Team

DAILY, WEEKLY = "daily", "weekly"


# --- when -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Due:
    """One digest occurrence: which, when it is due, and the period it reports on (UTC)."""

    kind: str
    period: str  # "2026-03-09" (daily: the day it is posted) or "2026-W10" (weekly: the week reported)
    scheduled_for: datetime
    start: datetime
    end: datetime


def latest_due(team: Team, kind: str, *, now: datetime) -> Due | None:
    """The most recent occurrence of a team's digest at or before `now` (None if there is none)."""
    zone = ZoneInfo(team.timezone)
    at = time.fromisoformat(team.digest_time)
    today = now.astimezone(zone).date()
    if kind == WEEKLY:
        monday = today - timedelta(days=today.weekday())
        if _local(monday, at, zone) > now:
            monday -= timedelta(weeks=1)
        week = monday - timedelta(weeks=1)
        year, number, _ = week.isocalendar()
        return Due(WEEKLY, f"{year}-W{number:02d}", _local(monday, at, zone), _local(week, time(0), zone),
                   _local(monday, time(0), zone))
    days = working_hours(team).days
    for back in range(8):
        day = today - timedelta(days=back)
        if day.weekday() in days and _local(day, at, zone) <= now:
            since = _previous_working_day(day, days)
            return Due(DAILY, day.isoformat(), _local(day, at, zone), _local(since, time(0), zone),
                       _local(day, time(0), zone))
    return None


def _previous_working_day(day: date, days: frozenset[int]) -> date:
    for back in range(1, 8):
        earlier = day - timedelta(days=back)
        if earlier.weekday() in days:
            return earlier
    return day - timedelta(days=1)


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """A local wall-clock time as a UTC instant (zoneinfo applies that day's offset: DST-correct)."""
    return datetime.combine(day, at, zone).astimezone(UTC)


def week_bounds(end: datetime, zone: ZoneInfo, weeks: int) -> list[datetime]:
    """Local Monday midnights, `weeks` weeks back from `end` (itself a Monday midnight): weeks + 1 bounds."""
    last = end.astimezone(zone).date()
    return [_local(last - timedelta(weeks=weeks - n), time(0), zone) for n in range(weeks + 1)]


# --- the schedule a manager can change ------------------------------------------------------------------
def next_occurrences(team: Team, *, now: datetime) -> dict[str, datetime]:
    """When the next daily and weekly digests will be posted (UTC)."""
    upcoming = {}
    for kind in (DAILY, WEEKLY):
        for days in range(1, 16):  # a day ahead at a time: no two occurrences fall within one day
            due = latest_due(team, kind, now=now + timedelta(days=days))
            if due is not None and due.scheduled_for > now:
                upcoming[kind] = due.scheduled_for
                break
    return upcoming
