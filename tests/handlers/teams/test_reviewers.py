"""`/qms setup reviewers`: the reviewer matrix, read by anyone, changed by the team's managers."""

import json
from datetime import date

import pytest
from freezegun import freeze_time
from sqlmodel import select

from storage import reviews as review_store
from storage import teams as team_store
from storage.audit import AuditEvent
from storage.outbox import OutboxMessage
from tests.harness.bot import blocks_text
from tests.harness.databases import count_rows
from tests.harness.teams import add_reviewer, make_team

MONDAY = "2026-01-05 10:00:00"


# --- reading the matrix ------------------------------------------------------------------------
def latest(bot) -> dict:
    """The last message sent to a response_url: the matrix as the person now sees it."""
    return bot.responses()[-1]


def buttons(message: dict, action_id: str) -> list[dict]:
    found = [element for block in message.get("blocks", []) if block["type"] == "actions"
             for element in block["elements"] if element["action_id"] == action_id]
    return found


def button(message: dict, action_id: str, user: str | None = None) -> dict:
    """The button with this action_id (on the row of `user`, e.g. "UDAVE")."""
    matching = [b for b in buttons(message, action_id) if user is None or json.loads(b["value"])["user"] == user]
    assert len(matching) == 1, f"{action_id} for {user}: {len(matching)} buttons"
    return matching[0]


def press(bot, message: dict, action_id: str, user: str | None = None, *, by: str = "alice"):
    found = button(message, action_id, user)
    return bot.press(found["action_id"], value=found["value"], user=by)


def show_matrix(bot, *, by: str = "alice", channel: str = "payments") -> dict:
    bot.command("setup reviewers", user=by, channel=channel)
    return latest(bot)


def reviewer(db, team, user_id):
    with db.transaction() as session:
        return team_store.get_reviewer(session, team, user_id)


def specializations(db, team) -> list[str]:
    with db.transaction() as session:
        return team_store.get_team(session, team.workspace_id, team.id).specializations


def audit_actions(db) -> list[tuple[str, str]]:
    with db.transaction() as session:
        return [(e.entity_type, e.action) for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]


def labels(view) -> list[str]:
    return [block["label"]["text"] for block in view["blocks"] if block["type"] == "input"]


# --- tests -------------------------------------------------------------------------------------
@freeze_time(MONDAY)
def test_the_matrix_shows_each_reviewers_tier_specializations_capacity_and_availability(bot):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "eve", "gold", ["Backend/API", "Security"], capacity=4, away_until=date(2026, 1, 9))
    add_reviewer(bot.db, team, "ivy", "bronze", ["Database/Performance"], capacity=1)

    text = blocks_text(show_matrix(bot))

    assert "Reviewer matrix · Payments" in text
    assert "*<@UEVE>* · :first_place_medal: Gold · up to 4 reviews at once\nBackend/API · Security\n" \
           ":palm_tree: Away until Fri 9 Jan 2026" in text
    assert "*<@UIVY>* · :third_place_medal: Bronze · up to 1 review at once\nDatabase/Performance\n" \
           ":large_green_circle: Available" in text
    assert "2 reviewers · 1 away" in text
    assert "No available reviewer for Frontend/UX, Backend/API, Security, Infrastructure, Mobile." in text


def test_the_matrix_is_answered_only_to_the_person_who_asked(bot):
    make_team(bot.db)

    message = show_matrix(bot)

    assert message["response_type"] == "ephemeral"
    assert message["replace_original"] is False


def test_anyone_may_read_the_matrix_but_only_managers_get_buttons_to_change_it(bot):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "eve")

    for_manager = show_matrix(bot, by="bob")
    for_executive = show_matrix(bot, by="carol")

    assert buttons(for_manager, "reviewers_add") and buttons(for_manager, "reviewers_edit")
    assert not buttons(for_executive, "reviewers_add") and not buttons(for_executive, "reviewers_edit")
    assert "Only the team leads and engineering managers of Payments, or a workspace admin, may change its " \
           "reviewer matrix." in blocks_text(for_executive)


def test_a_reviewer_who_may_not_manage_sees_mark_away_on_their_own_row_only(bot):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "eve")
    add_reviewer(bot.db, team, "ivy")

    message = show_matrix(bot, by="eve")

    assert [json.loads(b["value"])["user"] for b in buttons(message, "reviewers_away")] == ["UEVE"]


@freeze_time(MONDAY)
def test_adding_a_reviewer_stores_them_audits_it_tells_them_and_updates_the_matrix(bot, slack):
    team = make_team(bot.db)
    press(bot, show_matrix(bot), "reviewers_add")
    view = bot.last_view()
    assert view["title"]["text"] == "Reviewer"
    assert {"Reviewer", "Tier", "Specializations", "Capacity", "Away until"} <= set(labels(view))

    reply = bot.submit(view, {"reviewer": "dave", "tier": "silver", "specializations": ["Backend/API"],
                              "new_specializations": "Payments compliance, Backend/API", "capacity": "2",
                              "away_until": None})

    assert reply.status == 200 and reply.body == ""
    added = reviewer(bot.db, team, "UDAVE")
    assert (added.tier, added.specializations, added.capacity, added.away_until) == \
        ("silver", ["Backend/API", "Payments compliance"], 2, None)
    assert specializations(bot.db, team)[-1] == "Payments compliance"
    assert ("reviewer", "added") in audit_actions(bot.db)
    assert ("team", "specializations_added") in audit_actions(bot.db)
    dm = slack.posted("UDAVE")
    assert len(dm) == 1 and "added you to the reviewer matrix of *Payments*: Silver tier" in blocks_text(dm[0])
    updated = latest(bot)
    assert updated["replace_original"] is True
    assert "<@UDAVE> is now in the reviewer matrix." in blocks_text(updated)
    assert "*<@UDAVE>* · :second_place_medal: Silver · up to 2 reviews at once" in blocks_text(updated)


@pytest.mark.parametrize("values, field_name, words", [
    ({"reviewer": "UROBOT"}, "reviewer", "bot"),
    ({"capacity": "0"}, "capacity", "from 1 to 20"),
    ({"capacity": "500"}, "capacity", "from 1 to 20"),
    ({"capacity": "three"}, "capacity", "whole number"),
    ({"tier": None}, "tier", "gold, silver or bronze"),
    ({"specializations": [], "new_specializations": ""}, "specializations", "at least one"),
    ({"new_specializations": "x" * 41}, "new_specializations", "under 40 characters"),
    ({"away_until": "2026-01-04"}, "away_until", "That day has passed"),
])
@freeze_time(MONDAY)
def test_a_wrong_reviewer_field_gets_an_inline_error_naming_it_and_nothing_is_stored(bot, values, field_name,
                                                                                     words):
    team = make_team(bot.db)
    press(bot, show_matrix(bot), "reviewers_add")
    events_before = count_rows(bot.db, AuditEvent)

    reply = bot.submit(bot.last_view(), {"reviewer": "dave", "tier": "gold", "specializations": ["Security"],
                                         "capacity": "3", **values})

    assert reply.json["response_action"] == "errors"
    assert list(reply.json["errors"]) == [field_name]
    assert words in reply.json["errors"][field_name]
    assert reviewer(bot.db, team, "UDAVE") is None and reviewer(bot.db, team, "UROBOT") is None
    assert count_rows(bot.db, AuditEvent) == events_before


def test_adding_someone_already_in_the_matrix_says_so_on_the_reviewer_field(bot):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "dave", capacity=5)
    press(bot, show_matrix(bot), "reviewers_add")

    reply = bot.submit(bot.last_view(), {"reviewer": "dave", "tier": "bronze", "specializations": ["Security"],
                                         "capacity": "1"})

    assert "already in the reviewer matrix" in reply.json["errors"]["reviewer"]
    assert reviewer(bot.db, team, "UDAVE").capacity == 5


def test_editing_a_reviewer_shows_their_values_and_saves_the_changes(bot, slack):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "dave", "bronze", ["Backend/API"], capacity=2)
    press(bot, show_matrix(bot), "reviewers_edit", "UDAVE")
    view = bot.last_view()
    initial = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert view["title"]["text"] == "Edit reviewer" and "<@UDAVE>" in blocks_text(view)
    assert initial["tier"]["initial_option"]["value"] == "bronze"
    assert [o["value"] for o in initial["specializations"]["initial_options"]] == ["Backend/API"]
    assert initial["capacity"]["initial_value"] == "2"
    slack.reset_calls()

    bot.submit(view, {"tier": "gold", "specializations": ["Backend/API", "Security"], "capacity": "6"})

    edited = reviewer(bot.db, team, "UDAVE")
    assert (edited.tier, edited.specializations, edited.capacity) == ("gold", ["Backend/API", "Security"], 6)
    assert audit_actions(bot.db)[-1] == ("reviewer", "updated")
    assert slack.posted("UDAVE") == []  # only newly added reviewers are told
    assert "<@UDAVE> is updated." in blocks_text(latest(bot))


def test_editing_a_reviewer_removed_meanwhile_is_refused_in_the_modal(bot):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "dave")
    press(bot, show_matrix(bot), "reviewers_edit", "UDAVE")
    view = bot.last_view()
    press(bot, show_matrix(bot), "reviewers_remove", "UDAVE")
    bot.submit(bot.last_view(), {})

    reply = bot.submit(view, {"tier": "gold", "specializations": ["Security"], "capacity": "3"})

    assert reply.json["response_action"] == "update"
    assert "not in this team's reviewer matrix" in blocks_text(reply.json["view"])
    assert reviewer(bot.db, team, "UDAVE") is None


@freeze_time(MONDAY)
def test_marking_a_reviewer_away_and_back(bot):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "dave")
    press(bot, show_matrix(bot), "reviewers_away", "UDAVE")
    view = bot.last_view()
    assert labels(view) == ["Away until"]

    bot.submit(view, {"away_until": "2026-01-16"})

    assert reviewer(bot.db, team, "UDAVE").away_until == date(2026, 1, 16)
    away = latest(bot)
    assert "Away until Fri 16 Jan 2026" in blocks_text(away)
    assert "<@UDAVE> is away up to and including Fri 16 Jan 2026" in blocks_text(away)
    press(bot, away, "reviewers_back", "UDAVE")
    assert reviewer(bot.db, team, "UDAVE").away_until is None
    assert ":large_green_circle: Available" in blocks_text(latest(bot))
    assert audit_actions(bot.db)[-2:] == [("reviewer", "away"), ("reviewer", "back")]


@freeze_time("2026-01-05 12:00:00")
def test_an_away_date_in_the_past_is_an_inline_error(bot):
    team = make_team(bot.db, timezone="Pacific/Auckland")  # 01:00 on Tuesday there: Monday has passed
    add_reviewer(bot.db, team, "dave")
    press(bot, show_matrix(bot), "reviewers_away", "UDAVE")

    reply = bot.submit(bot.last_view(), {"away_until": "2026-01-05"})

    assert reply.json["errors"]["away_until"] == \
        "That day has passed. Choose today or a later day: the last day they are away."
    assert reviewer(bot.db, team, "UDAVE").away_until is None


@freeze_time(MONDAY)
def test_the_away_date_is_required_and_its_errors_never_offer_to_leave_it_empty(bot):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "dave")
    press(bot, show_matrix(bot), "reviewers_away", "UDAVE")
    view = bot.last_view()
    field_block = next(b for b in view["blocks"] if b.get("block_id") == "away_until")
    assert field_block.get("optional", False) is False

    empty = bot.submit(view, {"away_until": None})
    past = bot.submit(view, {"away_until": "2026-01-02"})

    assert empty.json["errors"]["away_until"] == "Choose the last day they are away."
    assert "leave it empty" not in past.json["errors"]["away_until"]
    assert reviewer(bot.db, team, "UDAVE").away_until is None


@freeze_time(MONDAY)
def test_in_the_reviewer_modal_where_away_is_optional_a_past_day_may_be_left_empty(bot):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "dave")
    press(bot, show_matrix(bot), "reviewers_edit", "UDAVE")

    reply = bot.submit(bot.last_view(), {"tier": "gold", "specializations": ["Backend/API"], "capacity": "3",
                                         "away_until": "2026-01-02"})

    assert reply.json["errors"]["away_until"] == \
        "That day has passed. Choose the last day they are away, or leave it empty."


@freeze_time(MONDAY)
def test_a_reviewer_may_mark_themselves_away_but_not_someone_else(bot):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "eve")
    add_reviewer(bot.db, team, "ivy")

    press(bot, show_matrix(bot, by="eve"), "reviewers_away", "UEVE", by="eve")
    bot.submit(bot.last_view(), {"away_until": "2026-01-09"}, user="eve")
    forged = {"action_id": "reviewers_away", "value": json.dumps({"team": team.id, "user": "UIVY", "page": 0})}
    bot.press(forged["action_id"], value=forged["value"], user="eve")

    assert reviewer(bot.db, team, "UEVE").away_until == date(2026, 1, 9)
    assert reviewer(bot.db, team, "UIVY").away_until is None
    refusal = latest(bot)
    assert refusal["replace_original"] is False
    assert refusal["text"] == ("Only the reviewer themselves, the team leads and engineering managers of Payments, "
                               "or a workspace admin, may mark a reviewer away or back.")


def test_removing_a_reviewer_asks_first_then_removes_audits_and_tells_them(bot, slack):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "dave")

    press(bot, show_matrix(bot), "reviewers_remove", "UDAVE")
    view = bot.last_view()
    assert reviewer(bot.db, team, "UDAVE") is not None  # nothing happens before the confirmation
    assert (view["title"]["text"], view["submit"]["text"]) == ("Remove reviewer", "Remove")
    assert "They have no open reviews in Payments." in blocks_text(view)
    reply = bot.submit(view, {})

    assert reply.status == 200 and reply.body == ""
    assert reviewer(bot.db, team, "UDAVE") is None
    assert audit_actions(bot.db)[-1] == ("reviewer", "removed")
    assert "<@UDAVE> is no longer in the reviewer matrix. They are told by DM." in blocks_text(latest(bot))
    [dm] = slack.posted("UDAVE")
    assert "<@UALICE> removed you from the reviewer matrix of *Payments*" in blocks_text(dm)
    assert dm["text"] == "You are no longer a reviewer for Payments."


@pytest.mark.parametrize("action_id", ["reviewers_add", "reviewers_edit", "reviewers_remove",
                                       "reviewers_specializations"])
def test_someone_who_may_not_manage_the_team_is_refused_every_change(bot, slack, action_id):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "dave")
    message = show_matrix(bot, by="alice")
    slack.reset_calls()

    press(bot, message, action_id, "UDAVE" if action_id in ("reviewers_edit", "reviewers_remove") else None,
          by="carol")

    assert slack.calls_to("views.open") == []
    assert latest(bot)["text"].startswith("Only the team leads and engineering managers of Payments")
    assert reviewer(bot.db, team, "UDAVE") is not None


def test_a_submission_by_someone_who_may_not_manage_changes_nothing(bot):
    team = make_team(bot.db)
    press(bot, show_matrix(bot), "reviewers_add")

    reply = bot.submit(bot.last_view(), {"reviewer": "dave", "tier": "gold", "specializations": ["Security"],
                                         "capacity": "3"}, user="carol")

    assert reply.json["response_action"] == "update"
    assert "may change its reviewer matrix" in blocks_text(reply.json["view"])
    assert reviewer(bot.db, team, "UDAVE") is None


def test_a_workspace_admin_who_holds_no_role_may_change_the_matrix(bot, slack):
    slack.add_user("UOWNER", "olga", is_owner=True)
    team = make_team(bot.db, leads=("bob",), managers=())
    press(bot, show_matrix(bot, by="UOWNER"), "reviewers_add", by="UOWNER")

    bot.submit(bot.last_view(), {"reviewer": "dave", "tier": "gold", "specializations": ["Security"],
                                 "capacity": "3"}, user="UOWNER")

    assert reviewer(bot.db, team, "UDAVE") is not None


def test_a_long_matrix_is_shown_ten_reviewers_a_page(bot, slack):
    team = make_team(bot.db)
    for index in range(23):
        slack.add_user(f"UREV{index:03d}", f"rev{index}")
        add_reviewer(bot.db, team, f"UREV{index:03d}")

    first = show_matrix(bot)
    assert len(buttons(first, "reviewers_edit")) == 10
    assert "Page 1 of 3 · reviewers 1–10 of 23" in blocks_text(first)
    assert buttons(first, "reviewers_page_previous") == []
    press(bot, first, "reviewers_page_next")
    press(bot, latest(bot), "reviewers_page_next")

    last = latest(bot)
    assert last["replace_original"] is True
    assert len(buttons(last, "reviewers_edit")) == 3
    assert "Page 3 of 3 · reviewers 21–23 of 23" in blocks_text(last)
    assert buttons(last, "reviewers_page_next") == []
    assert len(last["blocks"]) <= 50


def test_a_team_can_edit_its_own_list_of_specializations(bot):
    team = make_team(bot.db)
    press(bot, show_matrix(bot), "reviewers_specializations")
    view = bot.last_view()
    assert labels(view) == ["Specializations"]

    bot.submit(view, {"specializations": "Backend/API\nSecurity\nPayments compliance, PCI DSS\nSecurity\n"})

    assert specializations(bot.db, team) == ["Backend/API", "Security", "Payments compliance", "PCI DSS"]
    assert audit_actions(bot.db)[-1] == ("team", "specializations_changed")
    assert "the team has 4 now" in blocks_text(latest(bot))


def test_a_specialization_a_reviewer_still_has_cannot_be_dropped(bot):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "dave", specializations=["Mobile"])
    press(bot, show_matrix(bot), "reviewers_specializations")

    reply = bot.submit(bot.last_view(), {"specializations": "Backend/API\nSecurity"})

    assert reply.json["errors"]["specializations"].startswith("Still chosen by reviewers: Mobile.")
    assert "Mobile" in specializations(bot.db, team)


def test_each_home_channel_shows_its_own_teams_matrix(bot):
    payments = make_team(bot.db, "Payments", channel="payments")
    platform = make_team(bot.db, "Platform", channel="platform", leads=("dave",), managers=())
    add_reviewer(bot.db, payments, "eve")
    add_reviewer(bot.db, platform, "ivy")

    in_payments = blocks_text(show_matrix(bot, channel="payments"))
    in_platform = blocks_text(show_matrix(bot, channel="platform"))
    bot.command("setup reviewers", channel="general", user="grace")  # grace is in neither team

    assert "Payments" in in_payments and "<@UEVE>" in in_payments and "<@UIVY>" not in in_payments
    assert "Platform" in in_platform and "<@UIVY>" in in_platform and "<@UEVE>" not in in_platform
    assert "Which team is this for?" in latest(bot)["text"]


def test_the_matrix_of_a_team_without_a_team_lead_warns_about_it(bot):
    make_team(bot.db, leads=())

    text = blocks_text(show_matrix(bot))

    assert ":warning: Payments has no team lead yet" in text


def test_a_button_of_another_workspaces_team_finds_no_team(bot):
    other = make_team(bot.db, "Elsewhere", workspace_id="T0OTHER")

    bot.press("reviewers_add", value=json.dumps({"team": other.id, "user": None, "page": 0}))

    assert "That team no longer exists" in latest(bot)["text"]


@pytest.mark.parametrize("value", ["not json", "[1, 2]", '{"team": "one"}', '{"page": 0}'])
def test_a_malformed_button_value_is_refused_with_400_and_changes_nothing(bot, value):
    make_team(bot.db)
    events_before = count_rows(bot.db, AuditEvent)

    reply = bot.press("reviewers_remove", value=value)

    assert reply.status == 400
    assert count_rows(bot.db, AuditEvent) == events_before


def test_the_dm_to_a_new_reviewer_goes_through_the_outbox_under_a_unique_key(bot):
    make_team(bot.db)
    press(bot, show_matrix(bot), "reviewers_add")

    bot.submit(bot.last_view(), {"reviewer": "dave", "tier": "gold", "specializations": ["Security"],
                                 "capacity": "3"})

    with bot.db.transaction() as session:
        rows = list(session.exec(select(OutboxMessage)))
    assert [(row.key.startswith("reviewer:"), row.payload["channel"], row.status) for row in rows] == \
        [(True, "UDAVE", "sent")]


# --- removing a reviewer who has open reviews -------------------------------------------------------
PR = "https://github.com/acme/payments/pull/812"


def reviews_of(db, request_number: int) -> list[tuple[str, str, str]]:
    """(reviewer, role, status) of each assignment of CR-00n, oldest first."""
    with db.transaction() as session:
        request = review_store.request_by_number(session, "T0TEST", request_number)
        return [(a.reviewer_id, a.role, a.status) for a in review_store.assignments_of(session, request)]


@freeze_time(MONDAY)
def test_removing_a_reviewer_names_their_open_reviews_and_hands_them_to_the_next_eligible_reviewers(bot, slack):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "eve", "gold", ["Backend/API"])
    add_reviewer(bot.db, team, "frank", "silver", ["Backend/API"])
    add_reviewer(bot.db, team, "henry", "silver", ["Backend/API"])
    bot.command(f"review <{PR}> backend M", user="dave", channel="payments")
    assert reviews_of(bot.db, 1) == [("UEVE", "primary", "assigned"), ("UFRANK", "secondary", "assigned")]
    slack.reset_calls()

    press(bot, show_matrix(bot), "reviewers_remove", "UEVE")
    view = bot.last_view()
    assert "*1 open review of theirs* go to the next eligible reviewers" in blocks_text(view)
    assert f"<{PR}|CR-001> · primary reviewer, not accepted yet · Backend/API" in blocks_text(view)
    bot.submit(view, {})

    assert reviewer(bot.db, team, "UEVE") is None
    assert reviews_of(bot.db, 1) == [("UEVE", "primary", "reassigned"), ("UFRANK", "secondary", "assigned"),
                                     ("UHENRY", "primary", "assigned")]
    assert "Their open reviews: CR-001 → <@UHENRY>. They are told by DM." in blocks_text(latest(bot))
    told = blocks_text(slack.posted("UEVE")[-1])
    assert "<@UALICE> removed you from the reviewer matrix of *Payments*" in told
    assert f"<{PR}|CR-001> (primary): now with <@UHENRY>" in told
    assert any(PR in blocks_text(dm) for dm in slack.posted("UHENRY"))  # the new reviewer's assignment
    assert "<@UHENRY> (Silver) is the primary reviewer now" in blocks_text(slack.posted("UDAVE")[-1])
    with bot.db.transaction() as session:
        removed = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "reviewer")
                               .order_by(AuditEvent.id.desc())).first()
    assert (removed.action, removed.after) == ("removed", {"handed_over": {"CR-001": "UHENRY"}})


@freeze_time(MONDAY)
def test_a_removed_reviewers_open_review_nobody_else_can_take_waits_and_the_leads_are_told(bot, slack):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "eve", "gold", ["Backend/API"])
    bot.command(f"review <{PR}> backend M", user="dave", channel="payments")
    slack.reset_calls()

    press(bot, show_matrix(bot), "reviewers_remove", "UEVE")
    bot.submit(bot.last_view(), {})

    assert reviews_of(bot.db, 1) == [("UEVE", "primary", "reassigned")]
    with bot.db.transaction() as session:
        assert review_store.request_by_number(session, "T0TEST", 1).status == "waiting"
    assert "CR-001 waits for a reviewer" in blocks_text(latest(bot))
    assert "(primary): waits for a free reviewer" in blocks_text(slack.posted("UEVE")[-1])
    assert any("CR-001" in blocks_text(dm) for dm in slack.posted("UALICE"))  # the team lead hears of it


@freeze_time(MONDAY)
def test_removing_yourself_hands_your_reviews_over_without_a_dm_to_yourself(bot, slack):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "bob", "gold", ["Backend/API"])  # bob is an engineering manager
    add_reviewer(bot.db, team, "eve", "gold", ["Backend/API"])
    bot.command(f"review <{PR}> backend M", user="dave", channel="payments")
    slack.reset_calls()

    press(bot, show_matrix(bot, by="bob"), "reviewers_remove", "UBOB", by="bob")
    bot.submit(bot.last_view(), {}, user="bob")

    assert reviewer(bot.db, team, "UBOB") is None
    assert "They are told by DM" not in blocks_text(latest(bot))
    assert not any("removed you" in blocks_text(dm) for dm in slack.posted("UBOB"))


def test_a_removal_confirmed_by_someone_who_may_not_manage_changes_nothing(bot):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "dave")
    press(bot, show_matrix(bot), "reviewers_remove", "UDAVE")

    reply = bot.submit(bot.last_view(), {}, user="carol")

    assert reply.json["response_action"] == "update"
    assert reviewer(bot.db, team, "UDAVE") is not None
