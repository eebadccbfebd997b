"""App Home: a person's teams and their KPIs against targets, with buttons into the flows, within Slack's limits."""

import json
from datetime import timedelta


from bot import teams
from bot.timeutil import utcnow
from storage.metrics import ItemCheck
from tests.harness.bot import TEAM_ID, blocks_text
from tests.harness.databases import count_rows
from tests.harness.metrics import add_checks, add_gates
from tests.harness.teams import SETUP_TIME, make_team


def open_home(bot, user="alice"):
    bot.event({"type": "app_home_opened", "user": bot_user(user), "tab": "home"})
    return bot.slack.home_views[bot_user(user)]


def bot_user(name):
    return "U" + name.upper()


def buttons(view):
    return [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_home_shows_the_users_team_kpis_against_targets_with_trends(bot):
    team, now = make_team(bot.db), utcnow()
    add_checks(bot.db, team, "dor", *[(now - timedelta(days=1), n < 9, None if n < 9 else "other", 12)
                                      for n in range(10)])
    add_checks(bot.db, team, "dor", (now - timedelta(days=8), False, "other", 30))
    add_gates(bot.db, team, "unit", now - timedelta(days=2), runs=4, passed=3)

    view = open_home(bot, "alice")  # alice leads Payments

    text = blocks_text(view)
    assert view["type"] == "home"
    assert "*Payments* · last 7 days: 1 of 3 measured KPIs on target" in text
    assert "⚠️ *DoR pass rate*: 90% · target >90% · ↑ +90 pts vs 0% (better)" in text
    assert "✅ *DoR validation time*: 12 min · target <20 min · ↓ −18 min vs 30 min (better)" in text
    assert "⚠️ *Unit tests*: 75% · target >95%" in text
    assert [b["text"]["text"] for b in buttons(view)] == ["Record a DoR check", "Record a DoD check", "All figures"]


def test_someone_in_no_team_sees_the_workspaces_teams(bot):
    make_team(bot.db)

    view = open_home(bot, "ivy")

    text = blocks_text(view)
    assert "You hold no role in a team yet" in text and "*Payments*" in text


def test_a_workspace_without_teams_is_told_how_to_start(bot):
    view = open_home(bot, "ivy")

    assert "Run `/qms setup` in your team's channel" in blocks_text(view)
    assert buttons(view) == []


def test_home_stays_within_slacks_limits_for_someone_in_two_hundred_teams(bot, slack):
    with bot.db.transaction() as session:
        for n in range(200):
            slack.add_channel(f"CTEAM{n:03d}", f"team-{n}")
            form = teams.TeamForm(name=f"Team {n:03d} " + "Ünïcødé 🚨 " * 7, home_channel_id=f"CTEAM{n:03d}",
                                  roles={"team_lead": ["UALICE"]})
            teams.save_team(session, TEAM_ID, form, actor_id="UALICE", now=SETUP_TIME)

    view = open_home(bot, "alice")

    assert len(slack.calls_to("views.publish")) == 1  # Slack accepted it
    assert len(view["blocks"]) <= 100
    assert len(json.dumps(view)) < 250_000
    assert "…and 195 more teams" in blocks_text(view)


def test_the_dor_button_opens_the_check_form_and_its_submission_refreshes_home(bot, slack):
    make_team(bot.db)
    view = open_home(bot, "alice")
    dor = next(b for b in buttons(view) if b["action_id"] == "metrics_open_check" and b["value"].startswith("dor"))

    bot.press("metrics_open_check", value=dor["value"], user="alice", view=view)
    form = bot.last_view()
    reply = bot.submit(form, {"work_item": "PROJ-5", "result": "pass", "minutes": "10"})

    assert form["title"]["text"] == "Definition of Ready"
    assert reply.json["response_action"] == "update"
    assert "Recorded for *Payments*: *DoR passed* for PROJ-5" in blocks_text(reply.json["view"])
    assert count_rows(bot.db, ItemCheck) == 1
    assert len(slack.calls_to("views.publish")) == 2
    assert "✅ *DoR pass rate*: 100%" in blocks_text(slack.home_views["UALICE"])


def test_all_figures_opens_the_teams_report(bot):
    team = make_team(bot.db)
    add_gates(bot.db, team, "integration", utcnow() - timedelta(hours=3), runs=2, passed=2)
    view = open_home(bot, "alice")

    bot.press("metrics_open_report", value=str(team.id), user="alice", view=view)

    report = bot.last_view()
    assert report["title"]["text"] == "Quality metrics"
    assert "✅ *Integration tests*: 100% of 2 runs · target >90%" in blocks_text(report)


def test_a_button_naming_another_workspaces_team_opens_nothing(bot, slack):
    other = make_team(bot.db, workspace_id="T0OTHER")

    reply = bot.press("metrics_open_check", value=f"dor:{other.id}", user="alice")

    assert reply.status == 200
    assert slack.calls_to("views.open") == []


def test_a_forged_button_value_is_a_400(bot, slack):
    make_team(bot.db)

    assert bot.press("metrics_open_check", value="sprint:1", user="alice").status == 400
    assert bot.press("metrics_open_report", value="one", user="alice").status == 400
    assert slack.calls_to("views.open") == []
