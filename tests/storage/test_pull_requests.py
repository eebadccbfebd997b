"""Pull-request storage: a delivery recorded once, old ones forgotten, one row per pull request
however many deliveries race to add it, every query inside its workspace."""

import threading
from datetime import UTC, datetime, timedelta

from storage import pull_requests as store
from tests.conftest import both_databases
from tests.harness.teams import make_team

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@both_databases
def test_a_delivery_is_first_once_and_forgotten_after_its_time(database):
    with database.transaction() as session:
        first = store.first_delivery(session, "github", "1:abc", "T0TEST", now=NOW - timedelta(days=8))
        again = store.first_delivery(session, "github", "1:abc", "T0TEST", now=NOW)
        other = store.first_delivery(session, "gitlab", "1:abc", "T0TEST", now=NOW)
    with database.transaction() as session:
        forgotten = store.forget_deliveries_before(session, NOW - timedelta(days=7))
        anew = store.first_delivery(session, "github", "1:abc", "T0TEST", now=NOW)

    assert (first, again, other, forgotten, anew) == (True, False, True, 1, True)


@both_databases
def test_deliveries_racing_to_add_one_pull_request_get_one_row(database):
    team = make_team(database)
    found, barrier = [], threading.Barrier(4)

    def add():
        barrier.wait()
        with database.transaction() as session:
            row = store.add_pull_request(session, workspace_id=team.workspace_id, team_id=team.id, provider="github",
                                         repository_name="acme/api", number=7, author_login="dave", state="open",
                                         now=NOW)
            found.append(row.id)

    threads = [threading.Thread(target=add) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]

    assert len(found) == 4 and len(set(found)) == 1


@both_databases
def test_a_pull_request_of_another_workspace_is_not_found(database):
    team = make_team(database)
    with database.transaction() as session:
        store.add_pull_request(session, workspace_id=team.workspace_id, team_id=team.id, provider="github",
                               repository_name="acme/api", number=7, author_login=None, state="open", now=NOW)
    with database.transaction() as session:
        assert store.pull_request(session, "T0OTHER", "github", "acme/api", 7) is None
        assert store.pull_request(session, team.workspace_id, "github", "acme/api", 7) is not None
