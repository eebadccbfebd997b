"""Fixtures shared by every test. See tests/harness for the pieces."""

from __future__ import annotations

import inspect

import freezegun
import freezegun.api
import pytest

from app.local_slack import LocalSlack
from handlers.core import people
from tests.harness.bot import TEAM_ID, BotUnderTest, seed_workspace
from tests.harness.databases import PG_ENV, PostgresDatabase, SqliteTemplate, postgres_server_url

# The HTTP server and the Slack stand-in run on their own threads; their socket timeouts must
# see real time even while a test has frozen the clock.
freezegun.configure(extend_ignore_list=["waitress", "http.server", "socketserver", "selectors"])


def _should_use_real_time() -> bool:
    """freezegun's own check, reading the freeze's ignore list once. freezegun checks that a freeze is on,
    then reads the list: a freeze that ends on the test's thread in between (stop() pops the list) raised
    IndexError on the HTTP server's thread, which killed its loop, and the test's next request timed out."""
    limit = freezegun.api.call_stack_inspection_limit
    if not limit:
        return False
    try:
        ignored = freezegun.api.ignore_lists[-1]
    except IndexError:  # the freeze has ended
        return True
    if not ignored:
        return False
    frame = inspect.currentframe().f_back.f_back  # who asked fake_time (or its siblings) for the time
    for _ in range(limit):
        if frame is None:
            break
        name = frame.f_globals.get("__name__")
        if name and name.startswith(ignored):
            return True
        frame = frame.f_back
    return False


freezegun.api._should_use_real_time = _should_use_real_time

both_databases = pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)


@pytest.fixture(autouse=True)
def no_people_from_an_earlier_test():
    """people.lookup caches users.info by API address; a later test's Slack stand-in may get an
    earlier one's port, and must not be answered from that earlier workspace."""
    people.forget_cache()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres():
    url = postgres_server_url()
    if url is None:
        yield None
        return
    database = PostgresDatabase(url)
    yield database
    database.drop()


@pytest.fixture(params=["sqlite"])
def database(request, tmp_path, sqlite_template, postgres):
    """A migrated, empty database. SQLite unless a test asks for both with @both_databases."""
    if request.param == "postgres":
        if postgres is None:
            pytest.skip(f"{PG_ENV} is not set: PostgreSQL tests skipped")
        yield postgres.emptied()
        return
    db = sqlite_template.fresh(tmp_path)
    yield db
    db.dispose()


@pytest.fixture
def slack():
    """Slack's Web API on loopback, with a seeded workspace; records every call."""
    with LocalSlack(team_id=TEAM_ID) as local:
        seed_workspace(local)
        yield local


@pytest.fixture
def bot(database, slack):
    """The real app over real HTTP, its Web API calls going to `slack`."""
    under_test = BotUnderTest(database, slack)
    yield under_test
    under_test.close()
