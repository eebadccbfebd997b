"""Two changes of one risk at the same moment on PostgreSQL: every change bumps the risk's
version, and the version names the card update it queues (`risk:{id}:card:v{n}`). A change that
read the version before the other committed would write it backwards; its update, and the next
change's, would then reuse a key already taken and be dropped, and the card would stop following
the risk. Here one change holds the risk while the other starts, and the card must end right."""

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import text

from bot import risks
from bot.core.timeutil import utcnow
from bot.risks import RiskForm
from storage import outbox
from storage import risks as store
from tests.handlers.risks.test_card import tick, ticked
from tests.handlers.risks.test_commands import card
from tests.harness.teams import make_team

ACTIONS = ["Conduct security audit and penetration testing", "Implement additional authentication security measures",
           "Enhanced security code review training"]
on_postgres = pytest.mark.parametrize("database", ["postgres"], indirect=True)


@pytest.fixture
def risk(bot, slack):
    """QR-001, 3 × 4 = 12 (high), with three actions, whose review date has passed; its card is posted."""
    team = make_team(bot.db)
    logged_at = utcnow() - timedelta(days=8)
    with bot.db.transaction() as session:
        form = RiskForm("Security vulnerability in authentication system", "3", "4", "UDAVE", actions=ACTIONS,
                        review_by=(logged_at + timedelta(days=1)).date())
        row = risks.log_risk(session, session.merge(team), form, actor_id="UALICE", now=logged_at).risk
    bot.services.deliver_outbox()
    return row


def change_bands_as_bob(bot, view):
    bot.submit(view, {"medium": "5", "high": "8", "critical": "12"}, user="bob")  # 12 becomes critical


def remind_as_the_clock(bot, _view):
    assert risks.remind_due_reviews(bot.db, now=utcnow()) == 1
    bot.services.deliver_outbox()


@on_postgres
@pytest.mark.parametrize("other_change, band", [(change_bands_as_bob, "critical"), (remind_as_the_clock, "high")])
def test_a_change_racing_a_tick_leaves_the_card_right_and_later_updates_land(bot, slack, risk, other_change, band):
    bot.command("risk bands", user="bob", channel="payments")
    bands_form = bot.last_view()
    with bot.db.transaction() as session:
        items = store.actions_of(session, risk)
    other = threading.Thread(target=other_change, args=(bot, bands_form))

    with bot.db.transaction() as session:  # two ticks, holding the risk until the other change waits for it
        row, team = risks.open_risk(session, "T0TEST", risk.id)
        risks.tick(session, row, team, {items[0].id: True}, actor_id="UFRANK", now=utcnow())
        risks.tick(session, row, team, {items[1].id: True}, actor_id="UFRANK", now=utcnow())
        other.start()
        wait_until_a_connection_waits_for_a_lock(bot.db)
    other.join()
    bot.services.deliver_outbox()
    tick(bot, slack, ACTIONS[2], user="grace")  # a later change still reaches the card

    assert ticked(card(slack)) == ACTIONS
    assert card(slack)["text"].startswith(f"QR-001 · Security vulnerability in authentication system — score 12 "
                                          f"({band})")
    with bot.db.transaction() as session:
        version = store.get_risk(session, "T0TEST", risk.id).version
        updates = [m.key for m in outbox.messages(session, "T0TEST", key_prefix=f"risk:{risk.id}:card:")]
    assert version == 5  # logged, two ticks, the other change, the later tick
    assert updates == [f"risk:{risk.id}:card:v{n}" for n in (2, 3, 4, 5)]
    assert len(slack.calls_to("chat.update")) == 4


def wait_until_a_connection_waits_for_a_lock(db, seconds=30):
    """Until another connection to this test's database waits for a lock (the test's own database,
    so nothing else waits there). PostgreSQL answers at once; nothing sleeps."""
    deadline = time.monotonic() + seconds
    query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                 "AND wait_event_type = 'Lock'")
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        while time.monotonic() < deadline:
            if connection.execute(query).scalar():
                return
    raise AssertionError(f"nothing waited for a lock within {seconds} s")
