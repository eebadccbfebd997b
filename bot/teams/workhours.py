"""Working hours: how much of a span of time fell inside a team's working days and hours.

A review requested at Friday 16:00 is one working hour old at Monday 09:00, not 65 hours. All
arithmetic happens on local calendar days in the team's time zone, so a DST change shortens or
lengthens nothing that happens outside working hours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CLOCK_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")  # "09:00"; ASCII digits: "0٨:00" is no time
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS_SEARCHED = 366 * 2


@dataclass(frozen=True)
class WorkingHours:
    timezone: ZoneInfo
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time

    @classmethod
    def parse(cls, timezone: str, days: str, start: str, end: str) -> "WorkingHours":
        return cls(
            timezone=ZoneInfo(timezone),
            days=frozenset(DAY_NAMES.index(d.strip()) for d in days.split(",") if d.strip()),
            start=time.fromisoformat(start),
            end=time.fromisoformat(end),
        )

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The working hours of a local calendar day, as UTC instants (None on a day off)."""
        if day.weekday() not in self.days:
            return None
        opens = datetime.combine(day, self.start, self.timezone).astimezone(UTC)
        closes = datetime.combine(day, self.end, self.timezone).astimezone(UTC)
        return opens, closes

    def is_working(self, moment: datetime) -> bool:
        found = self.window(moment.astimezone(self.timezone).date())
        return found is not None and found[0] <= moment < found[1]

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two instants."""
        total = timedelta()
        if end <= start:
            return total
        day = start.astimezone(self.timezone).date()
        last = end.astimezone(self.timezone).date()
        while day <= last:
            found = self.window(day)
            if found:
                overlap = min(end, found[1]) - max(start, found[0])
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which `duration` of working time has passed since `start`."""
        remaining = duration
        day = start.astimezone(self.timezone).date()
        for _ in range(MAX_DAYS_SEARCHED):
            found = self.window(day)
            if found and found[1] > start:
                opens = max(start, found[0])
                available = found[1] - opens
                if remaining <= available:
                    return opens + remaining
                remaining -= available
            day += timedelta(days=1)
        raise ValueError("no working hours in two years: check the team's working days")

    def next_working_moment(self, moment: datetime) -> datetime:
        """`moment` itself when it is inside working hours, else the next opening."""
        return self.add(moment, timedelta())
