"""Database.reading(): a read-only transaction takes no write lock on SQLite and refuses to write."""

import pytest

from storage.db import ReadOnly
from tests.harness.teams import make_team


def test_a_reading_transaction_does_not_hold_up_a_writer(database):
    team = make_team(database, "Payments", channel="payments")
    if not database.is_sqlite:
        pytest.skip("SQLite's write lock")
    with database.reading() as reader:
        from storage import teams as team_store

        assert team_store.get_team(reader, team.workspace_id, team.id).name == "Payments"
        # a writer commits while the read is open: it would wait 30 s for BEGIN IMMEDIATE's lock
        with database.transaction() as writer:
            changed = team_store.get_team(writer, team.workspace_id, team.id)
            changed.name = "Payments EU"


def test_a_reading_transaction_refuses_to_write(database):
    team = make_team(database, "Payments", channel="payments")
    from storage import teams as team_store

    with pytest.raises(ReadOnly):
        with database.reading() as session:
            team_store.get_team(session, team.workspace_id, team.id).name = "Changed"
            session.flush()
    with database.reading() as session:
        assert team_store.get_team(session, team.workspace_id, team.id).name == "Payments"


def test_the_data_version_moves_with_a_commit_that_changes_data_and_not_with_bookkeeping(database):
    from datetime import UTC, datetime

    from storage import outbox
    from storage.db import data_version

    team = make_team(database, "Payments", channel="payments")
    with database.reading() as session:
        before = data_version(session)
    with database.transaction() as session:  # an outbox row alone: a delivery's bookkeeping
        outbox.enqueue(session, workspace_id=team.workspace_id, key="k", method="chat.postMessage",
                       payload={"channel": "C1", "text": "hi"}, now=datetime(2026, 1, 1, tzinfo=UTC))
    with database.reading() as session:
        assert data_version(session) == before
    with database.transaction() as session:
        from storage import teams as team_store

        team_store.get_team(session, team.workspace_id, team.id).name = "Payments EU"
    with database.reading() as session:
        assert data_version(session) == before + 1
    with pytest.raises(RuntimeError):  # a rolled-back change moves nothing
        with database.transaction() as session:
            team_store.get_team(session, team.workspace_id, team.id).name = "Payments US"
            session.flush()
            raise RuntimeError("changed my mind")
    with database.reading() as session:
        assert data_version(session) == before + 1
