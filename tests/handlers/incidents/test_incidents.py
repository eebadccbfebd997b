"""`/qms incident`: declaring through the modal, the card and its buttons, the checklist, the text
forms, the timeline and the list, and bad input, all over signed HTTP against the Slack stand-in."""

import copy
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlmodel import select

from app import slack_requests
from bot import incidents
from bot.core.timeutil import utcnow
from storage import incidents as store
from storage.audit import AuditEvent
from storage.incidents import Incident, IncidentEvent
from storage.outbox import OutboxMessage
from tests.harness.bot import blocks_text
from tests.harness.databases import count_rows
from tests.harness.teams import make_team

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LABELS = ["Title", "Severity", "Affected systems", "Description", "Incident commander"]


def declare(bot, title="Checkout fails for card payments", *, user="dave", channel="payments", **values):
    """Declare through the modal, as a person would."""
    bot.command("incident", user=user, channel=channel)
    fields = {"title": title, "severity": "SEV1", "affected_systems": "payments-api", "description": "Cards declined",
              "commander": user, **values}
    return bot.submit(bot.last_view(), fields, user=user)


def incident(bot, number=1) -> Incident:
    with bot.db.transaction() as session:
        return store.by_number(session, "T0TEST", number)


def timeline_kinds(bot, number=1) -> list[str]:
    with bot.db.transaction() as session:
        return [event.kind for event in store.events(session, store.by_number(session, "T0TEST", number))]


def top_level(slack, channel="CPAYMENTS"):
    return [m for m in slack.posted(channel) if not m.get("thread_ts")]


def in_thread(slack, channel="CPAYMENTS"):
    return [m for m in slack.posted(channel) if m.get("thread_ts")]


def card(slack, channel="CPAYMENTS"):
    return next(m for m in slack.posted(channel) if any(b.get("block_id") == "incident_actions" for b in m["blocks"]))


def checklist(slack, channel="CPAYMENTS"):
    return next(m for m in in_thread(slack, channel) if "Crisis response checklist" in m["text"])


def buttons(message):
    return {e["text"]["text"]: e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
            if e["type"] == "button"}


def ephemeral(bot):
    return bot.responses()[-1]["text"]


# --- declaring ------------------------------------------------------------------------------------------------
def test_incident_opens_a_modal_with_the_guides_fields_and_the_declarer_as_commander(bot):
    make_team(bot.db)

    bot.command("incident", user="dave", channel="payments")

    view = bot.last_view()
    inputs = {b["label"]["text"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert view["title"]["text"] == "Declare an incident"
    assert list(inputs) == LABELS
    assert [o["text"]["text"] for o in inputs["Severity"]["options"]] == [
        "SEV1 · critical", "SEV2 · high", "SEV3 · medium", "SEV4 · low"]
    assert inputs["Incident commander"]["initial_user"] == "UDAVE"


def test_a_title_after_the_command_is_filled_in(bot):
    make_team(bot.db)

    bot.command("incident Checkout is down", user="dave", channel="payments")

    title = next(b for b in bot.last_view()["blocks"] if b.get("block_id") == "title")
    assert title["element"]["initial_value"] == "Checkout is down"


def test_declaring_posts_the_card_the_checklist_in_its_thread_and_pings_the_team_leads(bot, slack):
    make_team(bot.db, leads=("alice", "eve"))

    reply = declare(bot)

    assert reply.status == 200 and reply.body == ""
    posted = card(slack)
    assert posted["text"].startswith("INC-001 SEV1: Checkout fails for card payments")
    assert list(buttons(posted)) == ["Acknowledge", "Post update", "Escalate now", "Resolve"]
    items = [o["text"]["text"] for b in checklist(slack)["blocks"] if b["type"] == "actions"
             for o in b["elements"][0]["options"]]
    assert checklist(slack)["thread_ts"] == posted["ts"]
    assert len(items) == 24 and items[0] == "Severity and impact assessment"
    assert items[-1] == "Preventive measures implementation"
    ping = top_level(slack)[-1]
    assert "<@UALICE>" in blocks_text(ping) and "<@UEVE>" in blocks_text(ping) and "Level 1" in blocks_text(ping)
    assert len(slack.posted("UALICE")) == len(slack.posted("UEVE")) == 1
    assert slack.posted("UDAVE") == []  # the declarer is not a lead: no ping for them
    confirmation = slack.calls_to("chat.postEphemeral")[-1].args
    assert confirmation["user"] == "UDAVE" and "INC-001" in str(confirmation["blocks"])
    assert timeline_kinds(bot) == ["declared"]
    with bot.db.transaction() as session:
        assert [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.entity_type == "incident"))] \
            == ["declared"]


def test_incident_numbers_count_up_per_workspace(bot, slack):
    make_team(bot.db)

    declare(bot, "Checkout fails")
    declare(bot, "Search is slow", severity="SEV3")

    assert [incident(bot, n).title for n in (1, 2)] == ["Checkout fails", "Search is slow"]
    cards = [m["text"] for m in top_level(slack) if buttons(m)]
    assert cards == ["INC-001 SEV1: Checkout fails (Level 1)", "INC-002 SEV3: Search is slow (Level 1)"]


def test_a_declaration_without_title_or_severity_is_answered_on_the_fields_and_stores_nothing(bot):
    make_team(bot.db)
    bot.command("incident", user="dave", channel="payments")

    reply = bot.submit(bot.last_view(), {"title": "  ", "severity": None, "commander": "dave"}, user="dave")

    assert reply.json["response_action"] == "errors"
    assert set(reply.json["errors"]) == {"title", "severity"}
    assert count_rows(bot.db, Incident) == count_rows(bot.db, OutboxMessage) == 0


def test_a_bot_cannot_be_the_incident_commander(bot):
    make_team(bot.db)

    reply = declare(bot, commander="UROBOT")

    assert reply.json["errors"] == {"commander": "That is a bot or a deactivated account: the incident commander "
                                                  "must be a person."}
    assert count_rows(bot.db, Incident) == 0


def test_outside_any_team_the_command_says_how_to_set_one_up(bot, slack):
    bot.command("incident", user="dave", channel="general")

    assert slack.calls_to("views.open") == []
    assert "/qms setup" in ephemeral(bot)


# --- the duplicate check ------------------------------------------------------------------------------------------
def test_a_closely_matching_title_within_30_minutes_asks_is_this_the_earlier_incident(bot, slack):
    make_team(bot.db)
    declare(bot, "Checkout is down")

    reply = declare(bot, "checkout down!", user="eve")

    assert reply.json["response_action"] == "update"
    view = reply.json["view"]
    assert "Is this INC-001?" in blocks_text(view)
    kept = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert kept["title"]["initial_value"] == "checkout down!" and kept["commander"]["initial_user"] == "UEVE"
    assert count_rows(bot.db, Incident) == 1


def test_answering_it_is_the_same_incident_declares_nothing_and_points_to_it(bot):
    make_team(bot.db)
    declare(bot, "Checkout is down")
    asked = declare(bot, "checkout down!", user="eve").json["view"]

    reply = bot.submit(asked, {"duplicate": "same", "title": "checkout down!", "severity": "SEV1",
                               "commander": "eve"}, user="eve")

    assert reply.json["response_action"] == "update"
    assert "Nothing was declared. Follow INC-001" in blocks_text(reply.json["view"])
    assert count_rows(bot.db, Incident) == 1


def test_a_close_variant_a_minute_later_is_asked_about(bot, slack):
    make_team(bot.db)
    with freeze_time(T0) as frozen:
        declare(bot, "Checkout is down")
        frozen.move_to(T0 + timedelta(minutes=1))

        reply = declare(bot, "Checkout down again", user="eve")

    assert "Is this INC-001?" in blocks_text(reply.json["view"])
    assert count_rows(bot.db, Incident) == 1


def test_answering_it_is_the_same_incident_never_declares_even_with_the_title_edited(bot):
    make_team(bot.db)
    declare(bot, "Checkout is down")
    asked = declare(bot, "checkout down!", user="eve").json["view"]

    reply = bot.submit(asked, {"duplicate": "same", "title": "Login is slow", "severity": "SEV2",
                               "commander": "eve"}, user="eve")

    assert "Nothing was declared. Follow INC-001" in blocks_text(reply.json["view"])
    assert count_rows(bot.db, Incident) == 1


def test_answering_it_is_the_same_incident_with_the_form_emptied_declares_nothing(bot):
    make_team(bot.db)
    declare(bot, "Checkout is down")
    asked = declare(bot, "checkout down!", user="eve").json["view"]

    reply = bot.submit(asked, {"duplicate": "same", "title": "", "severity": None, "commander": "eve"}, user="eve")

    assert "Nothing was declared. Follow INC-001" in blocks_text(reply.json["view"])
    assert count_rows(bot.db, Incident) == 1


@pytest.mark.parametrize("metadata, answer", [('{"team_id": 1, "duplicate_id": "1"}', "same"),
                                              ('{"team_id": 1, "duplicate_id": 1}', "maybe")])
def test_a_forged_duplicate_question_is_a_400(bot, metadata, answer):
    make_team(bot.db)
    declare(bot, "Checkout is down")
    asked = {**declare(bot, "checkout down!", user="eve").json["view"], "private_metadata": metadata}

    reply = bot.submit(asked, {"duplicate": answer, "title": "checkout down!", "severity": "SEV1",
                               "commander": "eve"}, user="eve")

    assert reply.status == 400
    assert count_rows(bot.db, Incident) == 1


def test_answering_it_is_a_different_incident_declares_a_second(bot):
    make_team(bot.db)
    declare(bot, "Checkout is down")
    asked = declare(bot, "checkout down!", user="eve").json["view"]

    reply = bot.submit(asked, {"duplicate": "new", "title": "checkout down!", "severity": "SEV2",
                               "commander": "eve"}, user="eve")

    assert reply.body == ""
    assert incident(bot, 2).title == "checkout down!"


def test_leaving_the_question_unanswered_is_an_error_on_it(bot):
    make_team(bot.db)
    declare(bot, "Checkout is down")
    asked = declare(bot, "checkout down!", user="eve").json["view"]

    reply = bot.submit(asked, {"duplicate": None, "title": "checkout down!", "severity": "SEV1",
                               "commander": "eve"}, user="eve")

    assert set(reply.json["errors"]) == {"duplicate"}
    assert count_rows(bot.db, Incident) == 1


def test_different_titles_or_other_teams_are_not_asked_about(bot):
    make_team(bot.db)
    make_team(bot.db, "Platform", channel="platform", leads=("frank",))
    declare(bot, "Checkout is down")

    assert declare(bot, "Login is slow").body == ""
    assert declare(bot, "Checkout is down", channel="platform", user="frank").body == ""
    assert count_rows(bot.db, Incident) == 3


# --- the buttons ------------------------------------------------------------------------------------------------
def test_acknowledge_records_who_updates_the_card_and_notes_it_in_the_thread(bot, slack):
    make_team(bot.db)
    declare(bot)

    bot.press("incident_ack", value=buttons(card(slack))["Acknowledge"]["value"], user="alice", message=card(slack),
              channel="payments")

    assert incident(bot).acknowledged_by == "UALICE"
    assert "acknowledged by <@UALICE>" in blocks_text(card(slack))
    assert "Acknowledge" not in buttons(card(slack))
    assert "<@UALICE> acknowledged INC-001" in blocks_text(in_thread(slack)[-1])
    assert timeline_kinds(bot) == ["declared", "acknowledged"]


def test_post_update_opens_a_modal_and_posts_the_update_in_the_thread_and_on_the_card(bot, slack):
    make_team(bot.db)
    declare(bot)

    bot.press("incident_update", value=buttons(card(slack))["Post update"]["value"], user="bob", message=card(slack),
              channel="payments")
    view = bot.last_view()
    bot.submit(view, {"update": "Rolled back release 4.2; errors falling.", "severity": "SEV1", "commander": "dave"},
               user="bob")

    assert view["title"]["text"] == "Post an update"
    assert "Rolled back release 4.2" in blocks_text(in_thread(slack)[-1])
    assert "*Latest update* · <@UBOB>" in blocks_text(card(slack))
    assert timeline_kinds(bot) == ["declared", "update"]


def commander_dms(slack, user):
    return [m for m in slack.posted(user) if "named you commander" in m["text"]]


def test_a_commander_named_by_someone_else_gets_a_dm_with_the_card_and_one_who_named_themselves_none(bot, slack):
    make_team(bot.db)
    declare(bot, commander="eve")  # dave declares, eve leads
    declare(bot, "Refunds stuck", user="frank")  # frank names himself

    [told] = commander_dms(slack, "UEVE")
    assert "<@UDAVE> named you *commander* of" in blocks_text(told)
    assert "Checkout fails for card payments" in blocks_text(told)
    assert "Post update" in str(told["blocks"])  # the card, with its buttons
    assert commander_dms(slack, "UFRANK") == []


def test_a_commander_handed_over_by_someone_else_is_told_by_dm(bot, slack):
    make_team(bot.db)
    declare(bot)

    bot.press("incident_update", value=buttons(card(slack))["Post update"]["value"], user="dave", message=card(slack),
              channel="payments")
    bot.submit(bot.last_view(), {"update": "Handing over.", "severity": "SEV1", "commander": "grace"}, user="dave")

    [told] = commander_dms(slack, "UGRACE")
    assert "<@UDAVE> named you *commander* of" in blocks_text(told)


def test_the_commander_may_hand_over_and_change_the_severity_others_may_only_post_updates(bot, slack):
    make_team(bot.db)
    declare(bot)
    bot.press("incident_update", value=buttons(card(slack))["Post update"]["value"], user="ivy", message=card(slack),
              channel="payments")

    refused = bot.submit(bot.last_view(), {"update": "", "severity": "SEV3", "commander": "ivy"}, user="ivy")
    bot.press("incident_update", value=buttons(card(slack))["Post update"]["value"], user="dave",
              message=card(slack), channel="payments")
    bot.submit(bot.last_view(), {"update": "", "severity": "SEV2", "commander": "grace"}, user="dave")

    assert refused.json["response_action"] == "update" and "commander (<@UDAVE>)" in blocks_text(refused.json["view"])
    assert (incident(bot).severity, incident(bot).commander_id) == ("SEV2", "UGRACE")
    assert timeline_kinds(bot) == ["declared", "severity", "commander"]


def open_update(bot, slack, user):
    bot.press("incident_update", value=buttons(card(slack))["Post update"]["value"], user=user, message=card(slack),
              channel="payments")
    return bot.last_view()


def test_a_plain_update_in_a_modal_opened_before_someone_changed_the_severity_is_posted(bot, slack):
    make_team(bot.db)
    declare(bot)  # SEV1, commander dave
    responders = open_update(bot, slack, "ivy")  # ivy may post updates, not change the severity
    commanders = open_update(bot, slack, "dave")
    bot.submit(commanders, {"update": "", "severity": "SEV2", "commander": "dave"}, user="dave")

    reply = bot.submit(responders, {"update": "Card payments recovering.", "severity": "SEV1", "commander": "dave"},
                       user="ivy")

    assert reply.body == ""
    assert (incident(bot).severity, incident(bot).latest_update) == ("SEV2", "Card payments recovering.")
    assert timeline_kinds(bot) == ["declared", "severity", "update"]


def test_a_leads_submission_changes_only_what_they_changed_in_the_modal(bot, slack):
    make_team(bot.db)
    declare(bot)
    leads = open_update(bot, slack, "alice")
    commanders = open_update(bot, slack, "dave")
    bot.submit(commanders, {"update": "", "severity": "SEV1", "commander": "grace"}, user="dave")

    bot.submit(leads, {"update": "Less urgent now.", "severity": "SEV3", "commander": "dave"}, user="alice")

    assert (incident(bot).severity, incident(bot).commander_id) == ("SEV3", "UGRACE")
    assert timeline_kinds(bot) == ["declared", "commander", "severity", "update"]


def test_an_update_modal_whose_opened_with_values_are_not_text_is_a_400(bot, slack):
    make_team(bot.db)
    declare(bot)
    view = {**open_update(bot, slack, "dave"), "private_metadata": '{"incident_id": 1, "severity": 2}'}

    reply = bot.submit(view, {"update": "x", "severity": "SEV1", "commander": "dave"}, user="dave")

    assert reply.status == 400
    assert timeline_kinds(bot) == ["declared"]


def test_an_empty_update_is_an_error_on_the_field(bot, slack):
    make_team(bot.db)
    declare(bot)
    bot.press("incident_update", value=buttons(card(slack))["Post update"]["value"], user="bob", message=card(slack),
              channel="payments")

    reply = bot.submit(bot.last_view(), {"update": None, "severity": "SEV1", "commander": "dave"}, user="bob")

    assert set(reply.json["errors"]) == {"update"}
    assert timeline_kinds(bot) == ["declared"]


def test_escalate_now_moves_one_level_and_pings_the_engineering_managers(bot, slack):
    make_team(bot.db)
    declare(bot)

    bot.press("incident_escalate", value=buttons(card(slack))["Escalate now"]["value"], user="alice",
              message=card(slack), channel="payments")

    assert incident(bot).level == 2
    ping = top_level(slack)[-1]
    assert "<@UALICE> escalated" in blocks_text(ping) and "<@UBOB>" in blocks_text(ping)
    assert len(slack.posted("UBOB")) == 1
    assert "Level 2 · Management involvement" in blocks_text(card(slack))


def test_a_stale_escalate_button_does_not_escalate_twice(bot, slack):
    make_team(bot.db)
    declare(bot)
    stale = buttons(card(slack))["Escalate now"]["value"]  # "id:1"
    bot.command("incident escalate INC-001", user="alice", channel="payments")

    bot.press("incident_escalate", value=stale, user="eve", message=card(slack), channel="payments")

    assert incident(bot).level == 2
    assert "has just moved to Level 2" in ephemeral(bot)


def test_resolve_asks_for_a_summary_then_resolves_and_tells_the_channel(bot, slack):
    make_team(bot.db)
    declare(bot)

    bot.press("incident_resolve", value=buttons(card(slack))["Resolve"]["value"], user="dave", message=card(slack),
              channel="payments")
    view = bot.last_view()
    empty = bot.submit(view, {"summary": "", "review_days": "5"}, user="dave")
    done = bot.submit(view, {"summary": "Renewed the expired gateway certificate.", "review_days": "7"}, user="dave")

    assert view["title"]["text"] == "Resolve INC-001"
    assert set(empty.json["errors"]) == {"summary"}
    assert done.body == ""
    resolved = incident(bot)
    assert (resolved.status, resolved.resolved_by, resolved.summary) == (
        "resolved", "UDAVE", "Renewed the expired gateway certificate.")
    note = in_thread(slack)[-1]
    assert "INC-001 resolved" in blocks_text(note)
    assert bot.slack.calls_to("chat.postMessage")[-1].args.get("reply_broadcast") is True
    assert list(buttons(card(slack))) == ["Post update"]


def test_someone_who_may_not_resolve_is_told_before_the_modal_opens(bot, slack):
    make_team(bot.db)
    declare(bot)
    slack.reset_calls()

    bot.press("incident_resolve", value=buttons(card(slack))["Resolve"]["value"], user="ivy", message=card(slack),
              channel="payments")

    assert slack.calls_to("views.open") == []
    assert "Only INC-001's commander (<@UDAVE>), the team leads and engineering managers of Payments" in ephemeral(bot)


def test_a_resolution_submitted_by_a_non_member_changes_nothing(bot, slack):
    make_team(bot.db)
    declare(bot)
    bot.press("incident_resolve", value=buttons(card(slack))["Resolve"]["value"], user="dave", message=card(slack),
              channel="payments")
    before = count_rows(bot.db, AuditEvent)

    reply = bot.submit(bot.last_view(), {"summary": "Fixed it", "review_days": "5"}, user="ivy")

    assert reply.json["response_action"] == "update"
    assert incident(bot).status == "open"
    assert count_rows(bot.db, AuditEvent) == before


def tick(bot, incident_id, step, message, selected, user):
    return bot.press("incident_checklist", type="checkboxes", block_id=f"checklist:{incident_id}:{step}",
                     selected_options=[{"value": value} for value in selected], user=user, message=message,
                     channel="payments")


def test_ticking_the_checklist_is_recorded_with_who_and_shown_to_everyone(bot, slack):
    make_team(bot.db)
    declare(bot)
    tick(bot, incident(bot).id, 1, checklist(slack), ["1.1", "1.3"], user="eve")

    tick(bot, incident(bot).id, 1, checklist(slack), ["1.3"], user="frank")  # frank unticks 1.1

    assert incident(bot).checklist_done == ["1.3"]
    with bot.db.transaction() as session:
        ticks = [(e.actor_id, e.data["item"], e.data["done"]) for e in store.events(session, incident(bot))
                 if e.kind == "checklist"]
    assert ticks == [("UEVE", "1.1", True), ("UEVE", "1.3", True), ("UFRANK", "1.1", False)]
    shown = [b["elements"][0] for b in checklist(slack)["blocks"] if b["type"] == "actions"][0]
    assert [o["value"] for o in shown["initial_options"]] == ["1.3"]
    assert "Checklist 1/24" in blocks_text(card(slack))


def test_two_people_ticking_items_of_one_step_at_once_do_not_undo_each_other(bot, slack):
    make_team(bot.db)
    declare(bot)
    both_see = copy.deepcopy(checklist(slack))  # neither has seen the other's tick yet

    tick(bot, incident(bot).id, 1, both_see, ["1.1"], user="eve")
    tick(bot, incident(bot).id, 1, both_see, ["1.3"], user="frank")

    assert incident(bot).checklist_done == ["1.1", "1.3"]
    shown = [b["elements"][0] for b in checklist(slack)["blocks"] if b["type"] == "actions"][0]
    assert [o["value"] for o in shown["initial_options"]] == ["1.1", "1.3"]


def test_unticking_from_a_stale_copy_unticks_only_that_item(bot, slack):
    make_team(bot.db)
    declare(bot)
    tick(bot, incident(bot).id, 2, checklist(slack), ["2.1", "2.2"], user="eve")
    eves_copy = copy.deepcopy(checklist(slack))  # shows 2.1 and 2.2 ticked
    tick(bot, incident(bot).id, 2, eves_copy, ["2.1", "2.2", "2.4"], user="frank")

    tick(bot, incident(bot).id, 2, eves_copy, ["2.1"], user="eve")  # eve unticks 2.2 on her older copy

    assert incident(bot).checklist_done == ["2.1", "2.4"]


def test_ticking_the_checklist_of_an_incident_that_is_gone_is_answered_and_changes_nothing(bot, slack):
    make_team(bot.db)
    declare(bot)
    before = count_rows(bot.db, IncidentEvent)

    reply = tick(bot, 999, 1, checklist(slack), ["1.1"], user="eve")

    assert reply.status == 200
    assert ephemeral(bot) == "That incident no longer exists, so nothing was changed."
    assert count_rows(bot.db, IncidentEvent) == before


# --- the text forms ------------------------------------------------------------------------------------------------
def test_the_text_forms_ack_update_escalate_and_resolve(bot, slack):
    make_team(bot.db)
    declare(bot)

    replies = [bot.command(text, user="alice", channel="general") for text in (
        "incident ack INC-001", "incident update INC-001 Failover to the second gateway done",
        "incident escalate inc-1", "incident resolve 1 Gateway certificate renewed")]

    assert [r.json["text"] for r in replies] == [
        "You acknowledged INC-001.", "Your update is posted in INC-001's thread and on its timeline.",
        "INC-001 is now at Level 2; its people are pinged.",
        "INC-001 is resolved; the commander will be reminded of the post-incident review."]
    assert timeline_kinds(bot) == ["declared", "acknowledged", "update", "escalated", "resolved"]


def test_resolving_by_text_without_a_summary_is_refused_and_changes_nothing(bot):
    make_team(bot.db)
    declare(bot)
    before = count_rows(bot.db, AuditEvent)

    reply = bot.command("incident resolve INC-001", user="alice", channel="payments")

    assert reply.json["text"].startswith("Resolving needs a summary")
    assert incident(bot).status == "open" and count_rows(bot.db, AuditEvent) == before


def test_acknowledging_a_resolved_incident_is_refused_and_changes_nothing(bot, slack):
    make_team(bot.db)
    declare(bot)
    bot.command("incident resolve INC-001 Fixed", user="alice", channel="payments")
    before = (count_rows(bot.db, AuditEvent), count_rows(bot.db, IncidentEvent), count_rows(bot.db, OutboxMessage))

    by_text = bot.command("incident ack INC-001", user="bob", channel="payments")
    bot.press("incident_ack", value=str(incident(bot).id), user="bob", message=card(slack), channel="payments")

    assert by_text.json["text"] == "INC-001 was already resolved by <@UALICE>, so there is nothing to acknowledge."
    assert ephemeral(bot) == by_text.json["text"]
    assert incident(bot).acknowledged_by is None
    assert (count_rows(bot.db, AuditEvent), count_rows(bot.db, IncidentEvent),
            count_rows(bot.db, OutboxMessage)) == before


def test_a_refused_press_without_a_response_url_is_answered_in_a_modal(bot, slack):
    make_team(bot.db)
    declare(bot)
    bot.command("incident resolve INC-001 Fixed", user="alice", channel="payments")
    payload = slack_requests.block_action(
        action={"action_id": "incident_ack", "block_id": "incident_actions", "type": "button",
                "value": str(incident(bot).id)},
        user_id="UBOB", team_id="T0TEST", response_url="", view={"id": "VHOME", "type": "home"})
    del payload["response_url"]

    reply = bot.signed_post(slack_requests.interaction(payload))

    assert reply.status == 200
    assert "INC-001 was already resolved by <@UALICE>" in blocks_text(bot.last_view())


def test_escalating_beyond_level_3_is_refused(bot):
    make_team(bot.db)
    declare(bot)
    bot.command("incident escalate INC-001", user="alice", channel="payments")
    bot.command("incident escalate INC-001", user="alice", channel="payments")

    reply = bot.command("incident escalate INC-001", user="alice", channel="payments")

    assert "already at Level 3" in reply.json["text"]
    assert incident(bot).level == 3
    assert timeline_kinds(bot).count("escalated") == 2


def test_someone_who_may_not_resolve_is_told_so_before_being_asked_for_a_summary(bot):
    make_team(bot.db)
    declare(bot)

    reply = bot.command("incident resolve INC-001", user="ivy", channel="payments")

    assert reply.json["text"].startswith("Only INC-001's commander (<@UDAVE>)")
    assert incident(bot).status == "open"


def test_resolving_a_resolved_incident_without_a_summary_says_it_is_resolved(bot):
    make_team(bot.db)
    declare(bot)
    bot.command("incident resolve INC-001 Fixed", user="alice", channel="payments")

    reply = bot.command("incident resolve INC-001", user="alice", channel="payments")

    assert reply.json["text"] == "INC-001 was already resolved by <@UALICE>."


@pytest.mark.parametrize("text, suggestion", [
    ("incident resolved INC-001 was fine", "Did you mean `/qms incident resolve INC-001 was fine`?"),
    ("incident esclate inc-1", "Did you mean `/qms incident escalate INC-1`?"),
    ("incident INC-001 resolve gateway fixed", "Did you mean `/qms incident resolve INC-001 gateway fixed`?"),
    ("incident frobnicate INC-001", None),
    ("incident resolved INC-042 fixed", "Did you mean `/qms incident resolve INC-042 fixed`?"),
])
def test_a_mistyped_action_next_to_an_incident_is_answered_with_the_usage_not_declared(bot, slack, text,
                                                                                        suggestion):
    make_team(bot.db)
    declare(bot)
    slack.reset_calls()

    reply = bot.command(text, user="alice", channel="payments")

    answer = reply.json["text"]
    assert "is not something I can do to an incident, so nothing was declared." in answer
    assert "`/qms incident ack INC-001`" in answer  # the usage
    assert (suggestion in answer) if suggestion else ("Did you mean" not in answer)
    assert slack.calls_to("views.open") == []
    assert count_rows(bot.db, Incident) == 1


@pytest.mark.parametrize("text, title", [
    ("incident Checkout 500 errors", "Checkout 500 errors"),
    ("incident Rollback of INC-042 failed", "Rollback of INC-042 failed"),
    ("incident Updates failing", "Updates failing"),
    ("incident Regression INC-042", "Regression INC-042"),
])
def test_titles_that_mention_numbers_or_other_incidents_still_open_the_form(bot, text, title):
    make_team(bot.db)

    bot.command(text, user="dave", channel="payments")

    assert next(b for b in bot.last_view()["blocks"] if b.get("block_id") == "title")["element"]["initial_value"] \
        == title


def test_a_non_member_resolving_by_text_is_refused_naming_who_may(bot):
    make_team(bot.db)
    declare(bot)

    reply = bot.command("incident resolve INC-001 I think it's fine", user="ivy", channel="payments")

    assert reply.json["text"] == ("Only INC-001's commander (<@UDAVE>), the team leads and engineering managers of "
                                  "Payments, or a workspace admin may resolve it. Nothing was changed.")
    assert incident(bot).status == "open"


def test_team_names_and_typed_words_in_answers_cannot_ping_or_link(bot):
    make_team(bot.db, "Pay <!here> & Co")
    declare(bot)

    refused = bot.command("incident resolve INC-001 Fixed", user="ivy", channel="payments").json["text"]
    thresholds = bot.command("setup escalation <!channel> 4 8", user="ivy", channel="payments").json["text"]
    severity = bot.command("setup escalation <!channel> 4 8", user="bob", channel="payments").json["text"]

    assert "managers of Pay &lt;!here&gt; &amp; Co, or" in refused and "<!here>" not in refused
    assert "managers of Pay &lt;!here&gt; &amp; Co, or" in thresholds
    assert severity.startswith("&lt;!CHANNEL&gt; is not a severity")


def test_an_unknown_incident_or_a_missing_reference_gets_a_clear_answer(bot):
    make_team(bot.db)

    assert "There is no incident INC-042" in bot.command("incident ack INC-042", channel="payments").json["text"]
    assert "Which incident?" in bot.command("incident ack", channel="payments").json["text"]
    assert "/qms incident ack INC-001" in bot.command("incident help", channel="payments").json["text"]


# --- reading ------------------------------------------------------------------------------------------------------
def test_the_timeline_shows_every_event_with_who(bot):
    make_team(bot.db)
    declare(bot)
    bot.command("incident ack INC-001", user="alice", channel="payments")
    bot.command("incident update INC-001 Rolled back", user="bob", channel="payments")

    reply = bot.command("incident INC-001", user="ivy", channel="general")

    text = reply.text
    assert reply.json["response_type"] == "ephemeral"
    assert "<@UDAVE> declared it" in text and "<@UALICE> acknowledged" in text and "<@UBOB>: Rolled back" in text
    assert "Events 1–3 of 3" in text


def test_a_long_timeline_is_paginated(bot):
    make_team(bot.db)
    declare(bot)
    incident_id = incident(bot).id
    with bot.db.transaction() as session:  # 44 updates, written as the domain writes them
        for n in range(44):
            incidents.post_update(session, "T0TEST", incident_id, incidents.UpdateForm(text=f"step {n}"),
                                  actor_id="UBOB", workspace_admin=False, now=utcnow())

    first = bot.command("incident INC-001", channel="payments")
    second = bot.command("incident INC-001 page 2", channel="payments")

    assert "Events 1–40 of 45" in first.text and "page 2" in first.text
    assert "Events 41–45 of 45" in second.text and "step 43" in second.text


def test_the_list_shows_open_incidents_with_age_and_level(bot):
    make_team(bot.db)
    declare(bot, "Checkout fails")
    declare(bot, "Search is slow", severity="SEV3")
    bot.command("incident escalate INC-002", user="alice", channel="payments")
    declare(bot, "Old problem", severity="SEV4")
    bot.command("incident resolve INC-003 Gone", user="alice", channel="payments")

    reply = bot.command("incident list", user="ivy", channel="payments")

    assert "*Open incidents of Payments* · 2" in reply.text
    assert "*INC-001* SEV1 · Checkout fails" in reply.text and "Level 1 (team leads) · open 0 min" in reply.text
    assert "*INC-002* SEV3 · Search is slow" in reply.text and "Level 2 (engineering managers)" in reply.text
    assert "INC-003" not in reply.text


@pytest.mark.parametrize("took, shown", [(timedelta(minutes=1), "1 min"), (timedelta(minutes=90), "1.5 h"),
                                         (timedelta(hours=23, minutes=59), "23.9 h"),
                                         (timedelta(hours=26, minutes=40), "1 d 2 h")])
def test_durations_read_the_same_on_the_card_in_the_thread_and_on_the_timeline(bot, slack, took, shown):
    make_team(bot.db)
    with freeze_time(T0) as frozen:
        declare(bot)
        declare(bot, "Search is slow", severity="SEV4")
        frozen.move_to(T0 + took)
        bot.command("incident resolve INC-001 Fixed", user="alice", channel="payments")
        listed = bot.command("incident list", user="alice", channel="payments").text
        timeline = bot.command("incident INC-001", user="alice", channel="payments").text

    assert f"after {shown} at Level" in blocks_text(card(slack))
    assert f"INC-001 resolved* by <@UALICE> after {shown}." in blocks_text(in_thread(slack)[-1])
    assert f"resolved after {shown}" in timeline
    assert f"open {shown}" in listed


# --- malformed payloads -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("action_id, value", [("incident_ack", "abc"), ("incident_escalate", "1"),
                                              ("incident_resolve", "1:2:3"), ("incident_update", ""),
                                              ("incident_ack", "\u00b2"), ("incident_ack", "\u0661"),
                                              ("incident_escalate", "1:\u00b9"), ("incident_ack", " 1"),
                                              ("incident_ack", "+1"), ("incident_ack", "1_0"),
                                              ("incident_ack", "9" * 5000), ("incident_resolve", "99999999999")])
def test_a_malformed_button_value_is_a_400_and_changes_nothing(bot, slack, action_id, value):
    make_team(bot.db)
    declare(bot)
    before = (count_rows(bot.db, AuditEvent), count_rows(bot.db, OutboxMessage))

    reply = bot.press(action_id, value=value, user="alice", message=card(slack), channel="payments")

    assert reply.status == 400
    assert (count_rows(bot.db, AuditEvent), count_rows(bot.db, OutboxMessage)) == before


@pytest.mark.parametrize("block_id, options", [("checklist:1:9", []), ("checklist:x:1", []),
                                               ("checklist:1:1", [{"value": "6.4"}]), ("other:1:1", []),
                                               ("checklist:\u00b9:1", []), ("checklist:1:\u0663", []),
                                               ("checklist:1", []), ("checklist:1:1:1", []),
                                               ("checklist: 1:1", [])])
def test_a_malformed_checklist_tick_is_a_400_and_changes_nothing(bot, slack, block_id, options):
    make_team(bot.db)
    declare(bot)
    before = count_rows(bot.db, IncidentEvent)

    reply = bot.press("incident_checklist", type="checkboxes", block_id=block_id, selected_options=options,
                      message=checklist(slack), channel="payments")

    assert reply.status == 400
    assert count_rows(bot.db, IncidentEvent) == before


@pytest.mark.parametrize("metadata", ['{"incident_id": "one"}', '{"incident_id": true}', '{"incident_id": 1.0}',
                                      '{"incident_id": 1e400}', '{"incident_id": ' + "9" * 40 + '}'])
def test_a_modal_that_names_no_incident_is_a_400(bot, slack, metadata):
    make_team(bot.db)
    declare(bot)
    bot.press("incident_resolve", value=str(incident(bot).id), user="dave", message=card(slack), channel="payments")
    view = {**bot.last_view(), "private_metadata": metadata}

    reply = bot.submit(view, {"summary": "Fixed", "review_days": "5"}, user="dave")

    assert reply.status == 400
    assert incident(bot).status == "open"


@pytest.mark.parametrize("days", ["\u00b2", "\u0663", "five", "-1", " 5"])
def test_a_forged_review_reminder_choice_is_a_400_and_resolves_nothing(bot, slack, days):
    make_team(bot.db)
    declare(bot)
    bot.press("incident_resolve", value=str(incident(bot).id), user="dave", message=card(slack), channel="payments")

    reply = bot.submit(bot.last_view(), {"summary": "Fixed", "review_days": days}, user="dave")

    assert reply.status == 400
    assert incident(bot).status == "open"


@pytest.mark.parametrize("action_id", ["incident_update", "incident_resolve"])
def test_a_button_that_opens_a_modal_without_a_trigger_id_is_a_400(bot, slack, action_id):
    make_team(bot.db)
    declare(bot)
    payload = slack_requests.block_action(
        action={"action_id": action_id, "block_id": "incident_actions", "type": "button",
                "value": str(incident(bot).id)},
        user_id="UDAVE", team_id="T0TEST", response_url=slack.response_url("action"), channel_id="CPAYMENTS",
        message=card(slack))
    del payload["trigger_id"]
    slack.reset_calls()

    reply = bot.signed_post(slack_requests.interaction(payload))

    assert reply.status == 400
    assert slack.calls_to("views.open") == []
