"""The one place that reads the wall clock. Domain functions take `now` instead.

The local console may move its own clock (`time +25h`): `shift_clock` sets how far this process's
clock is ahead of the machine's. Nothing else sets it, so a server's clock is the machine's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_ahead = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(UTC) + _ahead


def shift_clock(ahead: timedelta) -> None:
    """Make this process's clock run `ahead` of the machine's (the console's `time`)."""
    global _ahead
    _ahead = ahead


def clock_ahead() -> timedelta:
    return _ahead
