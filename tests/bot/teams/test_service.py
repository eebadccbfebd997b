"""Team rules: who may change what, setting a team up, working hours and targets."""

from datetime import UTC, date, datetime

import pytest

from bot import teams
from bot.core.errors import Invalid, Refusal
from bot.teams import BY_KEY
from storage import teams as team_store
from tests.harness.teams import SETUP_TIME, add_reviewer, make_team


def test_leads_managers_admins_and_named_people_may_manage_others_may_not(database):
    team = make_team(database, leads=("alice",), managers=("bob",), executives=("carol",))

    with database.transaction() as session:
        assert teams.may_manage(session, team, "UALICE", workspace_admin=False)
        assert teams.may_manage(session, team, "UBOB", workspace_admin=False)
        assert teams.may_manage(session, team, "UIVY", workspace_admin=True)
        assert teams.may_manage(session, team, "UDAVE", workspace_admin=False, also=["UDAVE"])
        assert not teams.may_manage(session, team, "UCAROL", workspace_admin=False)
        with pytest.raises(Refusal) as refused:
            teams.require_manager(session, team, "UCAROL", workspace_admin=False, action="close_risk")
    assert refused.value.phrase.params == {"action": "close_risk", "team": "Payments", "also": None}


def test_a_channel_can_be_home_to_one_team_only(database):
    make_team(database, "Payments", channel="payments")

    with pytest.raises(Invalid) as invalid:
        make_team(database, "Platform", channel="payments")

    assert invalid.value.problems["home_channel"].key == "teams.channel_taken"


def test_unknown_timezones_and_bots_in_roles_are_refused_by_field(database):
    form = teams.TeamForm(name="Payments", home_channel_id="CPAYMENTS", timezone="Mars/Base",
                          roles={"team_lead": ["UROBOT"]})

    with database.transaction() as session, pytest.raises(Invalid) as invalid:
        teams.validate_team(session, "T0TEST", form, editing=None, bots={"UROBOT"})

    assert set(invalid.value.problems) == {"timezone", "team_leads"}


@pytest.mark.parametrize("capacity", [0, 500, "three", None])
def test_reviewer_capacity_must_be_a_sensible_whole_number(database, capacity):
    team = make_team(database)
    form = teams.ReviewerForm(user_id="UDAVE", tier="gold", specializations=["Security"], capacity=capacity)

    with database.transaction() as session, pytest.raises(Invalid) as invalid:
        teams.save_reviewer(session, fresh(session, team), form, actor_id="UALICE", now=teams_now())

    assert set(invalid.value.problems) == {"capacity"}


def test_targets_default_to_the_guides_and_can_be_changed(database):
    team = make_team(database)

    with database.transaction() as session:
        team = fresh(session, team)
        assert teams.target_values(session, team)["dor_pass_rate"] == 90
        teams.save_targets(session, team, {"dor_pass_rate": "92 %", "review_time_hours": "4"}, actor_id="UALICE",
                           now=teams_now())
        values = teams.target_values(session, team)

    assert (values["dor_pass_rate"], values["review_time_hours"], values["coverage"]) == (92, 4, 80)


def teams_now():
    return SETUP_TIME


def fresh(session, team):
    return team_store.get_team(session, team.workspace_id, team.id)


# --- the reviewer matrix -------------------------------------------------------------------------
def test_the_matrix_lists_gold_then_silver_then_bronze_and_what_nobody_available_covers(database):
    team = make_team(database)
    add_reviewer(database, team, "ivy", "bronze", ["Mobile"])
    add_reviewer(database, team, "eve", "gold", ["Security"], away_until=date(2026, 1, 9))
    add_reviewer(database, team, "carol", "silver", ["Frontend/UX", "Backend/API"])

    with database.transaction() as session:
        matrix = teams.matrix(session, fresh(session, team), today=date(2026, 1, 9))

    assert [(row.user_id, row.away) for row in matrix.rows] == [("UEVE", True), ("UCAROL", False), ("UIVY", False)]
    assert matrix.uncovered == ["Database/Performance", "Security", "Infrastructure"]
    assert matrix.away_count == 1


def test_a_reviewer_is_away_up_to_and_including_their_day_in_the_teams_time_zone(database):
    team = make_team(database, timezone="America/Los_Angeles")
    add_reviewer(database, team, "eve", away_until=date(2026, 1, 9))
    friday_evening_in_la = datetime(2026, 1, 10, 7, 59, tzinfo=UTC)  # Friday 23:59 there

    with database.transaction() as session:
        eve = team_store.get_reviewer(session, team, "UEVE")
        today = teams.local_today(team, friday_evening_in_la)
        tomorrow = teams.local_today(team, datetime(2026, 1, 10, 8, 0, tzinfo=UTC))

    assert (today, teams.is_away(eve, today)) == (date(2026, 1, 9), True)
    assert (tomorrow, teams.is_away(eve, tomorrow)) == (date(2026, 1, 10), False)


def test_pages_hold_ten_reviewers_and_a_page_past_the_end_shows_the_last(database):
    matrix = teams.Matrix([teams.MatrixRow(f"U{i:03d}", "gold", ["Security"], 3, None, False) for i in range(21)],
                          ["Security"], [])

    rows, number = matrix.page(7)

    assert matrix.pages == 3
    assert (number, [row.user_id for row in rows]) == (2, ["U020"])


def test_marking_away_needs_a_reviewer_and_a_day_not_yet_passed(database):
    team = make_team(database)
    add_reviewer(database, team, "eve")

    with database.transaction() as session:
        team = fresh(session, team)
        with pytest.raises(Invalid) as past:
            teams.set_away(session, team, "UEVE", date(2026, 1, 4), actor_id="UALICE", now=SETUP_TIME,
                           today=date(2026, 1, 5))
        with pytest.raises(Refusal) as stranger:
            teams.set_away(session, team, "UIVY", date(2026, 1, 9), actor_id="UALICE", now=SETUP_TIME)
        teams.set_away(session, team, "UEVE", date(2026, 1, 5), actor_id="UALICE", now=SETUP_TIME,
                       today=date(2026, 1, 5))

    assert list(past.value.problems) == ["away_until"]
    assert stranger.value.phrase.key == "teams.not_a_reviewer"


def test_a_teams_specializations_are_one_per_line_or_comma_separated_without_repeats():
    assert teams.parse_specializations(" Security,  iOS\n\nSecurity\nPCI DSS ") == ["Security", "iOS", "PCI DSS"]


@pytest.mark.parametrize("names, words", [
    ([], "teams.specialization_required"),
    (["x" * 41], "teams.specialization_too_long"),
    ([f"S{i}" for i in range(51)], "teams.too_many_specializations"),
    (["Security"], "teams.specialization_in_use"),
])
def test_a_teams_list_of_specializations_must_be_sensible_and_keep_those_in_use(database, names, words):
    team = make_team(database)
    add_reviewer(database, team, "eve", specializations=["Security", "Mobile"])

    with database.transaction() as session, pytest.raises(Invalid) as invalid:
        teams.save_specializations(session, fresh(session, team), names, actor_id="UALICE", now=SETUP_TIME)

    assert invalid.value.problems["specializations"].key == words


def test_a_new_specialization_given_with_a_reviewer_joins_the_teams_list(database):
    team = make_team(database)
    form = teams.ReviewerForm(user_id="UEVE", tier="gold", specializations=["Security"],
                              new_specializations=["PCI DSS", "Security"])

    with database.transaction() as session:
        team = fresh(session, team)
        saved = teams.save_reviewer(session, team, form, actor_id="UALICE", now=SETUP_TIME)

    assert saved.specializations == ["Security", "PCI DSS"]
    assert team.specializations[-1] == "PCI DSS" and team.specializations.count("Security") == 1


# --- setup details ---------------------------------------------------------------------------------
def test_describe_form_says_what_describe_says_once_the_form_is_saved(database):
    team = make_team(database, tech_leads=("dave", "eve"), work_days=("fri", "mon"))

    with database.transaction() as session:
        team = fresh(session, team)
        assert teams.describe_form(teams.form_of(session, team)) == teams.describe(session, team)


def test_a_team_without_a_team_lead_has_a_warning_for_other_flows_to_show(database):
    led = make_team(database, "Payments", channel="payments")
    leaderless = make_team(database, "Platform", channel="platform", leads=())

    with database.transaction() as session:
        assert teams.no_team_lead_warning(session, led) is None
        warning = teams.no_team_lead_warning(session, leaderless)

    assert (warning.key, warning.params) == ("teams.no_team_lead", {"team": "Platform"})


def test_targets_read_as_the_guide_writes_them():
    assert [BY_KEY[key].shown(value) for key, value in [("dor_pass_rate", 90), ("review_time_hours", 4.5),
                                                         ("review_quality", 8), ("dor_validation_minutes", 20)]] \
        == ["> 90 %", "< 4.5 h", "> 8.0/10", "< 20 min"]


def test_a_reset_puts_every_target_back_to_the_guides_and_audits_it(database):
    team = make_team(database)

    with database.transaction() as session:
        team = fresh(session, team)
        teams.save_targets(session, team, {"coverage": "70"}, actor_id="UALICE", now=SETUP_TIME)
        values = teams.reset_targets(session, team, actor_id="UBOB", now=SETUP_TIME)
        rows = teams.target_rows(session, team)

    assert values["coverage"] == 80 and not any(row.changed for row in rows)
