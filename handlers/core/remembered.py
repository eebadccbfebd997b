"""Answers to read commands (a list, the metrics report) kept while nothing changed: under the data
version every committed change moves (storage.db.data_version), and for MAX_AGE at most, since what
they show is reckoned from the moment asked (ages, windows, what is overdue). A kept answer costs one
small query; of several requests that miss at once, one computes and the others wait for it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from handlers.core.deps import Services
from storage.db import data_version

MAX_AGE = timedelta(seconds=15)


def answer(services: Services, key: tuple, *, now: datetime,
           compute: Callable[[Session], dict[str, Any]]) -> dict[str, Any]:
    """The answer kept under `key` (everything the answer depends on besides the data and the time:
    the command's workspace, channel, person, words), else `compute(session)`'s, in one read-only
    transaction (the version is its snapshot's). A refusal `compute` raises is not kept."""
    with services.reading() as session:
        key = (*key, data_version(session))
        return services.db.remembered_or(key, now=now, max_age=MAX_AGE, compute=lambda: compute(session))
