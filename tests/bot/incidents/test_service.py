"""Incident rules as plain Python: numbering, duplicates, channel names, who may do what, the checklist."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import incidents
from bot.core.errors import Invalid, Refusal
from storage import incidents as store
from storage.incidents import Incident
from tests.conftest import both_databases
from tests.harness.teams import make_team

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def declare(database, team, title="Checkout fails", *, severity="SEV1", now=T0, workspace_id="T0TEST"):
    form = incidents.IncidentForm(title=title, severity=severity, commander_id="UDAVE")
    with database.transaction() as session:
        return incidents.declare(session, session.merge(team), form, actor_id="UDAVE", now=now)


def fresh(database, incident) -> Incident:
    with database.transaction() as session:
        return store.get(session, incident.workspace_id, incident.id)


# --- declaring --------------------------------------------------------------------------------------------------
@both_databases
def test_incidents_are_numbered_per_workspace(database):
    ours, theirs = make_team(database), make_team(database, workspace_id="T0OTHER")

    numbers = [declare(database, ours).number, declare(database, ours).number, declare(database, theirs).number]

    assert numbers == [1, 2, 1]


@pytest.mark.parametrize("form, fields", [
    (incidents.IncidentForm(title="", severity="SEV1", commander_id="U1"), {"title"}),
    (incidents.IncidentForm(title="x" * 151, severity="SEV5", commander_id="U1"), {"title", "severity"}),
    (incidents.IncidentForm(title="ok", severity="SEV2", commander_id="U1", description="d" * 3001,
                            affected_systems="s" * 501), {"description", "affected_systems"}),
])
def test_a_declaration_names_every_wrong_field(form, fields):
    with pytest.raises(Invalid) as invalid:
        incidents.validate(form)

    assert set(invalid.value.problems) == fields


@pytest.mark.parametrize("first, second", [
    ("Checkout is down", "checkout down!"), ("Payments API 500 errors", "500 errors from the payments API"),
    ("Login slow", "Login slow"), ("DB failover failed", "db fail-over failed"),
    ("Checkout is down", "Checkout down again"), ("Checkout is down", "The checkout is still down"),
    ("Login errors", "login error"), ("Checkout fails", "Checkout failing for card payments"),
    ("Chekout down", "Checkout down"), ("Card payments declined", "Cards declined for payments"),
    ("Checkout down", "Checkout is still down for EU customers"), ("High latency", "Latency is high again"),
    ("Checkout fails for card payments in EU", "Checkout failing for card payments since deploy"),
    ("Ｃｈｅｃｋｏｕｔ down", "checkout down"),
])
def test_titles_that_name_the_same_incident_match(first, second):
    assert incidents.titles_match(first, second)


@pytest.mark.parametrize("first, second", [
    ("Checkout is down", "Login is down"), ("Search is slow", "Checkout fails for card payments"),
    ("🔥", "🚨"), ("API down", "Mobile app crashes on start"), ("Checkout down", "Checkout slow"),
    ("iOS app crashes", "Android app crashes"), ("Staging deploy broken", "Production deploy broken"),
    ("Database latency high", "Database latency spikes"), ("500 errors on checkout", "502 errors on checkout"),
    ("Checkout", "Checkout fails for card payments"), ("It is down", "It is slow"),
    ("Payments API down", "Payments API slow"),
])
def test_titles_about_different_things_do_not(first, second):
    assert not incidents.titles_match(first, second)


@given(st.text(max_size=60), st.text(max_size=60))
def test_matching_titles_is_symmetric_and_a_title_matches_itself(first, second):
    assert incidents.titles_match(first, first)
    assert incidents.titles_match(first, second) == incidents.titles_match(second, first)


def test_the_duplicate_check_looks_at_the_same_team_in_the_last_30_minutes(database):
    payments, platform = make_team(database), make_team(database, "Platform", channel="platform", leads=("frank",))
    earlier = declare(database, payments, "Checkout is down")

    with database.transaction() as session:
        payments, platform = session.merge(payments), session.merge(platform)
        within = incidents.possible_duplicate(session, payments, "checkout down", now=T0 + timedelta(minutes=30))
        later = incidents.possible_duplicate(session, payments, "checkout down", now=T0 + timedelta(minutes=31))
        elsewhere = incidents.possible_duplicate(session, platform, "checkout down", now=T0 + timedelta(minutes=5))

    assert (within.id, later, elsewhere) == (earlier.id, None, None)


@given(st.text(max_size=200), st.integers(1, 10**6), st.integers(1, 3))
def test_an_incident_channel_name_is_always_one_slack_accepts(title, number, attempt):
    name = incidents.channel_name(Incident(number=number, title=title), attempt)

    assert re.fullmatch(r"inc-\d{3,}(-[a-z0-9]+)*(-\d)?", name) and len(name) <= 80


def test_an_incident_channel_name_is_short_and_readable():
    name = incidents.channel_name(Incident(number=4, title="Crème brûlée API: 500 errors on every single checkout page"))

    assert name == "inc-004-creme-brulee-api-500-errors-on-every"


@pytest.mark.parametrize("text, number", [("INC-001", 1), ("inc-42", 42), ("INC042", 42), ("7", 7), ("INC-", None),
                                          ("QR-001", None), ("", None), ("INC-1 2", None)])
def test_an_incident_is_named_like_inc_001(text, number):
    assert incidents.parse_reference(text) == number


# --- acting on one -------------------------------------------------------------------------------------------------
def test_acknowledging_twice_names_who_did_it_first(database):
    incident = declare(database, make_team(database))
    with database.transaction() as session:
        incidents.acknowledge(session, "T0TEST", incident.id, actor_id="UALICE", now=T0)

    with database.transaction() as session, pytest.raises(Refusal) as refused:
        incidents.acknowledge(session, "T0TEST", incident.id, actor_id="UBOB", now=T0)

    assert refused.value.phrase.key == "incidents.already_acknowledged"
    assert fresh(database, incident).acknowledged_by == "UALICE"


@pytest.mark.parametrize("user, admin, allowed", [
    ("UDAVE", False, True), ("UALICE", False, True), ("UBOB", False, True), ("UIVY", True, True),
    ("UIVY", False, False), ("UCAROL", False, False),  # carol is an executive: Level 3, not a manager
])
def test_only_the_commander_leads_managers_and_admins_may_resolve(database, user, admin, allowed):
    incident = declare(database, make_team(database, leads=("alice",), managers=("bob",), executives=("carol",)))

    try:
        with database.transaction() as session:
            incidents.resolve(session, "T0TEST", incident.id, summary="Fixed", actor_id=user, workspace_admin=admin,
                              now=T0)
    except Refusal as refusal:
        assert refusal.phrase.key == "incidents.only_commander_or_managers_may"

    assert fresh(database, incident).status == ("resolved" if allowed else "open")


def test_resolving_needs_a_summary_and_a_sensible_reminder(database):
    incident = declare(database, make_team(database))

    with database.transaction() as session, pytest.raises(Invalid) as invalid:
        incidents.resolve(session, "T0TEST", incident.id, summary="  ", actor_id="UDAVE", workspace_admin=False,
                          now=T0, review_days=0)

    assert set(invalid.value.problems) == {"summary", "review_days"}
    assert fresh(database, incident).status == "open"


def test_a_resolved_incident_cannot_be_resolved_again_or_escalated(database):
    incident = declare(database, make_team(database))
    with database.transaction() as session:
        incidents.resolve(session, "T0TEST", incident.id, summary="Fixed", actor_id="UDAVE", workspace_admin=False,
                          now=T0)

    for act in (lambda s: incidents.resolve(s, "T0TEST", incident.id, summary="Again", actor_id="UDAVE",
                                            workspace_admin=False, now=T0),
                lambda s: incidents.escalate_now(s, "T0TEST", incident.id, actor_id="UDAVE", now=T0)):
        with database.transaction() as session, pytest.raises(Refusal):
            act(session)


def test_the_review_reminder_falls_in_the_teams_working_hours(database):
    team = make_team(database, timezone="Europe/Berlin")
    incident = declare(database, team)

    with database.transaction() as session:  # Wednesday 18:00 in Berlin + 5 days = Monday 18:00, after hours
        resolved = incidents.resolve(session, "T0TEST", incident.id, summary="Fixed", actor_id="UDAVE",
                                     workspace_admin=False, now=datetime(2026, 3, 4, 17, 0, tzinfo=UTC))

    assert resolved.review_due_at == datetime(2026, 3, 10, 8, 0, tzinfo=UTC)  # Tuesday 09:00 in Berlin


def test_incidents_of_another_workspace_cannot_be_touched(database):
    incident = declare(database, make_team(database))

    with database.transaction() as session, pytest.raises(Refusal) as refused:
        incidents.acknowledge(session, "T0OTHER", incident.id, actor_id="UALICE", now=T0)

    assert refused.value.phrase.key == "incidents.gone"


def test_ticking_a_step_records_each_change_and_leaves_other_steps_alone(database):
    incident = declare(database, make_team(database))
    with database.transaction() as session:
        incidents.tick(session, "T0TEST", incident.id, 2, {"2.1": True, "2.4": True}, actor_id="UEVE", now=T0)

    with database.transaction() as session:
        changes = incidents.tick(session, "T0TEST", incident.id, 1, {"1.2": True}, actor_id="UFRANK", now=T0)
        again = incidents.tick(session, "T0TEST", incident.id, 1, {"1.2": True}, actor_id="UFRANK", now=T0)

    assert (changes, again) == ([("1.2", True)], [])
    assert fresh(database, incident).checklist_done == ["1.2", "2.1", "2.4"]


def test_a_tick_changes_only_the_items_it_names_in_its_step(database):
    incident = declare(database, make_team(database))
    with database.transaction() as session:
        incidents.tick(session, "T0TEST", incident.id, 1, {"1.1": True, "1.3": True}, actor_id="UEVE", now=T0)

    with database.transaction() as session:
        changes = incidents.tick(session, "T0TEST", incident.id, 1, {"1.1": False, "1.4": True}, actor_id="UFRANK",
                                 now=T0)

    assert changes == [("1.1", False), ("1.4", True)]
    assert fresh(database, incident).checklist_done == ["1.3", "1.4"]


# --- figures for the digests ------------------------------------------------------------------------------------------
@both_databases
def test_incident_figures_count_open_by_level_and_what_was_declared_escalated_and_resolved(database):
    team = make_team(database)
    other = make_team(database, "Platform", channel="platform", leads=("frank",))
    first = declare(database, team, "First", now=T0)
    second = declare(database, team, "Second", severity="SEV3", now=T0 + timedelta(days=1))
    declare(database, team, "Before the period", now=T0 - timedelta(days=3))
    declare(database, other, "Another team's", now=T0)
    with database.transaction() as session:
        incidents.escalate_now(session, "T0TEST", second.id, actor_id="UALICE", now=T0 + timedelta(days=1, hours=1))
        incidents.resolve(session, "T0TEST", first.id, summary="Fixed", actor_id="UDAVE", workspace_admin=False,
                          now=T0 + timedelta(hours=26))

    with database.transaction() as session:
        figures = store.incident_figures(session, "T0TEST", team.id, start=T0, end=T0 + timedelta(days=7))
        everyone = store.incident_figures(session, "T0TEST", None, start=T0, end=T0 + timedelta(days=7))

    assert figures.open_by_level == {1: 1, 2: 1, 3: 0} and figures.open_total == 2
    assert figures.open_by_severity == {"SEV1": 1, "SEV3": 1}
    assert (figures.declared, figures.declared_by_severity) == (2, {"SEV1": 1, "SEV3": 1})
    assert figures.escalations == {2: 1, 3: 0}
    assert [(r.number, r.time_to_resolve) for r in figures.resolved] == [(first.number, timedelta(hours=26))]
    assert figures.mean_time_to_resolve == timedelta(hours=26)
    assert (everyone.declared, everyone.open_total) == (3, 3)
