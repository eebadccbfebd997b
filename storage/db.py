"""The engine, one transaction per unit of work, and the migration state."""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
import weakref
from collections import OrderedDict
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
_READ_ONLY = "qms_read_only"
MEMO_SIZE = 512  # answers kept per process (Database.remember)
ID_MAX = 2**31 - 1  # our row ids are integers, 32-bit on PostgreSQL


class Database:
    """One engine per process. Every unit of work opens its own session: Bolt runs listeners
    on a thread pool, and a session must never be shared across threads."""

    def __init__(self, url: str, *, pool: bool = True, timeout: float | None = None):
        """`timeout` (seconds; PostgreSQL): how long connecting may take, and any one statement or
        wait for a lock, so that a database that stops answering is an error, never a hang."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.timeout = timeout
        kwargs = {} if pool else {"poolclass": NullPool}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(pool_pre_ping=True)
            if timeout:
                millis = int(timeout * 1000)
                kwargs["pool_timeout"] = timeout
                kwargs["connect_args"] = {
                    "connect_timeout": max(int(timeout + 0.999), 1),
                    "options": f"-c statement_timeout={millis} -c lock_timeout={millis}",
                    # a silent server (a network gone quiet) is noticed by TCP within about `timeout`
                    "keepalives": 1, "keepalives_idle": max(int(timeout), 1), "keepalives_interval": 1,
                    "keepalives_count": 2, "tcp_user_timeout": millis,
                }
        self.engine: Engine = create_engine(url, **kwargs)
        self.watchdog: Watchdog | None = None
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        elif timeout:
            self.watchdog = Watchdog(self.engine, limit=timeout + WATCHDOG_GRACE)
        self._reader = self.engine.execution_options(**{_READ_ONLY: True})  # the same pool
        self._memo: OrderedDict[tuple, tuple[datetime, object]] = OrderedDict()
        self._memo_lock = threading.Lock()
        self._computing: dict[tuple, threading.Lock] = {}

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Commit everything done in the block, or nothing."""
        with Session(self.engine, expire_on_commit=False) as session:
            with session.begin():
                yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads (a list, a report): on SQLite it does not take the write lock
        (a deferred BEGIN, one consistent snapshot under WAL), so reads neither queue behind each other
        nor behind a writer. Anything it would write is refused (ReadOnly) and nothing is committed."""
        with Session(self._reader, expire_on_commit=False) as session:
            session.info[_READ_ONLY] = True
            with session.begin():
                yield session

    # --- answers kept while nothing changed -------------------------------------------------
    def remembered(self, key: tuple, *, now: datetime, max_age: timedelta) -> object | None:
        """What `remember` kept under `key` (which should hold data_version()), if computed within
        `max_age` of `now`; else None."""
        with self._memo_lock:
            found = self._memo.get(key)
            if found is None or abs(now - found[0]) > max_age:
                return None
            self._memo.move_to_end(key)
            return found[1]

    def remembered_or(self, key: tuple, *, now: datetime, max_age: timedelta, compute) -> object:
        """`remembered`, else `compute()`'s value, remembered: of several threads that miss at once,
        one computes and the others wait for its value."""
        found = self.remembered(key, now=now, max_age=max_age)
        if found is not None:
            return found
        with self._memo_lock:
            computing = self._computing.setdefault(key, threading.Lock())
        try:
            with computing:
                found = self.remembered(key, now=now, max_age=max_age)
                if found is None:
                    found = compute()
                    self.remember(key, found, now=now)
        finally:
            with self._memo_lock:
                self._computing.pop(key, None)
        return found

    def remember(self, key: tuple, value: object, *, now: datetime) -> None:
        with self._memo_lock:
            self._memo[key] = (now, value)
            self._memo.move_to_end(key)
            while len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)

    def is_reachable(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def is_ready(self) -> bool:
        """Reachable, and its schema is there (a re-created empty database is not ready)."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1 FROM outbox_message WHERE 1 = 0"))
            return True
        except Exception:
            return False

    # --- migrations -------------------------------------------------------------------
    # Alembic (and Mako, and Pygments behind it: some 10 MB) is imported only to migrate or check.
    def alembic_config(self):
        from alembic.config import Config as AlembicConfig

        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        config.attributes["engine"] = self.engine
        return config

    def migrate(self) -> None:
        from alembic import command

        command.upgrade(self.alembic_config(), "head")

    def is_migrated(self) -> bool:
        head = _head_revision()
        if head is None:  # not one plain chain: ask Alembic
            from alembic.runtime.migration import MigrationContext
            from alembic.script import ScriptDirectory

            head = ScriptDirectory.from_config(self.alembic_config()).get_current_head()
            with self.engine.connect() as conn:
                current = MigrationContext.configure(conn).get_current_revision()
            return current == head
        try:
            with self.engine.connect() as conn:
                current = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        except SQLAlchemyError:  # no alembic_version table: never migrated
            return False
        return current == [head]

    def dispose(self) -> None:
        self.engine.dispose()


WATCHDOG_GRACE = 1.0  # seconds past DATABASE_TIMEOUT before a call still waiting is cut off
WATCHDOG_EVERY = 0.25  # seconds between the watchdog's looks


class Watchdog:
    """Cuts off a PostgreSQL call that has waited longer than `limit` for the server's answer.

    statement_timeout is the server's: a server (or a network) gone silent never sends the error. TCP
    keepalives and tcp_user_timeout do not help either when something between us and the server (a
    proxy, a load balancer) keeps acknowledging: the call waits forever, and so does the thread that
    made it (a listener, a clock job). So one thread looks at every connection a few times a second;
    one that has been busy with the same call for longer than `limit` has its socket shut down: the
    call fails at once with a connection error, the transaction is rolled back by the server when
    its end of the connection closes, and the pool drops the connection (a disconnect).

    "Busy" is libpq's own view (PQtransactionStatus is ACTIVE while a command is in flight), and "the
    same call" is counted by the statements, commits and rollbacks SQLAlchemy reports on it, so a
    connection idle in a transaction, however long, is never touched."""

    def __init__(self, engine: Engine, *, limit: float):
        self.limit = limit
        self._connections: "weakref.WeakSet" = weakref.WeakSet()
        self._calls: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # connection → calls begun
        self._busy: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # connection → (call, since)
        self._lock = threading.Lock()
        self.cut_off = 0  # calls cut off so far (for tests and logs)
        event.listen(engine, "connect", self._on_connect)
        for name in ("before_cursor_execute", "commit", "rollback"):
            event.listen(engine, name, self._on_call)
        event.listen(engine, "reset", self._on_reset)
        # The thread holds the watchdog weakly: it ends when the engine (which holds it) is gone.
        threading.Thread(target=_watch, args=(weakref.ref(self),), name="db-watchdog", daemon=True).start()

    def _on_connect(self, dbapi_connection, _record) -> None:
        with self._lock:
            self._connections.add(dbapi_connection)

    def _on_call(self, conn, *_args) -> None:
        try:
            self._count(conn.connection.dbapi_connection)
        except Exception:  # a connection already closed or invalidated: nothing to watch
            pass

    def _on_reset(self, dbapi_connection, _record, _state) -> None:
        self._count(dbapi_connection)

    def _count(self, dbapi_connection) -> None:
        if dbapi_connection is None:
            return
        with self._lock:
            self._calls[dbapi_connection] = self._calls.get(dbapi_connection, 0) + 1

    def _look(self, now: float) -> None:
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            pgconn = getattr(connection, "pgconn", None)
            if pgconn is None or connection.closed or not _in_flight(pgconn):
                self._busy.pop(connection, None)
                continue
            call = self._calls.get(connection, 0)
            seen = self._busy.get(connection)
            if seen is None or seen[0] != call:
                self._busy[connection] = (call, now)
            elif now - seen[1] > self.limit:
                self._busy.pop(connection, None)
                if _shut_down(pgconn):
                    self.cut_off += 1
                    log.warning("database watchdog: a call waited %.1f s for PostgreSQL's answer; its connection "
                                "was cut off", now - seen[1])


def _watch(watchdog_ref) -> None:
    while True:
        time.sleep(WATCHDOG_EVERY)
        watchdog = watchdog_ref()
        if watchdog is None:
            return
        try:
            watchdog._look(time.monotonic())
        except Exception:  # the watchdog must never die
            log.exception("database watchdog: a look failed")
        del watchdog


def _in_flight(pgconn) -> bool:
    from psycopg import pq

    try:
        return pgconn.transaction_status == pq.TransactionStatus.ACTIVE
    except Exception:
        return False


def _shut_down(pgconn) -> bool:
    """Shut the connection's socket down under libpq's feet: the thread waiting on it wakes to an EOF."""
    try:
        fd = pgconn.socket
    except Exception:
        return False
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return False
    try:
        sock.shutdown(socket.SHUT_RDWR)
        return True
    except OSError:
        return False
    finally:
        sock.close()


_REVISION = re.compile(r"""^(down_revision|revision)\s*(?::[^=]*)?=\s*(None|'[^']*'|"[^"]*")\s*$""", re.M)


@lru_cache(maxsize=1)
def _head_revision() -> str | None:
    """The newest migration, read from the files (without importing Alembic); None unless the
    migrations form one chain."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict(_REVISION.findall(path.read_text()))
        if "revision" not in found or "down_revision" not in found:
            return None
        revisions.add(found["revision"].strip("'\""))
        if found["down_revision"] != "None":
            parents.add(found["down_revision"].strip("'\""))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and len(parents) == len(revisions) - 1 else None


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take over transaction control from pysqlite so that BEGIN IMMEDIATE below is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A deferred transaction that reads and then writes can fail with "database is locked"
        # when another writer got in between; taking the write lock up front serialises cleanly.
        # Database.reading()'s transactions never write: they need no lock.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(_READ_ONLY) else "BEGIN IMMEDIATE")


# --- the data version: a number that every committed change of the bot's data moves ------------------
# Bookkeeping that changes no figure anyone reads (deliveries, heartbeats, sessions, numbering) does not.
UNCOUNTED = frozenset({"outbox_message", "counter", "clock_heartbeat", "processed_event", "dashboard_session",
                       "dashboard_link", "login_link", "modal_origin", "webhook_delivery", "channel_pace",
                       "held_message"})
_CHANGED = "qms_changed"
_BUMP = text("INSERT INTO counter (workspace_id, name, value) VALUES ('', 'data_version', 1) "
             "ON CONFLICT (workspace_id, name) DO UPDATE SET value = counter.value + 1")


def data_version(session: Session) -> int:
    """Moves (in the same transaction) with every commit that changed a row outside UNCOUNTED:
    an answer computed from the data and kept under this number is never staler than the last commit."""
    found = session.execute(text("SELECT value FROM counter WHERE workspace_id = '' AND name = 'data_version'"))
    return found.scalar() or 0


@event.listens_for(Session, "after_flush")
def _note_changes(session, _flush_context) -> None:
    for row in (*session.new, *session.dirty, *session.deleted):
        if getattr(row, "__tablename__", None) not in UNCOUNTED:
            session.info[_CHANGED] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _note_statements(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) not in UNCOUNTED:
            state.session.info[_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _bump_data_version(session) -> None:
    if session.info.get(_READ_ONLY):
        return
    session.flush()  # what is still pending is part of this commit
    if session.info.pop(_CHANGED, False):
        session.execute(_BUMP)


@event.listens_for(Session, "after_rollback")
def _forget_changes(session) -> None:
    session.info.pop(_CHANGED, None)


class ReadOnly(Exception):
    """Something tried to write in Database.reading()'s transaction."""


@event.listens_for(Session, "before_flush")
def _refuse_writes_when_reading(session, _flush_context, _instances) -> None:
    if session.info.get(_READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise ReadOnly("a write in a read-only transaction (Database.reading)")


def dialect_insert(session: Session, table):
    """An INSERT that knows ON CONFLICT, for whichever database the session is on."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)
