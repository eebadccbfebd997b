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
