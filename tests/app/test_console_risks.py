"""The local console can do what Slack can with a risk: here, tick an existing risk's checklist
from `/qms risk QR-001`, away from its card."""

import io

from app.console import TEAM_ID, Console
from bot import risks
from bot.core.settings import Settings
from bot.risks import RiskForm
from tests.harness.teams import SETUP_TIME, make_team

ACTIONS = ["Conduct security audit and penetration testing", "Enhanced security code review training"]


def test_the_console_ticks_a_risks_checklist_from_its_detail(tmp_path):
    settings = Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path}/qms.db"})
    console = Console(settings, user_name="frank", stdin=io.StringIO(), stdout=io.StringIO())
    try:
        console.services.db.migrate()  # what `qms-bot shell` does on SQLite before the console starts
        team = make_team(console.services.db, workspace_id=TEAM_ID)
        with console.services.db.transaction() as session:
            risks.log_risk(session, session.merge(team), RiskForm("Security vulnerability", 3, 4, "UDAVE",
                                                                  actions=ACTIONS),
                           actor_id="UALICE", now=SETUP_TIME)
        console.handle("/qms risk QR-001")
        shown = console.stdout.getvalue()
        assert f"[1] ☐ {ACTIONS[0]}" in shown and f"[2] ☐ {ACTIONS[1]}" in shown

        console.handle("press 2")

        after = console.stdout.getvalue()[len(shown):]
        sections = {part.split("─")[0].strip(): part for part in after.split("── ")[1:]}  # by heading, any order
        card, detail = sections["#payments, updated"], sections["only you see this"]
        assert f"☑ {ACTIONS[1]}" in card
        assert f"☑ {ACTIONS[1]}" in detail and f"frank ticked “{ACTIONS[1]}”" in detail
    finally:
        console.slack.stop()
        console.services.db.dispose()
