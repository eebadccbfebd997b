"""The one place that reads the wall clock. Domain functions take `now` instead."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
