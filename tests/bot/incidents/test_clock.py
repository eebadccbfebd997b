"""The escalation matrix as rules, and the sweep's exactly-once guarantee with two clocks at once."""

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import func, select

from app import clock
from app.services import build_runtime
from bot import incidents
from bot.core.errors import Invalid
from bot.core.settings import Settings
from storage import incidents as store
from storage import outbox
from storage.audit import AuditEvent
from storage.incidents import IncidentEvent
from tests.conftest import both_databases
from tests.harness.bot import BOT_TOKEN, blocks_text
from tests.harness.teams import make_team

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GUIDE = incidents.Thresholds(24, 48)


# --- the matrix ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("age, level", [
    (timedelta(0), 1), (timedelta(hours=23, minutes=59, seconds=59), 1), (timedelta(hours=24), 2),
    (timedelta(hours=47, minutes=59), 2), (timedelta(hours=48), 3), (timedelta(days=30), 3),
])
def test_the_guides_matrix_is_level_1_until_24_hours_level_2_until_48_then_level_3(age, level):
    assert GUIDE.due_level(T0, T0 + age) == level


@given(st.floats(0.25, 700), st.floats(0.25, 700), st.integers(0, 10**7), st.integers(0, 10**7))
def test_the_due_level_never_goes_down_as_time_passes(first, second, earlier, later):
    limits = incidents.Thresholds(min(first, second), max(first, second) + 0.25)
    earlier, later = sorted((earlier, later))

    assert limits.due_level(T0, T0 + timedelta(seconds=earlier)) <= limits.due_level(T0, T0 + timedelta(seconds=later))


def test_the_next_escalation_is_counted_from_declaration_and_there_is_none_at_the_top():
    assert GUIDE.next_escalation(T0, 1) == (2, T0 + timedelta(hours=24))
    assert GUIDE.next_escalation(T0, 2) == (3, T0 + timedelta(hours=48))
    assert GUIDE.next_escalation(T0, 3) is None


@pytest.mark.parametrize("text, hours", [("24 / 48", (24, 48)), ("4,8", (4, 8)), ("4h 8h", (4, 8)),
                                         ("0.5 / 1.5", (0.5, 1.5)), ("soon", None), ("24", None), ("", None),
                                         ("\u0662\u0664 / \u0664\u0668", None), ("\u00b2 / 48", None),
                                         ("9" * 5000 + " / 1", None)])
def test_thresholds_are_written_as_two_numbers_of_hours(text, hours):
    assert incidents.parse_hours(text) == hours


def test_each_team_and_severity_has_the_guides_thresholds_until_changed(database):
    team = make_team(database)

    with database.transaction() as session:
        team = session.merge(team)
        assert incidents.thresholds(team, "SEV3") == GUIDE
        incidents.save_thresholds(session, team, {"SEV1": "4 / 8"}, actor_id="UBOB", now=T0)
        changed = (incidents.thresholds(team, "SEV1"), incidents.thresholds(team, "SEV2"))
        stored = team.escalation_hours

    assert changed == (incidents.Thresholds(4, 8), GUIDE)
    assert stored == {"SEV1": [4, 8]}  # only what differs from the guide is stored


def test_unreadable_stored_thresholds_fall_back_to_the_guides():
    team = type("Team", (), {"escalation_hours": {"SEV1": "garbage", "SEV2": [1]}})()

    assert incidents.thresholds(team, "SEV1") == incidents.thresholds(team, "SEV2") == GUIDE


@pytest.mark.parametrize("values, field", [({"SEV1": "8 / 4"}, "sev1"), ({"SEV2": "0 / 4"}, "sev2"),
                                           ({"SEV3": "24 / 1000"}, "sev3"), ({"SEV7": "1 / 2"}, "sev7")])
def test_thresholds_out_of_order_or_range_are_refused_by_field(values, field):
    with pytest.raises(Invalid) as invalid:
        incidents.validate_thresholds(values)

    assert set(invalid.value.problems) == {field}


# --- the sweep ---------------------------------------------------------------------------------------------------
def declare(database, team, title="Checkout fails", *, severity="SEV1", now=T0):
    form = incidents.IncidentForm(title=title, severity=severity, commander_id="UDAVE")
    with database.transaction() as session:
        return incidents.declare(session, session.merge(team), form, actor_id="UDAVE", now=now)


def services_for(database, slack):
    settings = Settings.from_env({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.api_url,
                                  "DATABASE_URL": database.url,
                                  "SLACK_CHANNEL_RATE": "0"})  # unpaced: pacing is tested in test_sender.py
    return build_runtime(settings, db=database)


def rows(database, model, **where):
    with database.transaction() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return session.exec(query).one()


def test_the_sweep_escalates_only_what_is_due(database):
    team = make_team(database)
    old, fresh = declare(database, team, "Old"), declare(database, team, "Fresh", now=T0 + timedelta(hours=20))

    moved = incidents.escalate_due(database, now=T0 + timedelta(hours=25))

    with database.transaction() as session:
        levels = [store.get(session, "T0TEST", i.id).level for i in (old, fresh)]
    assert (moved, levels) == (1, [2, 1])


def test_a_resolved_incident_is_never_escalated(database):
    team = make_team(database)
    found = declare(database, team)
    with database.transaction() as session:
        incidents.resolve(session, "T0TEST", found.id, summary="Fixed", actor_id="UALICE", workspace_admin=False,
                          now=T0 + timedelta(hours=1))

    assert incidents.escalate_due(database, now=T0 + timedelta(days=9)) == 0
    assert rows(database, IncidentEvent, kind="escalated") == 0


def test_a_stale_due_escalation_changes_nothing(database):
    team = make_team(database)
    found = declare(database, team)
    due = incidents.due_escalations(database, now=T0 + timedelta(hours=30))
    with database.transaction() as session:  # someone escalated by hand meanwhile
        incidents.escalate_now(session, "T0TEST", found.id, actor_id="UALICE", now=T0 + timedelta(hours=29))

    assert [incidents.apply_escalation(database, d, now=T0 + timedelta(hours=30)) for d in due] == [False]
    assert rows(database, IncidentEvent, kind="escalated") == 1


@both_databases
def test_two_clocks_applying_the_same_due_escalations_at_once_move_and_ping_each_exactly_once(database, slack):
    team = make_team(database, managers=("bob", "eve"))
    declared = [declare(database, team, f"Incident {n}") for n in range(6)]
    now = T0 + timedelta(hours=24)
    # Both clocks read the same due list before either writes: the race the compare-and-set must win.
    seen = [incidents.due_escalations(database, now=now) for _ in range(2)]
    start = threading.Barrier(2)
    won: list[bool] = []

    def clock_process(due):
        start.wait()
        for item in due:
            won.append(incidents.apply_escalation(database, item, now=now))

    threads = [threading.Thread(target=clock_process, args=(due,)) for due in seen]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    services_for(database, slack).sender.deliver_due(now=now)

    assert sorted(won) == [False] * 6 + [True] * 6
    assert rows(database, IncidentEvent, kind="escalated") == 6
    assert rows(database, AuditEvent, action="escalated") == 6
    channel_pings = [m for m in slack.posted("CPAYMENTS") if "at Level 2" in m["text"]]
    assert sorted(m["text"].split()[0] for m in channel_pings) == sorted(
        f"INC-{i.number:03d}" for i in declared)
    assert len(slack.posted("UBOB")) == len(slack.posted("UEVE")) == 6


@both_databases
def test_two_whole_clock_sweeps_running_at_once_send_one_ping_per_level(database, slack):
    team = make_team(database)
    for n in range(4):
        declare(database, team, f"Incident {n}")
    clocks = [services_for(database, slack) for _ in range(2)]
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def run(services, moment):
        try:
            start.wait()
            clock.sweep(services, now=moment)
        except BaseException as error:  # surfaced below: a thread's exception would otherwise vanish
            failures.append(error)

    for moment in (T0 + timedelta(hours=24), T0 + timedelta(hours=48)):
        threads = [threading.Thread(target=run, args=(services, moment)) for services in clocks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert failures == []
    for level, person in ((2, "UBOB"), (3, "UCAROL")):
        assert len([m for m in slack.posted("CPAYMENTS") if f"at Level {level}" in m["text"]]) == 4  # per incident
        # DMs: one message per person per sweep, each incident in it once (two racing clocks may split it in two)
        told = slack.posted(person)
        assert 1 <= len(told) <= 2
        named = [label for m in told for label in re.findall(r"INC-\d{3}", blocks_text(m))]
        assert sorted(set(named)) == [f"INC-{n:03d}" for n in range(1, 5)]
    with database.transaction() as session:
        assert outbox.counts_by_status(session).get("pending", 0) == 0


@both_databases
def test_two_clocks_remind_of_a_review_once(database, slack):
    team = make_team(database)
    found = declare(database, team)
    with database.transaction() as session:  # Monday 11:00, so the review is due Tuesday 11:00
        incidents.resolve(session, "T0TEST", found.id, summary="Fixed", actor_id="UDAVE", workspace_admin=False,
                          now=T0 + timedelta(hours=2), review_days=1)
    assert incidents.remind_reviews(database, now=T0 + timedelta(days=1, hours=1, minutes=59)) == 0
    start = threading.Barrier(2)
    counts: list[int] = []

    def clock_process():
        start.wait()
        counts.append(incidents.remind_reviews(database, now=T0 + timedelta(days=1, hours=2)))

    threads = [threading.Thread(target=clock_process) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(counts) == [0, 1]
    assert incidents.remind_reviews(database, now=T0 + timedelta(days=9)) == 0
    assert rows(database, IncidentEvent, kind="review_reminder") == 1
    with database.transaction() as session:
        assert [m.key for m in outbox.messages(session, "T0TEST", key_prefix=f"incident:{found.id}:review")] == [
            f"incident:{found.id}:review-reminder"]


def test_qms_bot_status_prints_the_escalation_sweeps_heartbeat(tmp_path, slack):
    from bot.core.timeutil import utcnow
    from storage.db import Database
    from tests.harness import processes

    database = Database(f"sqlite:///{tmp_path}/qms.db")
    database.migrate()
    clock.sweep(services_for(database, slack), now=utcnow() - timedelta(seconds=30))

    result = processes.run("status", env=processes.environment(DATABASE_URL=database.url), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    age = re.search(r"clock: incidents\.escalate last ran (?:(\d+) s|(1) min) ago", result.stdout)  # as people read it
    assert age and (age.group(2) == "1" or 30 <= int(age.group(1)) < 60)  # the process takes a moment to start
