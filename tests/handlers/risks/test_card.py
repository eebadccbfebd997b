"""A risk's card over signed HTTP: ticking its checklist updates it in place, edit, re-score and
close (only by the owner, the team's leads and managers), buttons on closed or deleted risks,
and the team's score bands."""

import copy

import pytest
from sqlmodel import select

from storage import teams as team_store
from storage.audit import AuditEvent
from storage.risks import Risk
from tests.handlers.risks.test_commands import GUIDE_ACTIONS, card, log_risk, quick, stored, thread_replies
from tests.harness.bot import blocks_text
from tests.harness.databases import count_rows
from tests.harness.teams import make_team


@pytest.fixture
def team(bot):
    return make_team(bot.db)  # Payments in #payments: alice leads, bob manages, carol is an executive


@pytest.fixture
def logged(bot, slack, team):
    """QR-001, the guide's 3 × 4 authentication risk, owned by dave, logged by eve."""
    log_risk(bot, user="eve", owner="dave")
    slack.reset_calls()
    return stored(bot)


def checklist(message, part=0):
    block = next(b for b in message["blocks"] if b.get("block_id", "").startswith("risk_actions:")
                 and b["block_id"].endswith(f":{part}"))
    return block, block["elements"][0]


def tick(bot, slack, text, *, user="alice", message=None, untick=False):
    """Tick (or untick) one item on a copy of the card as the presser's Slack shows it."""
    message = copy.deepcopy(message or card(slack))
    block, element = checklist(message)
    option = next(o for o in element["options"] if o["text"]["text"] == text)
    selected = [o for o in element.get("initial_options", []) if o["value"] != option["value"]]
    if not untick:
        selected.append(option)
    return bot.press("risk_tick", user=user, message=message, channel="payments", block_id=block["block_id"],
                     type="checkboxes", selected_options=selected)


def press_on_card(bot, slack, action_id, *, user="alice", label="QR-001"):
    message = copy.deepcopy(card(slack, label))
    button = next(e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
                  if e.get("action_id") == action_id)
    return bot.press(action_id, value=button["value"], user=user, message=message, channel="payments",
                     block_id=f"risk_buttons:{button['value']}")


def ticked(message):
    _, element = checklist(message)
    return [o["text"]["text"] for o in element.get("initial_options", [])]


def risk_events(bot, action=None):
    with bot.db.transaction() as session:
        query = select(AuditEvent).where(AuditEvent.entity_type == "risk").order_by(AuditEvent.id)
        return [e for e in session.exec(query) if action is None or e.action == action]


def last_answer(bot):
    return bot.responses()[-1]["text"]


# --- the checklist ----------------------------------------------------------------------------------
def test_ticking_an_action_updates_the_card_in_place_and_the_audit_log(bot, slack, logged):
    before = card(slack)

    tick(bot, slack, GUIDE_ACTIONS[0], user="frank")

    after = card(slack)
    update = slack.calls_to("chat.update")[-1].args
    assert (update["channel"], update["ts"]) == ("CPAYMENTS", before["ts"])
    assert after["ts"] == before["ts"] and len(slack.posted("CPAYMENTS")) == 1
    assert ticked(after) == [GUIDE_ACTIONS[0]]
    assert "1 of 4 done" in blocks_text(after)
    [event] = risk_events(bot, "action_done")
    assert (event.actor_id, event.after) == ("UFRANK", {"action": GUIDE_ACTIONS[0]})


def test_unticking_reopens_the_action(bot, slack, logged):
    tick(bot, slack, GUIDE_ACTIONS[2])

    tick(bot, slack, GUIDE_ACTIONS[2], untick=True)

    assert ticked(card(slack)) == []
    assert [e.action for e in risk_events(bot)][-2:] == ["action_done", "action_reopened"]


def test_two_people_ticking_different_items_on_stale_cards_do_not_undo_each_other(bot, slack, logged):
    stale = copy.deepcopy(card(slack))  # both opened the channel before either ticked

    tick(bot, slack, GUIDE_ACTIONS[0], user="bob", message=stale)
    tick(bot, slack, GUIDE_ACTIONS[3], user="carol", message=stale)

    assert ticked(card(slack)) == [GUIDE_ACTIONS[0], GUIDE_ACTIONS[3]]


def test_a_tick_without_the_card_in_the_payload_compares_with_what_is_stored(bot, slack, logged):
    _, element = checklist(card(slack))

    bot.press("risk_tick", channel="payments", block_id=f"risk_actions:{logged.id}:0", type="checkboxes",
              selected_options=[element["options"][1]])

    assert ticked(card(slack)) == [GUIDE_ACTIONS[1]]


def test_a_risks_detail_has_the_checklist_as_the_same_checkboxes_as_its_card(bot, slack, logged):
    detail = bot.command("risk QR-001", user="frank", channel="general").json

    block, element = checklist(detail)
    assert block["block_id"] == checklist(card(slack))[0]["block_id"] and element["action_id"] == "risk_tick"
    assert [o["text"]["text"] for o in element["options"]] == GUIDE_ACTIONS


def test_ticking_on_a_risks_detail_updates_the_card_the_audit_and_the_detail(bot, slack, logged):
    detail = bot.command("risk QR-001", user="frank", channel="general").json
    block, element = checklist(detail)

    # A detail is an ephemeral answer: Slack (and the console) send the tick without a copy of it.
    reply = bot.press("risk_tick", user="frank", channel="general", block_id=block["block_id"], type="checkboxes",
                      selected_options=[element["options"][2]])

    assert reply.status == 200
    assert ticked(card(slack)) == [GUIDE_ACTIONS[2]] and "1 of 4 done" in blocks_text(card(slack))
    [event] = risk_events(bot, "action_done")
    assert (event.actor_id, event.after) == ("UFRANK", {"action": GUIDE_ACTIONS[2]})
    redrawn = bot.responses()[-1]
    assert redrawn["replace_original"] is True
    assert ticked(redrawn) == [GUIDE_ACTIONS[2]]
    assert f"<@UFRANK> ticked “{GUIDE_ACTIONS[2]}”" in blocks_text(redrawn)


def test_a_closed_risks_detail_shows_its_checklist_as_text(bot, slack, logged):
    close(bot, slack, "dave")

    detail = bot.command("risk QR-001", channel="payments").json

    assert not [b for b in detail["blocks"] if b["type"] == "actions"]
    assert f":white_square: {GUIDE_ACTIONS[0]}" in blocks_text(detail)


@pytest.mark.parametrize("block_id, options", [
    ("risk_actions:x:0", []),
    ("somebody_elses_block", []),
    ("risk_actions:1:0", [{"value": "DROP"}]),
])
def test_a_malformed_tick_is_a_400_and_changes_nothing(bot, slack, logged, block_id, options):
    reply = bot.press("risk_tick", channel="payments", block_id=block_id, type="checkboxes", selected_options=options)

    assert reply.status == 400
    assert risk_events(bot, "action_done") == [] and slack.calls_to("chat.update") == []


@pytest.mark.parametrize("block_id, options", [
    ("risk_actions:²:0", []),  # "²".isdigit() is True, int("²") fails
    ("risk_actions:{id}:¹", []),
    ("risk_actions:{id}:0", [{"value": "²"}]),
    ("risk_actions:99999999999999999999:0", []),  # past what the database's ids hold
])
def test_a_tick_with_superscript_or_huge_numbers_is_a_400(bot, slack, logged, block_id, options):
    reply = bot.press("risk_tick", channel="payments", block_id=block_id.format(id=logged.id), type="checkboxes",
                      selected_options=options)

    assert reply.status == 400
    assert risk_events(bot, "action_done") == [] and slack.calls_to("chat.update") == []


# --- buttons with forged values ---------------------------------------------------------------------------
@pytest.mark.parametrize("action_id", ["risk_edit", "risk_rescore", "risk_close", "risk_view"])
@pytest.mark.parametrize("value", ["²", "1²", "", "one", "99999999999999999999"])
def test_a_forged_button_value_is_a_400_and_nothing_opens(bot, slack, logged, action_id, value):
    reply = bot.press(action_id, value=value, user="dave", channel="payments")

    assert reply.status == 400
    assert slack.calls_to("views.open") == [] and bot.responses() == []


def test_a_forged_risk_in_the_edit_forms_metadata_is_a_400(bot, slack, logged):
    press_on_card(bot, slack, "risk_edit", user="dave")
    view = {**bot.last_view(), "private_metadata": '{"risk_id": "²"}'}

    reply = bot.submit(view, {"title": "Changed", "category": "technical", "owner": "dave"}, user="dave")

    assert reply.status == 400
    assert stored(bot).title == "Security vulnerability in authentication system"


# --- edit and re-score --------------------------------------------------------------------------------
def test_editing_changes_the_owner_keeps_ticks_and_tells_the_new_owner(bot, slack, logged):
    tick(bot, slack, GUIDE_ACTIONS[0])
    press_on_card(bot, slack, "risk_edit", user="dave")
    view = bot.last_view()
    assert view["title"]["text"] == "Edit QR-001"
    assert "probability" not in {b.get("block_id") for b in view["blocks"]}  # re-scoring is its own button

    reply = bot.submit(view, {"title": "Session fixation in authentication", "description": "",
                              "category": "technical", "owner": "grace",
                              "actions": f"{GUIDE_ACTIONS[0]}\nRotate session tokens on password change",
                              "review_by": None}, user="dave")

    assert reply.body == ""
    after = card(slack)
    assert after["text"].startswith("QR-001 · Session fixation in authentication")
    assert ticked(after) == [GUIDE_ACTIONS[0]]
    assert [o["text"]["text"] for o in checklist(after)[1]["options"]] == \
        [GUIDE_ACTIONS[0], "Rotate session tokens on password change"]
    assert "made you the owner of *QR-001" in blocks_text(slack.posted("UGRACE")[-1])
    edit = risk_events(bot, "edited")[-1]
    assert (edit.before["owner"], edit.after["owner"]) == ("UDAVE", "UGRACE")
    assert set(edit.after) == {"actions", "description", "owner", "title"}


def test_rescoring_updates_the_card_and_says_why_in_its_thread(bot, slack, logged):
    press_on_card(bot, slack, "risk_rescore", user="dave")

    bot.submit(bot.last_view(), {"probability": "4", "impact": "4", "note": "An exploit was published"}, user="dave")

    after = card(slack)
    assert after["text"].startswith("QR-001 · Security vulnerability in authentication system — score 16 (critical)")
    assert ":red_circle: Critical" in blocks_text(after)
    [note] = thread_replies(slack, after)
    assert "3 × 4 = 12 (high) → *4 × 4 = 16 (critical)*" in blocks_text(note)
    assert "An exploit was published" in blocks_text(note)
    rescored = risk_events(bot, "rescored")[-1]
    assert (rescored.before["score"], rescored.after["score"], rescored.after["note"]) == \
        (12, 16, "An exploit was published")
    assert stored(bot).score == 16


def test_a_new_review_date_alone_is_told_as_such_not_as_a_re_score(bot, slack, logged):
    press_on_card(bot, slack, "risk_rescore", user="dave")

    bot.submit(bot.last_view(), {"probability": "3", "impact": "4", "review_by": "2099-01-15"}, user="dave")

    [note] = thread_replies(slack, card(slack))
    assert "re-scored" not in note["text"] and "re-scored" not in blocks_text(note)
    assert "kept *QR-001* at 3 × 4 = 12 (high); next review by 2099-01-15" in blocks_text(note) \
        or "at 3 × 4 = 12 (high); next review by 2099-01-15" in blocks_text(note)
    assert risk_events(bot, "rescored")[-1].after["review_by"] == "2099-01-15"


def test_a_re_score_that_changes_nothing_records_and_posts_nothing(bot, slack, logged):
    before = len(risk_events(bot))
    press_on_card(bot, slack, "risk_rescore", user="dave")
    view = bot.last_view()
    posted = len(slack.calls_to("chat.postMessage"))

    bot.submit(view, {"probability": "3", "impact": "4"}, user="dave")

    assert len(risk_events(bot)) == before
    assert len(slack.calls_to("chat.postMessage")) == posted


def test_a_forged_rescore_value_is_refused_inline(bot, slack, logged):
    press_on_card(bot, slack, "risk_rescore", user="dave")

    reply = bot.submit(bot.last_view(), {"probability": "6", "impact": "4"}, user="dave")

    assert list(reply.json["errors"]) == ["probability"]
    assert stored(bot).score == 12


def test_someone_unrelated_may_not_edit_or_rescore(bot, slack, logged):
    press_on_card(bot, slack, "risk_rescore", user="ivy")

    assert slack.calls_to("views.open") == []
    assert last_answer(bot).startswith("Only the owner of QR-001, whoever logged it, the team leads and engineering "
                                       "managers of Payments, or a workspace admin, may re-score it.")


# --- closing --------------------------------------------------------------------------------------------
def close(bot, slack, user, response="mitigated", note="Penetration test passed; MFA enforced."):
    press_on_card(bot, slack, "risk_close", user=user)
    return bot.submit(bot.last_view(), {"response": response, "note": note}, user=user)


@pytest.mark.parametrize("closer", ["dave", "alice", "bob"])  # the owner, a team lead, an engineering manager
def test_the_owner_and_the_teams_leads_and_managers_may_close(bot, slack, logged, closer):
    reply = close(bot, slack, closer)

    assert reply.body == ""
    risk = stored(bot)
    assert (risk.status, risk.response, risk.closing_note, risk.closed_by) == \
        ("closed", "mitigated", "Penetration test passed; MFA enforced.", f"U{closer.upper()}")
    after = card(slack)
    assert after["text"].endswith("closed as mitigated")
    assert "Closed as *mitigated* by" in blocks_text(after)
    assert not [b for b in after["blocks"] if b["type"] == "actions"]  # no buttons, no checkboxes
    assert "closed QR-001 as *mitigated*" in blocks_text(thread_replies(slack, after)[-1])
    closed = risk_events(bot, "closed")[-1]
    assert closed.after["response"] == "mitigated" and closed.after["open_actions"] == GUIDE_ACTIONS


def test_the_close_modal_asks_for_the_guides_responses_and_a_note(bot, slack, logged):
    press_on_card(bot, slack, "risk_close", user="dave")

    view = bot.last_view()
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert [o["value"] for o in inputs["response"]["element"]["options"]] == \
        ["mitigated", "accepted", "transferred", "avoided"]
    assert inputs["note"]["optional"] is False
    assert "4 of 4 mitigation actions are not done" in blocks_text(view)


@pytest.mark.parametrize("closer", ["carol", "eve", "ivy"])  # an executive, whoever logged it, a bystander
def test_others_are_refused_clearly_and_no_modal_opens(bot, slack, logged, closer):
    press_on_card(bot, slack, "risk_close", user=closer)

    assert slack.calls_to("views.open") == []
    assert last_answer(bot) == ("Only the owner of QR-001, the team leads and engineering managers of Payments, "
                                "or a workspace admin, may close a risk.")
    assert stored(bot).status == "open"


def test_a_close_form_submitted_by_someone_else_changes_nothing(bot, slack, logged):
    press_on_card(bot, slack, "risk_close", user="dave")

    reply = bot.submit(bot.last_view(), {"response": "accepted", "note": "Fine by me"}, user="ivy")

    assert reply.json["response_action"] == "update"
    assert "may close a risk" in blocks_text(reply.json["view"])
    assert stored(bot).status == "open" and risk_events(bot, "closed") == []


@pytest.mark.parametrize("values, field", [
    ({"response": "ignored", "note": "We ignore it"}, "response"),
    ({"response": "accepted", "note": "   "}, "note"),
    ({"response": "accepted", "note": None}, "note"),
])
def test_closing_needs_a_known_response_and_a_note(bot, slack, logged, values, field):
    press_on_card(bot, slack, "risk_close", user="dave")

    reply = bot.submit(bot.last_view(), values, user="dave")

    assert list(reply.json["errors"]) == [field]
    assert stored(bot).status == "open"


# --- buttons on closed or deleted risks -----------------------------------------------------------------
@pytest.mark.parametrize("action_id", ["risk_edit", "risk_rescore", "risk_close"])
def test_a_button_on_a_closed_risk_answers_politely_and_changes_nothing(bot, slack, logged, action_id):
    stale = copy.deepcopy(card(slack))
    close(bot, slack, "dave")
    slack.reset_calls()

    button = next(e for b in stale["blocks"] if b["type"] == "actions" for e in b["elements"]
                  if e.get("action_id") == action_id)
    bot.press(action_id, value=button["value"], user="dave", message=stale, channel="payments")

    assert slack.calls_to("views.open") == []
    assert last_answer(bot).startswith("QR-001 is already closed (mitigated) by <@UDAVE>, so nothing was changed.")


def test_a_tick_on_a_closed_risk_answers_politely(bot, slack, logged):
    stale = copy.deepcopy(card(slack))
    close(bot, slack, "dave")

    tick(bot, slack, GUIDE_ACTIONS[0], message=stale)

    assert "already closed" in last_answer(bot)
    assert risk_events(bot, "action_done") == []


def test_a_button_on_a_deleted_risk_answers_politely(bot, slack, logged):
    stale = copy.deepcopy(card(slack))
    with bot.db.transaction() as session:
        session.delete(session.get(Risk, logged.id))

    press_on_card_of = next(e for b in stale["blocks"] if b["type"] == "actions" for e in b["elements"]
                            if e.get("action_id") == "risk_edit")
    bot.press("risk_edit", value=press_on_card_of["value"], message=stale, channel="payments")
    tick(bot, slack, GUIDE_ACTIONS[0], message=stale)

    answers = [r["text"] for r in bot.responses()]
    assert answers == ["That risk no longer exists (it may have been deleted with its team), so nothing was "
                       "changed."] * 2


def test_a_risk_of_another_workspace_cannot_be_pressed(bot, slack, team):
    other = make_team(bot.db, "Elsewhere", channel="platform", workspace_id="T0OTHER")
    from bot import risks
    from bot.risks import RiskForm
    from tests.harness.teams import SETUP_TIME

    with bot.db.transaction() as session:
        theirs = risks.log_risk(session, session.merge(other), RiskForm("Theirs", 3, 3, "UBOB"), actor_id="UBOB",
                                now=SETUP_TIME).risk

    bot.press("risk_close", value=str(theirs.id), channel="payments")

    assert "no longer exists" in last_answer(bot)


# --- bands ---------------------------------------------------------------------------------------------
def test_a_manager_changes_the_bands_and_open_cards_follow(bot, slack, logged):
    bot.command("risk bands", user="bob", channel="payments")
    view = bot.last_view()
    inputs = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"] if b["type"] == "input"}
    assert inputs == {"medium": "5", "high": "10", "critical": "16"}

    reply = bot.submit(view, {"medium": "4", "high": "8", "critical": "12"}, user="bob")

    assert reply.body == ""
    with bot.db.transaction() as session:
        assert team_store.get_team(session, "T0TEST", logged.team_id).risk_bands == \
            {"medium": 4, "high": 8, "critical": 12}
        events = list(session.exec(select(AuditEvent).where(AuditEvent.action == "risk_bands_changed")))
    assert [(e.before["critical"], e.after["critical"]) for e in events] == [(16, 12)]
    assert card(slack)["text"].startswith("QR-001 · Security vulnerability in authentication system — score 12 "
                                          "(critical)")
    confirmation = blocks_text(slack.calls_to("chat.postEphemeral")[-1].args)
    assert "Risk bands of *Payments* saved" in confirmation and "Updating the cards of 1 open risk" in confirmation
    quick(bot, '"Another" p2 i2')
    assert stored(bot, 2).score == 4 and "(medium)" in card(slack, "QR-002")["text"]


def test_anyone_else_sees_the_teams_bands_read_only(bot, slack, team):
    set_bands(bot, team, medium="4", high="8", critical="12")

    bot.command("risk bands", user="carol", channel="payments")  # an executive: not a lead or manager

    assert slack.calls_to("views.open") == []
    answer = bot.responses()[-1]
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == "Risk bands of Payments: 1–3 low, 4–7 medium, 8–11 high, 12–25 critical."
    assert ":large_green_circle: Low 1–3, :large_yellow_circle: Medium 4–7, :large_orange_circle: High 8–11, " \
           ":red_circle: Critical 12–25" in blocks_text(answer)
    assert "Only the team leads and engineering managers of Payments, or a workspace admin, may change them." in \
        blocks_text(answer)


def test_the_guides_bands_are_shown_as_the_guides(bot, slack, team):
    bot.command("risk bands", user="ivy", channel="payments")

    assert "*Risk bands of Payments* (the guide's): :large_green_circle: Low 1–4" in blocks_text(bot.responses()[-1])


def set_bands(bot, team, **bands):
    from bot import risks
    from bot.core.timeutil import utcnow

    with bot.db.transaction() as session:
        risks.set_bands(session, team_store.get_team(session, "T0TEST", team.id), bands, actor_id="UALICE",
                        now=utcnow())


def impact_hint(view):
    return next(b for b in view["blocks"] if b.get("block_id") == "impact")["hint"]["text"]


def test_help_and_the_forms_hints_show_the_teams_own_bands(bot, slack, team):
    set_bands(bot, team, medium="4", high="8", critical="12")

    help_text = bot.command("risk help", user="ivy", channel="payments").text
    bot.command("risk", user="dave", channel="payments")
    new_form = bot.last_view()
    log_risk(bot, user="dave", owner="dave")
    press_on_card(bot, slack, "risk_rescore", user="dave")
    rescore = bot.last_view()

    assert "The bands of *Payments*: :large_green_circle: Low 1–3, :large_yellow_circle: Medium 4–7" in help_text
    assert "1–4" not in help_text and "16–25" not in help_text
    expected = "the bands of Payments: 1–3 low, 4–7 medium, 8–11 high, 12–25 critical."
    assert impact_hint(new_form).endswith(expected) and impact_hint(rescore).endswith(expected)


def test_help_without_a_team_shows_the_guides_bands(bot):
    text = bot.command("risk help", channel="general").text  # no team in the workspace yet

    assert "The guide's bands: :large_green_circle: Low 1–4, :large_yellow_circle: Medium 5–9, " \
           ":large_orange_circle: High 10–15, :red_circle: Critical 16–25; a team may set its own." in text


@pytest.mark.parametrize("values, field", [
    ({"medium": "10", "high": "5", "critical": "16"}, "high"),
    ({"medium": "5", "high": "10", "critical": "10"}, "critical"),
    ({"medium": "1", "high": "10", "critical": "16"}, "medium"),
    ({"medium": "5", "high": "ten", "critical": "16"}, "high"),
    ({"medium": "5", "high": "10", "critical": "26"}, "critical"),
    ({"medium": "5", "high": "¹⁰", "critical": "16"}, "high"),  # "¹⁰".isdigit() is True, int("¹⁰") fails
    ({"medium": "²", "high": "10", "critical": "16"}, "medium"),
])
def test_bands_out_of_range_or_order_are_refused_inline(bot, team, values, field):
    bot.command("risk bands", user="alice", channel="payments")

    reply = bot.submit(bot.last_view(), values)

    assert list(reply.json["errors"]) == [field]
    with bot.db.transaction() as session:
        assert team_store.get_team(session, "T0TEST", team.id).risk_bands is None


def test_malformed_page_buttons_are_a_400(bot, team):
    for value in ("not json", '{"scope": "everything", "team": 1, "page": 1}', '{"scope": "open"}'):
        assert bot.press("risk_page", value=value, channel="payments").status == 400
    assert count_rows(bot.db, Risk) == 0
