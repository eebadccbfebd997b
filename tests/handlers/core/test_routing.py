"""Which team a command belongs to: the channel's, the workspace's only one, or the person's pick."""

import pytest

from bot.core.errors import Refusal
from handlers.core import routing
from tests.conftest import both_databases
from tests.harness.teams import make_team


@both_databases
def test_a_command_in_a_home_channel_belongs_to_that_team(database):
    payments = make_team(database, "Payments", channel="payments")
    make_team(database, "Platform", channel="platform", leads=("dave",))

    with database.transaction() as session:
        assert routing.team_for_channel(session, "T0TEST", "CPAYMENTS").id == payments.id
        assert routing.team_for_channel(session, "T0TEST", "CGENERAL") is None
        with pytest.raises(Refusal) as refused:
            routing.require_team(session, "T0TEST", "CGENERAL")
    assert refused.value.phrase.key == "teams.which_team"


def test_elsewhere_the_only_team_is_used(database):
    only = make_team(database)

    with database.transaction() as session:
        assert routing.team_for_channel(session, "T0TEST", "CGENERAL").id == only.id


def test_with_no_team_at_all_the_answer_says_to_run_setup(database):
    with database.transaction() as session, pytest.raises(Refusal) as refused:
        routing.require_team(session, "T0TEST", "CGENERAL")
    assert refused.value.phrase.key == "teams.no_team_yet"


def test_teams_are_separate_per_workspace(database):
    make_team(database, "Payments", workspace_id="T0OTHER")

    with database.transaction() as session:
        assert routing.team_for_channel(session, "T0TEST", "CPAYMENTS") is None
