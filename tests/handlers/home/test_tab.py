"""App Home: a person's open reviews, risks and incidents with buttons into their flows, and their teams' KPIs
against targets — within Slack's limits."""

import json
from datetime import timedelta

import pytest
from freezegun import freeze_time

from app import slack_requests
from bot import teams
from bot.core.timeutil import utcnow
from storage import incidents as incident_store
from storage import reviews as review_store
from storage.incidents import Incident
from storage.metrics import ItemCheck
from storage.reviews import ReviewAssignment, ReviewRequest
from storage.risks import Risk
from tests.harness.bot import TEAM_ID, blocks_text
from tests.harness.databases import count_rows
from tests.harness.metrics import a_fortnight, add_checks, add_gates, at, declare_incident
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
    assert "⚠️ *DoR pass rate*: 90 % · target > 90 % · ↑ +90 pts vs 0 % (better)" in text
    assert "✅ *DoR validation time*: 12 min · target < 20 min · ↓ −18 min vs 30 min (better)" in text
    assert "⚠️ *Unit tests*: 75 % · target > 95 %" in text
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
    assert "✅ *DoR pass rate*: 100 %" in blocks_text(slack.home_views["UALICE"])


def test_all_figures_opens_the_teams_report(bot):
    team = make_team(bot.db)
    add_gates(bot.db, team, "integration", utcnow() - timedelta(hours=3), runs=2, passed=2)
    view = open_home(bot, "alice")

    bot.press("metrics_open_report", value=str(team.id), user="alice", view=view)

    report = bot.last_view()
    assert report["title"]["text"] == "Quality metrics"
    assert "✅ *Integration tests*: 100 % of 2 runs · target > 90 %" in blocks_text(report)


def test_a_button_naming_another_workspaces_team_opens_nothing(bot, slack):
    other = make_team(bot.db, workspace_id="T0OTHER")

    reply = bot.press("metrics_open_check", value=f"dor:{other.id}", user="alice")

    assert reply.status == 200
    assert slack.calls_to("views.open") == []


@pytest.mark.parametrize("action_id, value", [
    ("metrics_open_check", "sprint:1"), ("metrics_open_report", "one"),
    # "²".isdigit() is true but int("²") raises; "٣" is a decimal digit, not an ASCII one; 5,000 digits is
    # more than int() reads, and 10 digits more than the database's integer holds.
    ("metrics_open_report", "²"), ("metrics_open_check", "dor:²"), ("metrics_open_report", "٣"),
    ("metrics_open_check", "dod:" + "1" * 5000), ("metrics_open_report", "9" * 10), ("metrics_open_report", ""),
])
def test_a_forged_button_value_is_a_400(bot, slack, action_id, value):
    make_team(bot.db)

    assert bot.press(action_id, value=value, user="alice").status == 400
    assert slack.calls_to("views.open") == []


@pytest.mark.parametrize("action_id, value", [("metrics_open_check", "dor:"), ("metrics_open_report", "")])
def test_a_button_for_a_team_since_deleted_says_so_in_a_modal_on_the_home_tab(bot, slack, action_id, value):
    team = make_team(bot.db)
    with bot.db.transaction() as session:
        session.delete(session.merge(team))
    value += str(team.id)

    reply = press_on_home(bot, action_id, value, user="alice", view={"id": "V1", "type": "home"})

    assert reply.status == 200
    [opened] = slack.calls_to("views.open")
    assert "That team no longer exists" in blocks_text(opened.args["view"])


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_all_figures_is_acknowledged_before_its_figures_are_computed(bot, slack):
    """Slack waits 3 seconds for the ack: while the figures cannot be read yet (a table locked here),
    the press is already acknowledged; the modal opens once they are."""
    from sqlalchemy import text

    team = make_team(bot.db)
    payload = slack_requests.block_action(
        action={"action_id": "metrics_open_report", "block_id": "b", "type": "button", "value": str(team.id)},
        user_id="UALICE", team_id=TEAM_ID, response_url="", view={"id": "V1", "type": "home"})
    with bot.db.engine.connect() as connection, connection.begin():
        connection.execute(text("LOCK TABLE gate_result IN ACCESS EXCLUSIVE MODE"))
        reply = bot.signed_post(slack_requests.interaction(payload), wait=False)
        opened_while_locked = slack.calls_to("views.open")
    bot.wait()

    assert reply.status == 200  # without the ack, Bolt gives up after 3 s and answers 404
    assert opened_while_locked == []
    assert bot.last_view()["title"]["text"] == "Quality metrics"


# --- the person's own reviews, risks and incidents ----------------------------------------------------
MONDAY_9 = "2026-03-09 09:00:00"  # after tests.harness.metrics.a_fortnight


@pytest.fixture
def fortnight(bot):
    team = make_team(bot.db)
    a_fortnight(bot.db, team)
    bot.services.deliver_outbox()
    bot.wait()
    return team


def home_of(bot, user):
    with freeze_time(MONDAY_9):
        return open_home(bot, user)


def lines_of(view):
    return blocks_text(view).splitlines()


def row_of(view, key):
    """The buttons under the item whose text names `key` (CR-004, QR-003, INC-003)."""
    blocks = view["blocks"]
    index = next(i for i, b in enumerate(blocks) if b["type"] == "section" and key in b["text"]["text"])
    after = blocks[index + 1]
    return [(e["text"]["text"], e["action_id"], e.get("value") or e.get("url")) for e in after["elements"]] \
        if after["type"] == "actions" else []


def assignment_of(bot, label, reviewer):
    with bot.db.transaction() as session:
        request = review_store.request_by_number(session, TEAM_ID, int(label[3:]))
        return next(a for a in review_store.assignments_of(session, request) if a.reviewer_id == reviewer)


def press_on_home(bot, action_id, value, *, user, view):
    """A button pressed on the Home tab, as Slack sends it: from a view, with no response_url."""
    payload = slack_requests.block_action(
        action={"action_id": action_id, "block_id": "b", "type": "button", "value": value},
        user_id=bot_user(user), team_id=TEAM_ID, response_url="", view=view)
    del payload["response_url"]
    with freeze_time(MONDAY_9):
        return bot.signed_post(slack_requests.interaction(payload))


def test_a_reviewer_sees_the_reviews_assigned_to_them_with_accept_done_decline_and_a_link(bot, fortnight):
    view = home_of(bot, "ivy")

    text = lines_of(view)
    assert "*Reviews assigned to you* (2)" in text
    cr4, cr5 = assignment_of(bot, "CR-004", "UIVY"), assignment_of(bot, "CR-005", "UIVY")
    # CR-004 waited Thursday and Friday 09:00–17:00; CR-005 was assigned on Friday at 16:00.
    assert ("*<https://git.example.com/pay/4|CR-004>* · Backend/API · Medium — by <@UDAVE> · you are secondary · "
            "waiting for Accept · 16 h since assigned (working hours) · ⚠️ stalled · Payments") in text
    assert ("*<https://git.example.com/pay/5|CR-005>* · Backend/API · Medium — by <@UEVE> · you are secondary · "
            "waiting for Accept · 1 h since assigned (working hours) · Payments") in text
    assert row_of(view, "CR-004") == [("Accept", "home_review_accept", str(cr4.id)), ("Done", "home_review_done",
                                      str(cr4.id)), ("Decline", "review_decline", str(cr4.id)),
                                      ("Open CR-004", "review_open", "https://git.example.com/pay/4")]
    assert row_of(view, "CR-005")[0] == ("Accept", "home_review_accept", str(cr5.id))
    assert "*Reviews you asked for* (0)" in text and "*Risks you own* (0)" in text


def test_an_author_sees_the_reviews_they_asked_for_and_who_has_them(bot, fortnight):
    view = home_of(bot, "eve")

    text = lines_of(view)
    assert "*Reviews assigned to you* (1)" in text  # CR-004, as primary
    assert "*Reviews you asked for* (1)" in text
    assert ("*<https://git.example.com/pay/5|CR-005>* · Backend/API — primary <@UFRANK> (waiting for Accept), "
            "secondary <@UIVY> (waiting for Accept) · 1 h open (working hours) · Payments") in text


def test_a_team_lead_sees_the_risks_they_own_and_the_open_incidents_of_their_team(bot, fortnight):
    view = home_of(bot, "alice")

    text = lines_of(view)
    assert "*Risks you own* (1)" in text
    assert "*QR-003* Card data stored in logs — score *20* · :red_circle: Critical · Payments" in text
    qr3 = row_of(view, "QR-003")
    assert [(label, action) for label, action, _ in qr3] == [("Re-score", "risk_rescore"), ("Edit", "risk_edit"),
                                                            ("Close", "risk_close")]
    assert "*Open incidents* you command or in your teams (2)" in text
    assert (":red_circle: *INC-003* Checkout is down for EU cards — SEV1 · Level 2 · Management involvement · "
            "open 3 d · commander <@UALICE> · <#CPAYMENTS> · not acknowledged yet · Payments") in text
    assert [label for label, _, _ in row_of(view, "INC-003")] == ["Acknowledge", "Post update", "Resolve"]
    assert [label for label, _, _ in row_of(view, "INC-004")] == ["Acknowledge", "Post update", "Resolve"]
    assert "*Payments* · last 7 days: 0 of 2 measured KPIs on target" in text  # review time and quality
    assert "⚠️ *Review time*: 6.5 h · target < 6 h · ↑ +3.5 h vs 3 h (worse)" in text


def test_the_commander_of_another_teams_incident_sees_it_and_may_resolve_only_their_own(bot, fortnight):
    platform = make_team(bot.db, "Platform", channel="platform", leads=("frank",), managers=(), executives=())
    declare_incident(bot.db, platform, "Build farm is down", severity="SEV2", commander="UFRANK",
                     now="2026-03-09 08:00")
    declare_incident(bot.db, platform, "Docs site is slow", severity="SEV4", commander="UGRACE", now="2026-03-09 08:30")

    frank = home_of(bot, "frank")
    bob = home_of(bot, "bob")

    # frank reviews for Payments and leads Platform: both teams' incidents are his to see.
    assert "*Open incidents* you command or in your teams (4)" in lines_of(frank)
    assert [label for label, _, _ in row_of(frank, "INC-003")] == ["Acknowledge", "Post update"]
    assert [label for label, _, _ in row_of(frank, "Build farm is down")][-1] == "Resolve"
    # bob manages Payments only, and commands INC-004.
    assert "*Open incidents* you command or in your teams (2)" in lines_of(bob)
    assert "Build farm" not in blocks_text(bob)


def test_accepting_from_home_accepts_the_review_and_refreshes_the_tab(bot, slack, fortnight):
    view = home_of(bot, "ivy")
    cr4 = assignment_of(bot, "CR-004", "UIVY")

    reply = press_on_home(bot, "home_review_accept", str(cr4.id), user="ivy", view=view)

    assert reply.status == 200
    assert assignment_of(bot, "CR-004", "UIVY").status == "accepted"
    refreshed = slack.home_views["UIVY"]
    assert "you are secondary · reviewing" in blocks_text(refreshed)
    assert [label for label, _, _ in row_of(refreshed, "CR-004")] == ["Done", "Decline", "Open CR-004"]
    assert slack.calls_to("views.open") == []


def test_done_from_home_finishes_the_review_and_asks_the_author_to_rate_it(bot, slack, fortnight):
    view = home_of(bot, "ivy")
    cr4 = assignment_of(bot, "CR-004", "UIVY")
    slack.reset_calls()

    press_on_home(bot, "home_review_done", str(cr4.id), user="ivy", view=view)

    assert assignment_of(bot, "CR-004", "UIVY").status == "done"
    assert any("CR-004" in blocks_text(m) and m["channel"].startswith("D") for m in slack.posted())  # dave's DM
    assert "*Reviews assigned to you* (1)" in blocks_text(slack.home_views["UIVY"])


def test_a_stale_home_button_is_answered_in_a_modal_and_changes_nothing(bot, slack, fortnight):
    view = home_of(bot, "ivy")
    cr4 = assignment_of(bot, "CR-004", "UIVY")
    press_on_home(bot, "home_review_accept", str(cr4.id), user="ivy", view=view)

    reply = press_on_home(bot, "home_review_accept", str(cr4.id), user="ivy", view=view)  # the old tab, again

    assert reply.status == 200
    notice = bot.last_view()
    assert notice["title"]["text"] == "Accept a review"
    assert "You have already accepted CR-004" in blocks_text(notice)
    assert slack.calls_to("views.open") and assignment_of(bot, "CR-004", "UIVY").status == "accepted"


def test_someone_elses_review_cannot_be_accepted_from_a_forged_home_button(bot, slack, fortnight):
    cr4 = assignment_of(bot, "CR-004", "UIVY")

    press_on_home(bot, "home_review_accept", str(cr4.id), user="dave", view=home_of(bot, "dave"))

    assert assignment_of(bot, "CR-004", "UIVY").status == "assigned"
    assert "CR-004 is assigned to <@UIVY>, not to you" in blocks_text(bot.last_view())


def test_acknowledging_from_home_acknowledges_the_incident_and_refreshes_the_tab(bot, slack, fortnight):
    view = home_of(bot, "bob")
    incident_id = next(value for label, _, value in row_of(view, "INC-004") if label == "Acknowledge")

    press_on_home(bot, "home_incident_ack", incident_id, user="bob", view=view)

    with bot.db.transaction() as session:
        assert incident_store.get(session, TEAM_ID, int(incident_id)).acknowledged_by == "UBOB"
    assert [label for label, _, _ in row_of(slack.home_views["UBOB"], "INC-004")] == ["Post update", "Resolve"]


@pytest.mark.parametrize("action_id, key, title", [
    ("review_decline", "CR-004", "Decline CR-004"), ("risk_rescore", "QR-003", "Re-score QR-003"),
    ("risk_close", "QR-003", "Close QR-003"), ("incident_update", "INC-003", "Post an update"),
    ("incident_resolve", "INC-003", "Resolve INC-003")])
def test_home_buttons_into_other_flows_open_those_flows_modals(bot, slack, fortnight, action_id, key, title):
    user = "ivy" if key.startswith("CR") else "alice"
    view = home_of(bot, user)
    value = next(v for label, action, v in row_of(view, key) if action == action_id)

    reply = press_on_home(bot, action_id, value, user=user, view=view)

    assert reply.status == 200
    assert bot.last_view()["title"]["text"] == title


@pytest.mark.parametrize("action_id, key, user, title", [
    ("review_decline", "CR-004", "dave", "Review"), ("risk_close", "QR-003", "carol", "Risk register"),
    ("incident_resolve", "INC-003", "carol", "Incident")])
def test_a_refused_home_button_into_another_flow_says_why_in_a_modal(bot, slack, fortnight, action_id, key, user,
                                                                     title):
    # The button as someone else's Home shows it, pressed by a person it is not theirs to press.
    owner_view = home_of(bot, "ivy" if key.startswith("CR") else "alice")
    value = next(v for label, action, v in row_of(owner_view, key) if action == action_id)

    reply = press_on_home(bot, action_id, value, user=user, view=home_of(bot, user))

    assert reply.status == 200
    notice = bot.last_view()
    assert notice["callback_id"] == "notice" and notice["title"]["text"] == title
    assert blocks_text(notice).strip()


def test_all_figures_shows_review_time_and_quality_and_the_teams_reviews_incidents_and_risks(bot, fortnight):
    view = home_of(bot, "alice")

    press_on_home(bot, "metrics_open_report", str(fortnight.id), user="alice", view=view)

    report = lines_of(bot.last_view())
    assert "⚠️ *Review time*: 6.5 h · target < 6 h · ↑ +3.5 h vs 3 h (worse)" in report
    assert "⚠️ *Review quality*: 8.0/10 · target > 8.0/10 · ↓ −1.5/10 vs 9.5/10 (worse)" in report
    assert any(line.startswith("*Reviews*: 4 requested, 2 done") for line in report)
    assert any(line.startswith("*Incidents*: 2 open") for line in report)
    assert "*Risks*: 3 open (1 critical, 2 high) · 3 opened, 1 closed in the last 7 days" in report


@pytest.mark.parametrize("action_id", ["home_review_accept", "home_review_done", "home_incident_ack"])
@pytest.mark.parametrize("value", ["", "CR-004", "-1", "1" * 12])
def test_a_forged_home_button_is_a_400_and_changes_nothing(bot, slack, action_id, value):
    make_team(bot.db)

    reply = press_on_home(bot, action_id, value, user="alice", view={"id": "V1", "type": "home"})

    assert reply.status == 400
    assert slack.calls_to("views.publish") == [] and slack.calls_to("views.open") == []


def test_home_stays_within_slacks_limits_with_two_hundred_of_everything(bot, slack):
    team = make_team(bot.db)
    now = at("2026-03-09 09:00")
    with bot.db.transaction() as session:
        for n in range(200):
            title = f"{n:03d} " + "Ünïcødé 🚨 <b>&amp; " * 40
            request = ReviewRequest(workspace_id=TEAM_ID, team_id=team.id, number=n + 1, author_id="UALICE",
                                    channel_id="CPAYMENTS", url=f"https://git.example.com/{n}?" + "x" * 1900,
                                    specialization=title[:80], created_at=now, updated_at=now)
            session.add(request)
            session.flush()
            session.add(ReviewAssignment(workspace_id=TEAM_ID, team_id=team.id, request_id=request.id,
                                         reviewer_id="UALICE", role="primary", tier="gold", assigned_at=now))
            session.add(Risk(workspace_id=TEAM_ID, team_id=team.id, number=n + 1, title=title[:150], category="process",
                             probability=5, impact=5, score=25, owner_id="UALICE", created_by="UALICE",
                             created_at=now, updated_at=now))
            session.add(Incident(workspace_id=TEAM_ID, team_id=team.id, number=n + 1, title=title[:150],
                                 severity="SEV1", commander_id="UALICE", declared_by="UALICE", declared_at=now,
                                 level_changed_at=now, level=3, channel_id="CPAYMENTS"))

    view = home_of(bot, "alice")

    assert slack.calls_to("views.publish")[-1].response["ok"]
    assert len(view["blocks"]) <= 100
    text = blocks_text(view)
    assert "*Reviews assigned to you* (200)" in text and "… and 195 more assigned to you" in text
    assert "… and 195 more you asked for" in text
    assert "… and 195 more you own" in text and "… and 195 more open" in text
