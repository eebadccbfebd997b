from types import SimpleNamespace

from bot.teams import ROLES, TeamForm
from tests.templates.samples import LONG, many_users

REALISTIC_FORM = TeamForm(name="Payments", home_channel_id="CPAYMENTS", digest_channel_id="CDIGEST",
                          timezone="Europe/Berlin", roles={"team_lead": ["UALICE"], "engineering_manager": ["UBOB"]})
EXTREME_FORM = TeamForm(name=LONG, home_channel_id="CPAYMENTS", timezone=LONG,
                        roles={role: many_users() for role in ROLES}, work_start="00:00", work_end="23:59")
TEAM = SimpleNamespace(name="Payments", home_channel_id="CPAYMENTS", digest_channel_id="CDIGEST",
                       timezone="Europe/Berlin", work_start="09:00", work_end="17:00")
LONG_TEAM = SimpleNamespace(**{**vars(TEAM), "name": LONG, "timezone": LONG})

SAMPLES = {
    "teams/setup_modal.json.j2": ("view", [
        {"form": REALISTIC_FORM, "metadata": '{"team_id": 1, "channel_id": "CPAYMENTS"}', "no_team_lead": False},
        {"form": TeamForm(name="", home_channel_id=None), "metadata": "{}", "no_team_lead": True},
        {"form": EXTREME_FORM, "metadata": "{}", "no_team_lead": True},
    ]),
    "teams/saved.json.j2": ("message", [
        {"team": TEAM, "roles": {"team_lead": ["UALICE"]}, "created": True, "no_team_lead": False},
        {"team": LONG_TEAM, "roles": {role: many_users() for role in ROLES}, "created": False, "no_team_lead": True},
    ]),
}
