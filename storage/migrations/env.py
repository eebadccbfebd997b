"""Alembic environment: `qms-bot migrate` passes its engine in; `alembic` on the command line
works on the database DATABASE_URL names."""

import os

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import storage  # noqa: F401  (registers every table on the metadata)

config = context.config
target_metadata = SQLModel.metadata


def render_item(type_, obj, autogen_context):
    """Write our column types as plain SQLAlchemy ones, so migrations never import the app."""
    from sqlmodel.sql.sqltypes import AutoString

    from storage.types import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.Text()"
    return False


def _engine():
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine
    # Run as `alembic …` from a shell (README: adding a migration), on the database DATABASE_URL names.
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("alembic: set DATABASE_URL to the database to work on, e.g. sqlite:///dev.db")
    return create_engine(url)


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, render_item=render_item,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with _engine().connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_item=render_item,
                          render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
