"""Databases for tests: SQLite always; PostgreSQL when QMS_TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlmodel import SQLModel, func, select

import storage  # noqa: F401  (every table on the metadata)
from storage.db import Database

PG_ENV = "QMS_TEST_DATABASE_URL"


def postgres_server_url() -> str | None:
    return os.environ.get(PG_ENV) or None


class SqliteTemplate:
    """One migrated SQLite file per session; each test gets a copy (much faster than migrating)."""

    def __init__(self, directory: Path):
        self.path = directory / "template.db"
        db = Database(f"sqlite:///{self.path}")
        db.migrate()
        db.dispose()

    def fresh(self, directory: Path) -> Database:
        target = directory / "qms.db"
        shutil.copy(self.path, target)
        return Database(f"sqlite:///{target}")


class PostgresDatabase:
    """A private database on the test server for this session, so parallel runs don't collide."""

    def __init__(self, server_url: str):
        self.server_url = server_url
        self.name = f"qms_test_{uuid.uuid4().hex[:12]}"
        self.url = make_url(server_url).set(database=self.name).render_as_string(hide_password=False)
        self._admin(f'CREATE DATABASE "{self.name}"')
        self.db = Database(self.url)
        self.db.migrate()

    def emptied(self) -> Database:
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with self.db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        return self.db

    def drop(self) -> None:
        self.db.dispose()
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def _admin(self, statement: str) -> None:
        engine = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(statement))
        engine.dispose()


def fresh_postgres(server_url: str) -> tuple[Database, callable]:
    """An empty, unmigrated database (for the migration tests) and its cleanup."""
    name = f"qms_empty_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(make_url(server_url).set(database=name).render_as_string(hide_password=False))

    def cleanup() -> None:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return db, cleanup


def count_rows(db: Database, model) -> int:
    with db.transaction() as session:
        return session.exec(select(func.count()).select_from(model)).one()
