"""Per-workspace numbering (QR-001, INC-001, ...) that stays unique under concurrent requests."""

from __future__ import annotations

from sqlmodel import Field, Session, SQLModel

from storage.db import dialect_insert


class Counter(SQLModel, table=True):
    __tablename__ = "counter"

    workspace_id: str = Field(max_length=32, primary_key=True)
    name: str = Field(max_length=32, primary_key=True)
    value: int = 0


def next_number(session: Session, workspace_id: str, name: str) -> int:
    """Take the next number of a workspace's sequence.

    One upsert statement: the row lock it takes (PostgreSQL) or the write lock (SQLite) makes
    concurrent callers wait for each other, so no two transactions get the same number.
    """
    table = Counter.__table__
    statement = (
        dialect_insert(session, table)
        .values(workspace_id=workspace_id, name=name, value=1)
        .on_conflict_do_update(
            index_elements=[table.c.workspace_id, table.c.name],
            set_={"value": table.c.value + 1},
        )
        .returning(table.c.value)
    )
    return session.execute(statement).scalar_one()
