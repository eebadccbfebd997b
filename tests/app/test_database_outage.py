"""A database that is down or silent is answered, never a hang or a 500 (PostgreSQL behind a TCP
proxy the test cuts, silences and restores)."""

from __future__ import annotations

import pytest
from sqlalchemy import make_url

from storage.db import Database
from tests.harness.bot import BotUnderTest
from tests.harness.databases import postgres_server_url
from tests.harness.tcp_proxy import TcpProxy
from tests.harness.teams import make_team

pytestmark = pytest.mark.postgres

UNREACHABLE = "can't reach its database"


@pytest.fixture
def behind_proxy(postgres, slack):
    if postgres is None or postgres_server_url() is None:
        pytest.skip("QMS_TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    direct = postgres.emptied()
    url = make_url(direct.url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    db = Database(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), timeout=1.0)
    bot = BotUnderTest(db, slack)
    make_team(direct)
    yield bot, proxy
    proxy.restore()
    bot.close()
    proxy.close()
    db.dispose()


@pytest.mark.parametrize("trouble", ["cut", "silence"])
def test_while_the_database_is_away_every_request_is_answered_quickly_and_it_recovers(behind_proxy, trouble):
    bot, proxy = behind_proxy
    assert bot.get("/healthz").status == 200
    assert bot.command("risk list", channel="payments").status == 200

    getattr(proxy, trouble)()
    health = bot.get("/healthz")
    assert health.status == 503 and health.seconds < 2.0
    for _ in range(3):
        reply = bot.command("risk list", channel="payments", wait=False)
        assert reply.status == 200 and reply.seconds < 3.0
        assert UNREACHABLE in reply.json.get("text", ""), reply.body

    proxy.restore()
    assert bot.get("/healthz").status == 200
    reply = bot.command("risk list", channel="payments")
    assert reply.status == 200 and UNREACHABLE not in reply.body
