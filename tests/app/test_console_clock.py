"""The console can run the clock and move its time: an incident declared in one run climbs to
Level 2 in the next once the console's clock is 25 hours ahead, and its card (posted by the earlier
run, in a channel that run created) is updated, not refused."""

import io
from datetime import timedelta

import pytest

from app.console import TEAM_ID, Console
from bot import incidents
from bot.core import timeutil
from bot.core.settings import Settings
from tests.harness.teams import make_team


@pytest.fixture
def console_run(tmp_path):
    runs = []

    def start(user="alice"):
        settings = Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path}/qms.db"})
        console = Console(settings, user_name=user, stdin=io.StringIO(), stdout=io.StringIO())
        console.services.db.migrate()
        runs.append(console)
        return console

    yield start
    timeutil.shift_clock(timedelta(0))
    for console in runs:
        console.slack.stop()
        console.services.db.dispose()


def said(console, since=0):
    return console.stdout.getvalue()[since:]


def test_time_moves_the_consoles_clock_and_clock_runs_what_came_due_on_a_card_of_an_earlier_run(console_run):
    first = console_run()
    team = make_team(first.services.db, workspace_id=TEAM_ID)
    with first.services.db.transaction() as session:
        incident = incidents.declare(session, session.merge(team), incidents.IncidentForm(
            title="Checkout fails", severity="SEV1", commander_id="UDAVE"), actor_id="UDAVE", now=timeutil.utcnow())
    first.handle("clock")
    first.services.wait_idle()
    first.slack.stop()

    second = console_run()  # a new run: its Slack stand-in has never seen the card
    second.handle("time +25h")
    assert "ahead of this machine" in said(second) and "1 d 1 h" in said(second)
    mark = len(said(second))
    second.handle("clock")

    shown = said(second, mark)
    assert "The clock ran at" in shown
    assert "is now at *Level 2 · Management involvement*" in shown
    card = shown.split("── #payments, updated ──")[1]
    assert "INC-001 · Checkout fails" in card and "Level 2 · Management involvement" in card
    assert "message_not_found" not in shown and "Slack refused" not in shown


@pytest.mark.parametrize("typed, ahead", [("+90m", timedelta(minutes=90)), ("+3d", timedelta(days=3)),
                                          ("-2h", timedelta(hours=-2))])
def test_time_takes_spans_and_now_puts_it_back(console_run, typed, ahead):
    console = console_run()

    console.handle(f"time {typed}")
    moved = timeutil.clock_ahead()
    console.handle("time now")

    assert abs(moved - ahead) < timedelta(seconds=5)
    assert timeutil.clock_ahead() == timedelta(0) or abs(timeutil.clock_ahead()) < timedelta(seconds=1)


def test_time_to_a_date_and_a_wrong_time_says_how(console_run):
    console = console_run()

    console.handle("time 2030-12-07 09:00")
    console.handle("time next tuesday")

    assert "It is Sat 07 Dec 2030 09:00 UTC in the console" in said(console)
    assert "Say `time +25h`" in said(console)
