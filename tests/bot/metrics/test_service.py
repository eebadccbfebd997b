"""The metrics rules: DoR/DoD checks, CI tokens, and every KPI against hand-computed values."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot import metrics
from bot.core.errors import Invalid, Refusal
from storage import metrics as store
from storage.audit import AuditEvent
from storage.metrics import ApiToken, ItemCheck
from tests.conftest import both_databases
from tests.harness.metrics import add_checks, add_defects, add_gates
from tests.harness.teams import make_team

PREVIOUS, START, END = (datetime(2026, 2, 23, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC),
                        datetime(2026, 3, 9, tzinfo=UTC))
TUESDAY = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
LAST_WEEK = datetime(2026, 2, 24, 10, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


# --- the quick form and the form's rules -------------------------------------------------------
@pytest.mark.parametrize("typed, minutes", [("15", 15), ("15m", 15), ("15 min", 15), ("1h", 60), ("1h30m", 90),
                                            ("1.5h", 90), ("2h5", 125), ("", None), ("soon", None), ("m", None)])
def test_minutes_are_read_from_the_ways_people_write_durations(typed, minutes):
    assert metrics.parse_minutes(typed) == minutes


def test_a_quick_pass_names_the_item_and_the_time_spent():
    form = metrics.parse_quick_check("dor", "pass PROJ-123 15m")

    assert (form.kind, form.work_item, form.result, form.reason, form.minutes) == ("dor", "PROJ-123", "pass", None,
                                                                                   "15m")


def test_a_quick_fail_takes_a_reason_word_and_keeps_the_rest_as_a_note():
    form = metrics.parse_quick_check("dor", "fail PROJ-123 criteria 20m missing 2 edge cases")

    assert (form.result, form.reason, form.minutes, form.note) == ("fail", "acceptance_criteria", "20m",
                                                                   "missing 2 edge cases")


def test_a_pasted_link_is_the_work_item_without_slacks_brackets():
    form = metrics.parse_quick_check("dod", "pass <https://jira.example.com/browse/PROJ-9|PROJ-9> 45m")

    assert form.work_item == "https://jira.example.com/browse/PROJ-9"


@pytest.mark.parametrize("kind, word, reason", [("dor", "requirements", "requirements"), ("dor", "design",
                         "technical_design"), ("dor", "AC", "acceptance_criteria"), ("dod", "docs", "documentation"),
                         ("dod", "tests", "tests"), ("dod", "criteria", "acceptance_criteria")])
def test_each_reason_has_words_people_would_type(kind, word, reason):
    assert metrics.parse_quick_check(kind, f"fail PROJ-1 {word}").reason == reason


@pytest.mark.parametrize("typed", ["fail PROJ-123", "fail PROJ-123 because"])
def test_a_quick_fail_without_a_reason_is_refused_with_the_reasons(typed):
    with pytest.raises(Refusal) as refused:
        metrics.parse_quick_check("dor", typed)

    assert refused.value.phrase.key == "metrics.reason_missing"


@pytest.mark.parametrize("typed", ["PROJ-123 pass", "pass", "maybe PROJ-1", ""])
def test_a_quick_form_that_cannot_be_read_answers_with_its_usage(typed):
    with pytest.raises(Refusal) as refused:
        metrics.parse_quick_check("dod", typed)

    assert refused.value.phrase.key == "metrics.check_usage"


def test_every_wrong_field_of_a_check_is_named():
    form = metrics.CheckForm(kind="dor", work_item="x" * 101, result="fail", reason="tests", minutes="900",
                             note="n" * 501)

    with pytest.raises(Invalid) as invalid:
        metrics.validate_check(form)

    assert {name: p.key for name, p in invalid.value.problems.items()} == {
        "work_item": "metrics.work_item_too_long", "reason": "metrics.reason_required",
        "minutes": "metrics.bad_minutes", "note": "metrics.note_too_long"}


def test_a_forged_result_is_refused_on_its_field():
    with pytest.raises(Invalid) as invalid:
        metrics.validate_check(metrics.CheckForm(kind="dod", work_item="PROJ-1", result="maybe"))

    assert set(invalid.value.problems) == {"result"}


@both_databases
def test_a_recorded_check_is_stored_with_its_audit_and_a_passing_one_keeps_no_reason(database):
    team = make_team(database)
    form = metrics.CheckForm(kind="dor", work_item=" PROJ-7 ", result="pass", reason="requirements", minutes="1h")

    with database.transaction() as session:
        metrics.record_check(session, session.merge(team), form, actor_id="UDAVE", now=NOW)

    with database.transaction() as session:
        check = session.exec(select(ItemCheck)).one()
        event = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "item_check")).one()
    assert (check.work_item, check.passed, check.reason, check.minutes, check.checked_by) == ("PROJ-7", True, None,
                                                                                               60, "UDAVE")
    assert (event.action, event.actor_id, event.after["work_item"]) == ("dor_passed", "UDAVE", "PROJ-7")


# --- KPIs against hand-computed values -----------------------------------------------------------
def seed_week(database, team):
    """This week: 10 DoR checks, 7 passed; minutes 10+20+15+25+10+20+30+30 over 8 checks = 20.0 on average;
    2 rejected for requirements, 1 for technical design. The week before: 4 DoR checks, 2 passed."""
    passes = [(TUESDAY + timedelta(hours=n), True, None, minutes) for n, minutes in
              enumerate([10, 20, 15, 25, 10, 20, None])]
    fails = [(TUESDAY, False, "requirements", 30), (TUESDAY, False, "requirements", 30),
             (TUESDAY, False, "technical_design", None)]
    add_checks(database, team, "dor", *passes, *fails)
    add_checks(database, team, "dor", *[(LAST_WEEK, n < 2, None if n < 2 else "other", None) for n in range(4)])
    # DoD: 4 checks, 3 passed (75 %); the failure was for tests.
    add_checks(database, team, "dod", (TUESDAY, True, None, 40, "DONE-1"), (TUESDAY, True, None, 50, "DONE-2"),
               (TUESDAY, True, None, None, "DONE-3"), (TUESDAY, False, "tests", 60, "DONE-4"))
    # Gates: unit 19/20 = 95 % (not above 95), integration 10/10, security 6/8 = 75 %, coverage 80/85/90 → 85 %,
    # the team's own "lint" 2/5; all gates 40/46. The week before: unit 10/10.
    add_gates(database, team, "unit", TUESDAY, runs=20, passed=19, seconds=300)
    add_gates(database, team, "integration", TUESDAY, runs=10, passed=10, seconds=600)
    add_gates(database, team, "security", TUESDAY, runs=8, passed=6)
    add_gates(database, team, "coverage", TUESDAY, runs=3, passed=3, values=(80, 85, 90))
    add_gates(database, team, "lint", TUESDAY, runs=5, passed=2)
    add_gates(database, team, "unit", LAST_WEEK, runs=10, passed=10)
    # Defects: 1 of 40 found in production = 2.5 %.
    add_defects(database, team, TUESDAY, production=1, before_release=39)


def week_report(database, team):
    with database.transaction() as session:
        return metrics.report(session, session.merge(team), [PREVIOUS, START, END])


@both_databases
def test_each_kpi_of_a_week_matches_the_hand_computed_value(database):
    team = make_team(database)
    seed_week(database, team)

    report = week_report(database, team)

    values = {f.kpi.key: f.value for f in report.figures}
    assert values == {
        "dor_pass_rate": pytest.approx(70.0), "dor_validation_minutes": pytest.approx(20.0),
        "unit_tests": pytest.approx(95.0), "integration_tests": pytest.approx(100.0),
        "security_scans": pytest.approx(75.0), "performance_tests": None, "coverage": pytest.approx(85.0),
        "dod_success": pytest.approx(75.0), "defect_escape_rate": pytest.approx(2.5), "cycle_time_hours": None}
    assert report.counts == {"dor_checks": 10, "dod_checks": 4, "gate_runs": 46, "defects": 40, "escaped": 1}
    assert report.extras["gate_success"] == pytest.approx(100 * 40 / 46)
    assert report.extras["gate_minutes"] == pytest.approx((20 * 300 + 10 * 600) / 30 / 60)
    assert report.extras["dod_validation_minutes"] == pytest.approx(50.0)


@both_databases
def test_each_kpi_is_judged_against_the_teams_target_with_the_guides_comparators(database):
    team = make_team(database)
    seed_week(database, team)

    report = week_report(database, team)

    met = {f.kpi.key: f.met for f in report.figures}
    assert met == {"dor_pass_rate": False, "dor_validation_minutes": False, "unit_tests": False,
                   "integration_tests": True, "security_scans": False, "performance_tests": None, "coverage": True,
                   "dod_success": False, "defect_escape_rate": True, "cycle_time_hours": None}


@both_databases
def test_trends_compare_with_the_period_before(database):
    team = make_team(database)
    seed_week(database, team)

    report = week_report(database, team)

    dor = report.figure("dor_pass_rate")
    assert (dor.previous, dor.delta, dor.trend, dor.improved) == (pytest.approx(50.0), pytest.approx(20.0), "up", True)
    unit = next(g for g in report.gates if g.gate == "unit")
    assert (unit.rate, unit.previous_rate, unit.delta) == (pytest.approx(95.0), pytest.approx(100.0),
                                                           pytest.approx(-5.0))
    assert report.figure("integration_tests").trend is None  # nothing ran the week before


@both_databases
def test_rejection_reasons_are_shares_of_the_failed_checks(database):
    team = make_team(database)
    seed_week(database, team)

    report = week_report(database, team)

    assert [(r.reason, r.count, round(r.percent, 1)) for r in report.dor_reasons] == [
        ("requirements", 2, 66.7), ("technical_design", 1, 33.3)]
    assert [(r.reason, r.count, r.percent) for r in report.dod_reasons] == [("tests", 1, 100.0)]


@both_databases
def test_gates_are_listed_guides_gates_first_then_the_teams_own_with_no_target(database):
    team = make_team(database)
    seed_week(database, team)

    gates = week_report(database, team).gates

    assert [(g.gate, g.runs, g.passed, g.target) for g in gates] == [
        ("unit", 20, 19, 95), ("integration", 10, 10, 90), ("security", 8, 6, 95), ("coverage", 3, 3, None),
        ("lint", 5, 2, None)]
    assert next(g for g in gates if g.gate == "coverage").mean_value == pytest.approx(85.0)


@both_databases
def test_a_period_includes_its_first_instant_and_excludes_its_last(database):
    team = make_team(database)
    add_checks(database, team, "dor", (START, True, None, None),
               (END - timedelta(microseconds=1), False, "other", None), (END, False, "other", None),
               (START - timedelta(microseconds=1), False, "other", None))

    report = week_report(database, team)

    assert (report.counts["dor_checks"], report.figure("dor_pass_rate").value) == (2, 50.0)


@both_databases
def test_another_teams_data_is_never_counted(database):
    team = make_team(database)
    other = make_team(database, "Platform", channel="platform", leads=("dave",))
    elsewhere = make_team(database, "Payments", channel="payments", workspace_id="T0OTHER")
    for noise in (other, elsewhere):
        add_checks(database, noise, "dor", (TUESDAY, False, "other", 5))
        add_gates(database, noise, "unit", TUESDAY, runs=3, passed=0)
        add_defects(database, noise, TUESDAY, production=3, before_release=0)
    add_checks(database, team, "dor", (TUESDAY, True, None, 12))

    report = week_report(database, team)

    assert report.counts == {"dor_checks": 1, "dod_checks": 0, "gate_runs": 0, "defects": 0, "escaped": 0}
    assert report.figure("dor_pass_rate").value == 100.0


@both_databases
def test_cycle_time_runs_from_an_items_first_passed_dor_to_its_passed_dod(database):
    team = make_team(database)
    monday = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    add_checks(database, team, "dor", (monday, True, None, None, "CYC-1"), (monday + timedelta(hours=1), True, None,
               None, "CYC-2"), (monday + timedelta(days=2), True, None, None, "CYC-2"),
               (monday - timedelta(days=1), False, "other", None, "CYC-1"))
    add_checks(database, team, "dod", (monday + timedelta(hours=30), True, None, None, "CYC-1"),  # 30 h
               (monday + timedelta(hours=49), True, None, None, "CYC-2"),  # 48 h from its first DoR pass
               (monday + timedelta(hours=5), True, None, None, "CYC-3"),  # never passed DoR: left out
               (monday + timedelta(hours=6), False, "tests", None, "CYC-1"))  # a failed DoD is no finish

    figure = week_report(database, team).figure("cycle_time_hours")

    assert (figure.value, figure.samples, figure.met) == (pytest.approx(39.0), 2, False)


@both_databases
def test_a_team_with_its_own_targets_is_judged_against_them(database):
    from bot import teams

    team = make_team(database)
    seed_week(database, team)
    with database.transaction() as session:
        teams.save_targets(session, session.merge(team), {"dor_pass_rate": "65", "unit_tests": "94"},
                           actor_id="UALICE", now=NOW)

    report = week_report(database, team)

    assert (report.figure("dor_pass_rate").met, report.figure("unit_tests").met) == (True, True)
    assert report.figure("dor_pass_rate").target == 65


def test_a_period_with_no_data_has_no_values_and_judges_nothing(database):
    team = make_team(database)

    report = week_report(database, team)

    assert not report.has_data
    assert all(f.value is None and f.met is None for f in report.figures)
    assert report.gates == [] and report.dor_reasons == []


# --- CI tokens ---------------------------------------------------------------------------------
@both_databases
def test_a_token_is_shown_once_and_only_its_hash_is_stored(database):
    team = make_team(database)

    with database.transaction() as session:
        token, row = metrics.create_token(session, session.merge(team), actor_id="UALICE", now=NOW)

    assert token.startswith("qms_") and len(token) > 40
    with database.transaction() as session:
        stored = session.exec(select(ApiToken)).one()
        assert token not in (stored.token_hash, stored.prefix)
        assert stored.token_hash == metrics.hash_token(token) and token.startswith(stored.prefix)
        owner = metrics.token_owner(session, token, used_at=NOW)
    assert owner[1].name == "Payments"


@both_databases
def test_a_revoked_or_unknown_token_owns_nothing(database):
    team = make_team(database)
    with database.transaction() as session:
        token, row = metrics.create_token(session, session.merge(team), actor_id="UALICE", now=NOW)
        kept, _ = metrics.create_token(session, session.merge(team), actor_id="UALICE", now=NOW)

    with database.transaction() as session:
        revoked = metrics.revoke_tokens(session, session.merge(team), row.prefix, actor_id="UBOB", now=NOW)
    with database.transaction() as session:
        assert metrics.token_owner(session, token) is None
        assert metrics.token_owner(session, "qms_" + "x" * 43) is None
        assert metrics.token_owner(session, "not-even-ours") is None
        assert metrics.token_owner(session, kept) is not None
        events = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.entity_type == "api_token"))]
    assert [t.prefix for t in revoked] == [row.prefix]
    assert events == ["created", "created", "revoked"]


def test_revoking_all_leaves_no_live_token_and_an_unknown_prefix_is_refused(database):
    team = make_team(database)
    with database.transaction() as session:
        for _ in range(3):
            metrics.create_token(session, session.merge(team), actor_id="UALICE", now=NOW)

    with database.transaction() as session, pytest.raises(Refusal) as refused:
        metrics.revoke_tokens(session, session.merge(team), "qms_nothere", actor_id="UALICE", now=NOW)
    with database.transaction() as session:
        metrics.revoke_tokens(session, session.merge(team), "all", actor_id="UALICE", now=NOW)
        live = store.live_tokens(session, team.workspace_id, team.id)

    assert refused.value.phrase.key == "metrics.no_such_token"
    assert live == []


def test_a_team_has_at_most_ten_live_tokens(database):
    team = make_team(database)
    with database.transaction() as session:
        for _ in range(metrics.TOKENS_PER_TEAM):
            metrics.create_token(session, session.merge(team), actor_id="UALICE", now=NOW)

    with database.transaction() as session, pytest.raises(Refusal) as refused:
        metrics.create_token(session, session.merge(team), actor_id="UALICE", now=NOW)

    assert refused.value.phrase.key == "metrics.too_many_tokens"
