"""What every listener is handed, built once per process by the process layer (app/services.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlmodel import Session

from bot.core.settings import Settings
from storage import outbox
from storage.db import Database


def _nothing() -> None:
    return None


@dataclass(kw_only=True)
class Services:
    """The settings and the database, and the way a listener changes anything: `transaction()`."""

    settings: Settings
    db: Database
    deliver: Callable[[], None] = _nothing  # sends what is due in the outbox, without waiting for it

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction (Database.transaction); the outbox rows it queued (cards, DMs, pings)
        are sent once it has committed, in the background, without the listener asking."""
        with self.db.transaction() as session:
            yield session
        if outbox.queued(session):
            self.deliver()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads (Database.reading): a list, a report; nothing is queued."""
        with self.db.reading() as session:
            yield session
