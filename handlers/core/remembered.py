"""Answers to read commands (a list, the metrics report) kept while nothing changed: under the data
version every committed change moves (storage.db.data_version), and for MAX_AGE at most, since what
they show is reckoned from the moment asked (ages, windows, what is overdue)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from handlers.core.deps import Services
from storage.db import data_version

MAX_AGE = timedelta(seconds=15)


def answer(services: Services, session: Session, key: tuple, *, now: datetime,
           compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The answer kept under `key` (everything it depends on besides the data and the time), or
    `compute()`'s, kept from now on. `session` is the read's transaction (the version is its snapshot's)."""
    key = (*key, data_version(session))
    found = services.db.remembered(key, now=now, max_age=MAX_AGE)
    if found is None:
        found = compute()
        services.db.remember(key, found, now=now)
    return found
