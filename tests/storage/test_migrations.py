"""Migrations build the whole schema from empty, on SQLite and on PostgreSQL, and agree with the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import storage  # noqa: F401
from storage.db import Database
from tests.harness.databases import PG_ENV, fresh_postgres, postgres_server_url


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path}/empty.db")
        yield db
        db.dispose()
        return
    server = postgres_server_url()
    if server is None:
        pytest.skip(f"{PG_ENV} is not set: PostgreSQL tests skipped")
    db, cleanup = fresh_postgres(server)
    yield db
    cleanup()


def test_an_empty_database_is_not_migrated_until_migrate_runs(empty_database):
    assert not empty_database.is_migrated()

    empty_database.migrate()

    assert empty_database.is_migrated()
    tables = set(inspect(empty_database.engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables


def test_migrating_twice_changes_nothing(empty_database):
    empty_database.migrate()
    empty_database.migrate()

    assert empty_database.is_migrated()


def test_the_migrated_schema_matches_the_models(empty_database):
    empty_database.migrate()

    with empty_database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)

    assert differences == []
