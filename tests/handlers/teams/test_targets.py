"""`/qms setup targets`: a team's KPI targets beside the guide's, edited by the team's managers."""

import json

import pytest
from sqlmodel import select

from bot import teams
from storage import teams as team_store
from storage.audit import AuditEvent
from tests.harness.bot import blocks_text
from tests.harness.databases import count_rows
from tests.harness.teams import make_team

GUIDE = {"dor_pass_rate": "> 90 %", "dor_validation_minutes": "< 20 min", "unit_tests": "> 95 %",
         "integration_tests": "> 90 %", "security_scans": "> 95 %", "performance_tests": "> 85 %",
         "coverage": "> 80 %", "review_time_hours": "< 6 h", "review_quality": "> 8.0/10", "dod_success": "> 95 %",
         "defect_escape_rate": "< 3 %", "cycle_time_hours": "< 24 h"}


def latest(bot) -> dict:
    return bot.responses()[-1]


def show_targets(bot, *, by: str = "alice", channel: str = "payments") -> dict:
    bot.command("setup targets", user=by, channel=channel)
    return latest(bot)


def press(bot, message: dict, action_id: str, *, by: str = "alice"):
    [found] = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
               if e["action_id"] == action_id]
    return bot.press(action_id, value=found["value"], user=by)


def has_button(message: dict, action_id: str) -> bool:
    return any(e["action_id"] == action_id for b in message["blocks"] if b["type"] == "actions"
               for e in b["elements"])


def values(db, team) -> dict[str, float]:
    with db.transaction() as session:
        return teams.target_values(session, team)


def test_a_new_team_has_the_guides_twelve_targets(bot):
    make_team(bot.db)

    text = blocks_text(show_targets(bot))

    assert "KPI targets · Payments" in text
    for label, shown in [("DoR pass rate", "> 90 %"), ("DoR validation time", "< 20 min"),
                         ("Unit tests", "> 95 %"), ("Integration tests", "> 90 %"), ("Security scans", "> 95 %"),
                         ("Performance tests", "> 85 %"), ("Code coverage", "> 80 %"), ("Review time", "< 6 h"),
                         ("Review quality", "> 8.0/10"), ("DoD success", "> 95 %"),
                         ("Defect escape rate", "< 3 %"), ("Cycle time", "< 24 h")]:
        assert f"• {label}: *{shown}*\n" in text + "\n"
    assert "All targets are the guide's defaults." in text


def test_editing_targets_saves_them_audits_and_shows_them_beside_the_guides(bot):
    team = make_team(bot.db)
    press(bot, show_targets(bot), "targets_edit")
    view = bot.last_view()
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert inputs["dor_pass_rate"]["label"]["text"] == "DoR pass rate (%)"
    assert inputs["review_quality"]["element"]["initial_value"] == "8.0"
    assert "The guide's target: < 6 h." in inputs["review_time_hours"]["hint"]["text"]
    current = {key: b["element"]["initial_value"] for key, b in inputs.items()}

    reply = bot.submit(view, {**current, "dor_pass_rate": "92 %", "review_time_hours": "4"})

    assert reply.status == 200 and reply.body == ""
    assert (values(bot.db, team)["dor_pass_rate"], values(bot.db, team)["review_time_hours"]) == (92, 4)
    with bot.db.transaction() as session:
        event = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "targets_changed" and event.actor_id == "UALICE"
    assert (event.before["dor_pass_rate"], event.after["dor_pass_rate"]) == (90, 92)
    text = blocks_text(latest(bot))
    assert latest(bot)["replace_original"] is True
    assert "2 targets are changed." in text
    assert "• DoR pass rate: *> 92 %*  _(the guide's: > 90 %)_" in text
    assert "2 of 12 targets differ from the guide's defaults." in text


@pytest.mark.parametrize("key, value, words", [
    ("dor_pass_rate", "150", "from 0 to 100 (%)"),
    ("review_quality", "11", "from 0 to 10 (/10)"),
    ("coverage", "lots", "Enter a number"),
    ("cycle_time_hours", "", "Enter a number"),
])
def test_a_target_out_of_range_gets_an_inline_error_on_its_field_and_nothing_changes(bot, key, value, words):
    team = make_team(bot.db)
    press(bot, show_targets(bot), "targets_edit")
    view = bot.last_view()
    current = {b["block_id"]: b["element"]["initial_value"] for b in view["blocks"] if b["type"] == "input"}
    events_before = count_rows(bot.db, AuditEvent)

    reply = bot.submit(view, {**current, "dor_validation_minutes": "15", key: value})

    assert reply.json["response_action"] == "errors"
    assert list(reply.json["errors"]) == [key] and words in reply.json["errors"][key]
    assert values(bot.db, team)["dor_validation_minutes"] == 20
    assert count_rows(bot.db, AuditEvent) == events_before


def test_resetting_puts_every_target_back_to_the_guides(bot):
    team = make_team(bot.db)
    with bot.db.transaction() as session:
        teams.save_targets(session, team, {"coverage": "70", "review_time_hours": "8"}, actor_id="UBOB",
                           now=team.created_at)
    message = show_targets(bot)
    assert not has_button(show_targets(bot, by="carol"), "targets_reset")

    press(bot, message, "targets_reset")

    assert values(bot.db, team) == {kpi: teams.BY_KEY[kpi].default for kpi in GUIDE}
    assert "Every target is the guide's default again (2 changed)." in blocks_text(latest(bot))
    assert not has_button(latest(bot), "targets_reset")  # nothing left to reset


def test_anyone_may_read_targets_but_only_managers_may_change_them(bot, slack):
    team = make_team(bot.db)
    message = show_targets(bot, by="alice")
    for_executive = show_targets(bot, by="carol")
    assert not has_button(for_executive, "targets_edit")
    assert "may change its KPI targets" in blocks_text(for_executive)
    slack.reset_calls()

    press(bot, message, "targets_edit", by="carol")

    assert slack.calls_to("views.open") == []
    assert latest(bot)["text"] == ("Only the team leads and engineering managers of Payments, or a workspace admin, "
                                   "may change its KPI targets.")
    press(bot, message, "targets_edit", by="alice")
    view = bot.last_view()
    current = {b["block_id"]: b["element"]["initial_value"] for b in view["blocks"] if b["type"] == "input"}
    reply = bot.submit(view, {**current, "coverage": "99"}, user="carol")
    assert reply.json["response_action"] == "update"
    assert values(bot.db, team)["coverage"] == 80


def test_each_home_channel_shows_its_own_teams_targets(bot):
    make_team(bot.db, "Payments", channel="payments")
    platform = make_team(bot.db, "Platform", channel="platform", leads=("dave",), managers=())
    with bot.db.transaction() as session:
        teams.save_targets(session, team_store.get_team(session, "T0TEST", platform.id), {"coverage": "60"},
                           actor_id="UDAVE", now=platform.created_at)

    in_payments = blocks_text(show_targets(bot, channel="payments"))
    in_platform = blocks_text(show_targets(bot, channel="platform"))

    assert "KPI targets · Payments" in in_payments and "Code coverage: *> 80 %*\n" in in_payments
    assert "KPI targets · Platform" in in_platform and "Code coverage: *> 60 %*" in in_platform


def test_a_malformed_targets_button_is_refused_with_400(bot):
    make_team(bot.db)

    reply = bot.press("targets_reset", value=json.dumps({"team": None}))

    assert reply.status == 400
