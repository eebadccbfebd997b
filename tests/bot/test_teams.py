"""Team rules: which team a command belongs to, and who may change what."""

import pytest

from bot import teams
from bot.errors import Invalid, Refusal
from tests.conftest import both_databases
from tests.harness.teams import make_team


@both_databases
def test_a_command_in_a_home_channel_belongs_to_that_team(database):
    payments = make_team(database, "Payments", channel="payments")
    make_team(database, "Platform", channel="platform", leads=("dave",))

    with database.transaction() as session:
        assert teams.team_for_channel(session, "T0TEST", "CPAYMENTS").id == payments.id
        assert teams.team_for_channel(session, "T0TEST", "CGENERAL") is None
        with pytest.raises(Refusal) as refused:
            teams.require_team(session, "T0TEST", "CGENERAL")
    assert refused.value.phrase.key == "teams.which_team"


def test_elsewhere_the_only_team_is_used(database):
    only = make_team(database)

    with database.transaction() as session:
        assert teams.team_for_channel(session, "T0TEST", "CGENERAL").id == only.id


def test_with_no_team_at_all_the_answer_says_to_run_setup(database):
    with database.transaction() as session, pytest.raises(Refusal) as refused:
        teams.require_team(session, "T0TEST", "CGENERAL")
    assert refused.value.phrase.key == "teams.no_team_yet"


def test_teams_are_separate_per_workspace(database):
    make_team(database, "Payments", workspace_id="T0OTHER")

    with database.transaction() as session:
        assert teams.team_for_channel(session, "T0TEST", "CPAYMENTS") is None


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
        teams.save_reviewer(session, session.merge(team), form, actor_id="UALICE", now=teams_now())

    assert set(invalid.value.problems) == {"capacity"}


def test_targets_default_to_the_guides_and_can_be_changed(database):
    team = make_team(database)

    with database.transaction() as session:
        team = session.merge(team)
        assert teams.target_values(session, team)["dor_pass_rate"] == 90
        teams.save_targets(session, team, {"dor_pass_rate": "92 %", "review_time_hours": "4"}, actor_id="UALICE",
                           now=teams_now())
        values = teams.target_values(session, team)

    assert (values["dor_pass_rate"], values["review_time_hours"], values["coverage"]) == (92, 4, 80)


def teams_now():
    from tests.harness.teams import SETUP_TIME

    return SETUP_TIME
