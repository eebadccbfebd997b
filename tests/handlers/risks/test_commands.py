"""`/qms risk` over signed HTTP: logging through the modal and the quick add, refusing bad input
inline, numbering under concurrency, listing, one risk with its history, and the CSV export.

Card buttons (ticks, edit, re-score, close) and bands are in test_risks_card.py.
"""

import csv
import io
import threading
from datetime import date, timedelta

import pytest

from bot.core.timeutil import utcnow
from storage import outbox
from storage import risks as store
from storage.audit import AuditEvent
from storage.outbox import OutboxMessage
from storage.risks import Risk, RiskAction
from tests.conftest import both_databases
from tests.harness.bot import blocks_text
from tests.harness.databases import count_rows
from tests.harness.teams import make_team

LABELS = ["Title", "Description", "Category", "Probability", "Impact", "Owner", "Mitigation actions", "Review by"]
GUIDE_ACTIONS = ["Conduct security audit and penetration testing",
                 "Implement additional authentication security measures",
                 "Enhanced security code review training", "Regular security monitoring and alerting"]


# --- steps shared with test_risks_card.py -------------------------------------------------------------
def risk_values(**overrides):
    values = {"title": "Security vulnerability in authentication system",
              "description": "Session tokens survive a password change.", "category": "technical",
              "probability": "3", "impact": "4", "owner": "dave", "actions": "\n".join(GUIDE_ACTIONS),
              "review_by": None}
    return {**values, **overrides}


def log_risk(bot, user="alice", channel="payments", **overrides):
    """Log a risk the way a person does: /qms risk, fill in the modal, submit."""
    bot.command("risk", user=user, channel=channel)
    return bot.submit(bot.last_view(), risk_values(**overrides), user=user)


def quick(bot, text, user="alice", channel="payments"):
    return bot.command(f"risk {text}", user=user, channel=channel)


def stored(bot, number=1):
    with bot.db.transaction() as session:
        return store.risk_by_number(session, "T0TEST", number)


def card(slack, label="QR-001", channel="CPAYMENTS"):
    """The risk's card as the channel shows it now (chat.update changes it in place)."""
    return next(m for m in slack.posted(channel) if m["text"].startswith(label + " ") and not m.get("thread_ts"))


def thread_replies(slack, message, channel="CPAYMENTS"):
    return [m for m in slack.posted(channel) if m.get("thread_ts") == message["ts"]]


def labels_in(text):
    import re

    return re.findall(r"\*(QR-\d+)\*", text)


@pytest.fixture
def team(bot):
    return make_team(bot.db)  # Payments in #payments: alice leads, bob manages, carol is an executive


# --- the modal ----------------------------------------------------------------------------------------
def test_risk_opens_a_modal_with_the_guides_fields_and_worded_levels(bot, team):
    bot.command("risk", channel="payments")

    view = bot.last_view()
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert view["title"]["text"] == "New risk"
    assert [b["label"]["text"] for b in inputs.values()] == LABELS
    probability = [o["text"]["text"] for o in inputs["probability"]["element"]["options"]]
    assert probability == ["1 — Very low", "2 — Low", "3 — Medium", "4 — High", "5 — Very high"]
    assert "security vulnerabilities" in inputs["category"]["hint"]["text"]
    assert "workflow bottlenecks" in inputs["category"]["hint"]["text"]
    assert "skills gaps" in inputs["category"]["hint"]["text"]
    assert inputs["owner"]["element"]["initial_user"] == "UALICE"
    assert inputs["review_by"]["optional"] is True


def test_logging_a_3_by_4_risk_yields_qr_001_with_score_12_high(bot, slack, team):
    reply = log_risk(bot)

    assert reply.status == 200 and reply.body == ""
    risk = stored(bot)
    assert (risk.number, risk.probability, risk.impact, risk.score, risk.owner_id) == (1, 3, 4, 12, "UDAVE")
    posted = card(slack)
    assert posted["text"].startswith("QR-001 · Security vulnerability in authentication system — score 12 (high)")
    assert "*12* · :large_orange_circle: High" in blocks_text(posted)
    checklist = next(b for b in posted["blocks"] if b["type"] == "actions" and b["elements"][0]["type"] == "checkboxes")
    assert [o["text"]["text"] for o in checklist["elements"][0]["options"]] == GUIDE_ACTIONS
    buttons = [e["text"]["text"] for b in posted["blocks"] if b["type"] == "actions" for e in b["elements"]
               if e["type"] == "button"]
    assert buttons == ["Edit", "Re-score", "Close"]


def test_the_owner_gets_a_dm_and_whoever_logged_it_a_confirmation(bot, slack, team):
    log_risk(bot, owner="dave")

    dm = slack.posted("UDAVE")
    assert len(dm) == 1 and "<@UALICE> made you the owner of *QR-001" in blocks_text(dm[0])
    confirmation = slack.calls_to("chat.postEphemeral")[-1].args
    assert confirmation["user"] == "UALICE" and "Logged *QR-001" in blocks_text(confirmation)


def test_no_dm_when_you_own_the_risk_you_logged(bot, slack, team):
    log_risk(bot, owner="alice")

    assert slack.posted("UALICE") == []


def test_logging_is_audited_and_the_card_remembered_for_later_updates(bot, team):
    log_risk(bot)
    risk_id = stored(bot).id

    with bot.db.transaction() as session:
        events = store_events(session)
        location = outbox.location(session, "T0TEST", f"risk:{risk_id}:card")
    assert [(e.action, e.actor_id, e.after["score"], e.after["band"]) for e in events] == \
        [("created", "UALICE", 12, "high")]
    assert location is not None and location.channel == "CPAYMENTS"


def store_events(session):
    from sqlmodel import select

    return list(session.exec(select(AuditEvent).where(AuditEvent.entity_type == "risk").order_by(AuditEvent.id)))


def test_numbers_run_on_per_workspace_qr_001_qr_002(bot, slack, team):
    log_risk(bot)
    log_risk(bot, title="Code review bottleneck during peak development", probability="4", impact="3")

    assert [stored(bot, n).title for n in (1, 2)] == ["Security vulnerability in authentication system",
                                                      "Code review bottleneck during peak development"]
    assert card(slack, "QR-002")["text"].startswith("QR-002 · Code review bottleneck")


@both_databases
def test_concurrent_submissions_get_distinct_ids(bot, slack, team):
    bot.command("risk", channel="payments")
    view = bot.last_view()
    people = ["alice", "bob", "carol", "dave", "eve", "frank", "grace", "henry"]
    start = threading.Barrier(len(people))
    replies = []

    def submit(person):
        start.wait()
        replies.append(bot.submit(view, risk_values(title=f"Risk of {person}"), user=person))

    threads = [threading.Thread(target=submit, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bot.wait()

    assert [r.status for r in replies] == [200] * len(people)
    with bot.db.transaction() as session:
        numbers = sorted(r.number for r in session.exec(store_select()))
    assert numbers == list(range(1, len(people) + 1))
    cards = [m["text"][:6] for m in slack.posted("CPAYMENTS") if not m.get("thread_ts")]
    assert sorted(cards) == [f"QR-{n:03d}" for n in range(1, len(people) + 1)]


def store_select():
    from sqlmodel import select

    return select(Risk)


# --- bad input: refused inline, nothing stored ------------------------------------------------------------
@pytest.mark.parametrize("field, value, says", [
    ("probability", "7", "probability is a whole number from 1"),
    ("probability", "0", "probability is a whole number from 1"),
    ("impact", "4; DROP TABLE risk", "impact is a whole number from 1"),
    ("impact", None, "impact is a whole number from 1"),
    ("title", "", "Give the risk a short title"),
    ("title", "   ", "Give the risk a short title"),
    ("title", "x" * 151, "Keep the title to 150 characters (this one has 151)"),
    ("owner", "robot", "a risk's owner is a person"),
    ("owner", "UNOBODY", "a risk's owner is a person"),
    ("owner", None, "Choose who owns this risk"),
    ("category", "existential", "Choose a category"),
    ("actions", "\n".join(f"Action {n}" for n in range(21)), "a risk takes at most 20"),
    ("review_by", "2020-01-01", "Pick a review date from today on"),
    ("review_by", "next tuesday", "A date looks like 2026-12-31"),
])
def test_invalid_input_is_refused_on_its_field_and_nothing_is_stored(bot, slack, team, field, value, says):
    slack.reset_calls()

    reply = log_risk(bot, **{field: value})

    assert reply.status == 200
    assert reply.json["response_action"] == "errors"
    assert list(reply.json["errors"]) == [field]
    assert says in reply.json["errors"][field]
    assert (count_rows(bot.db, Risk), count_rows(bot.db, RiskAction), count_rows(bot.db, OutboxMessage),
            count_rows(bot.db, AuditEvent)) == (0, 0, 0, 1)  # the one audit event is the team's setup
    assert slack.posted("CPAYMENTS") == []


def test_a_title_of_exactly_150_characters_is_accepted(bot, team):
    log_risk(bot, title="x" * 150)

    assert len(stored(bot).title) == 150


def test_every_wrong_field_is_named_at_once(bot, team):
    reply = log_risk(bot, title="", probability="9", owner="robot")

    assert set(reply.json["errors"]) == {"title", "probability", "owner"}


def test_a_submission_with_a_malformed_form_is_a_400_and_stores_nothing(bot, team):
    bot.command("risk", channel="payments")
    view = {**bot.last_view(), "private_metadata": "{not json"}

    reply = bot.submit(view, risk_values())

    assert reply.status == 400
    assert count_rows(bot.db, Risk) == 0


def test_a_form_for_a_team_of_another_workspace_stores_nothing(bot, team):
    other = make_team(bot.db, "Elsewhere", channel="platform", workspace_id="T0OTHER")
    bot.command("risk", channel="payments")
    view = {**bot.last_view(), "private_metadata": f'{{"team_id": {other.id}, "channel_id": "CPAYMENTS"}}'}

    reply = bot.submit(view, risk_values())

    assert reply.json["response_action"] == "update"
    assert "no longer exists" in blocks_text(reply.json["view"])
    assert count_rows(bot.db, Risk) == 0


def test_without_a_team_the_answer_says_to_set_one_up(bot, slack):
    bot.command("risk", channel="general")

    assert slack.calls_to("views.open") == []
    assert "Run `/qms setup`" in bot.responses()[-1]["text"]


# --- the quick add --------------------------------------------------------------------------------------
def test_quick_add_logs_without_a_modal_and_reads_the_escaped_owner(bot, slack, team):
    reply = quick(bot, '"Login outage risk" p3 i4 <@UBOB|bob>')

    risk = stored(bot)
    assert (risk.title, risk.probability, risk.impact, risk.score, risk.owner_id, risk.category) == \
        ("Login outage risk", 3, 4, 12, "UBOB", "technical")
    assert reply.json["response_type"] == "ephemeral" and "Logged *QR-001 · Login outage risk*" in reply.text
    assert slack.calls_to("views.open") == []
    assert card(slack)["text"].startswith("QR-001 · Login outage risk — score 12 (high)")
    assert len(slack.posted("UBOB")) == 1


def test_a_title_with_here_in_it_pings_nobody_in_any_notification(bot, slack, team):
    # Slack sends a typed @here as <!here>; the title keeps it, every message's fallback text escapes it.
    reply = quick(bot, '"<!here> checkout outage" p3 i4 <@UBOB|bob>')
    detail = bot.command("risk QR-001", channel="payments")

    assert stored(bot).title == "<!here> checkout outage"
    texts = [reply.json["text"], detail.json["text"]] + [c.args["text"] for c in slack.calls if "text" in c.args]
    assert len(texts) >= 4  # the confirmation, the detail, the card and the owner's DM
    assert all("<!here>" not in text for text in texts)
    assert card(slack)["text"].startswith("QR-001 · &lt;!here&gt; checkout outage — score 12")


@pytest.mark.parametrize("text, title, owner, category", [
    ("“Login outage risk” p3 i4", "Login outage risk", "UALICE", "technical"),  # smart quotes, owner: me
    ("Login outage risk P3 I4 process", "Login outage risk", "UALICE", "process"),
    ('"Vendor &amp; SSO &lt;lock-in&gt;" i2 p5 organizational <@UCAROL>', "Vendor & SSO <lock-in>", "UCAROL",
     "organizational"),
])
def test_quick_add_accepts_the_ways_people_type_it(bot, team, text, title, owner, category):
    quick(bot, text)

    risk = stored(bot)
    assert (risk.title, risk.owner_id, risk.category) == (title, owner, category)


@pytest.mark.parametrize("text", [
    '"Login outage risk" p3',  # no impact
    '"Login outage risk" i4 p3 i2',  # impact twice
    '"Login outage risk p3 i4',  # no closing quote
    '"Login outage risk" p3 i4 soon',
    'lsit',
])
def test_a_quick_add_that_cannot_be_read_answers_with_its_usage(bot, slack, team, text):
    slack.reset_calls()

    reply = quick(bot, text)

    assert reply.json["response_type"] == "ephemeral"
    assert "as a risk, so nothing was logged" in reply.text
    assert '/qms risk "Login outage risk" p3 i4 @owner' in reply.text
    assert count_rows(bot.db, Risk) == 0 and slack.calls == []


@pytest.mark.parametrize("text, says", [
    ('"Login outage risk" p9 i4', "The probability is a whole number from 1"),
    ('"Login outage risk" p3 i0', "The impact is a whole number from 1"),
    ('"" p3 i4', "Give the risk a short title"),
    ('p3 i4', "Give the risk a short title"),
    (f'"{"x" * 151}" p3 i4', "Keep the title to 150 characters"),
    ('"Login outage risk" p3 i4 <@UROBOT|robot>', "a risk's owner is a person"),
])
def test_a_quick_add_with_bad_values_says_why_and_stores_nothing(bot, team, text, says):
    reply = quick(bot, text)

    assert reply.json["text"].startswith("Nothing was logged:") and says in reply.json["text"]
    assert count_rows(bot.db, Risk) == 0


def test_a_quick_add_naming_someone_slack_does_not_know_says_who_is_unknown(bot, slack, team):
    slack.reset_calls()

    reply = quick(bot, '"Login outage risk" p2 i2 @zed')  # Slack leaves an @name it does not know as text

    assert reply.json["text"] == ("Nothing was logged: There is nobody called @zed in this workspace. Name the owner "
                                  "with a mention: type @ and pick them from the list Slack offers.")
    assert count_rows(bot.db, Risk) == 0 and slack.calls_to("chat.postMessage") == []


def test_an_unknown_owner_is_named_beside_the_other_problems(bot, team):
    reply = quick(bot, '"" p9 i2 @zed')

    text = reply.json["text"]
    assert "Give the risk a short title" in text and "The probability is a whole number" in text
    assert "nobody called @zed" in text


# --- reading the register -------------------------------------------------------------------------------
def test_the_list_shows_open_risks_by_score_highest_first_then_oldest(bot, team):
    for title, p, i in [("Medium one", 2, 3), ("High one", 3, 4), ("Critical one", 5, 4), ("Second high", 4, 3),
                        ("Low one", 1, 2)]:
        quick(bot, f'"{title}" p{p} i{i}')

    reply = bot.command("risk list", channel="payments")

    assert labels_in(reply.text) == ["QR-003", "QR-002", "QR-004", "QR-001", "QR-005"]
    assert "*Open risks of Payments* — 5, highest score first" in reply.text


@pytest.mark.parametrize("text", ["list bogus", "list closed", "LIST everything at once"])
def test_an_unknown_list_is_answered_with_the_lists_usage(bot, slack, team, text):
    reply = quick(bot, text)

    assert reply.json["response_type"] == "ephemeral"
    assert reply.json["text"].startswith(f"I don't know the list `{text.split(None, 1)[1]}`.")
    assert "`/qms risk list mine`" in reply.json["text"] and "`/qms risk list all`" in reply.json["text"]
    assert "nothing was logged" not in reply.text
    assert count_rows(bot.db, Risk) == 0 and slack.calls_to("chat.postMessage") == []


def test_a_quick_add_whose_title_begins_with_list_is_still_logged(bot, team):
    quick(bot, "List of vendors is out of date p2 i3")

    assert stored(bot).title == "List of vendors is out of date"


def test_list_mine_shows_the_open_risks_i_own_and_list_all_shows_closed_ones_too(bot, team):
    quick(bot, '"Mine" p2 i2 <@UBOB|bob>')
    quick(bot, '"Not mine" p3 i3 <@UCAROL|carol>')
    quick(bot, '"Mine and closed" p5 i5 <@UBOB|bob>')
    close_directly(bot, 3)

    mine = bot.command("risk list mine", user="bob", channel="general")
    everything = bot.command("risk list all", channel="payments")
    open_only = bot.command("risk list", channel="payments")

    assert labels_in(mine.text) == ["QR-001"]
    assert labels_in(everything.text) == ["QR-002", "QR-001", "QR-003"]
    assert ":lock: closed as mitigated" in everything.text
    assert labels_in(open_only.text) == ["QR-002", "QR-001"]


def close_directly(bot, number):
    from bot import risks

    with bot.db.transaction() as session:
        risk, team_row = risks.open_risk(session, "T0TEST", stored(bot, number).id)
        risks.close_risk(session, risk, team_row, "mitigated", "Done.", actor_id="UALICE", now=utcnow())


def test_long_registers_paginate_with_buttons(bot, team):
    for n in range(23):
        quick(bot, f'"Risk {n}" p{n % 5 + 1} i{(n // 5) % 5 + 1}')

    first = bot.command("risk list", channel="payments")
    buttons = [e for b in first.json["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert len(labels_in(first.text)) == 10 and "Page 1 of 3" in first.text
    assert [b["text"]["text"] for b in buttons] == ["Next ›"]

    bot.press("risk_page", value=buttons[0]["value"], channel="payments")
    second = bot.responses()[-1]
    assert second["replace_original"] is True and "Page 2 of 3" in blocks_text(second)
    third_value = next(e["value"] for b in second["blocks"] if b["type"] == "actions" for e in b["elements"]
                       if e["text"]["text"] == "Next ›")
    bot.press("risk_page", value=third_value, channel="payments")
    third = bot.responses()[-1]

    seen = labels_in(first.text) + labels_in(blocks_text(second)) + labels_in(blocks_text(third))
    assert sorted(seen) == [f"QR-{n:03d}" for n in range(1, 24)]
    scores = [stored(bot, int(label[3:])).score for label in seen]
    assert scores == sorted(scores, reverse=True)
    assert [e["text"]["text"] for b in third["blocks"] if b["type"] == "actions" for e in b["elements"]] == \
        ["‹ Previous"]


def test_a_risk_by_its_id_shows_its_history(bot, slack, team):
    log_risk(bot, owner="bob")
    from tests.handlers.risks.test_card import press_on_card, tick

    tick(bot, slack, GUIDE_ACTIONS[1], user="bob")
    press_on_card(bot, slack, "risk_rescore", user="bob")
    bot.submit(bot.last_view(), {"probability": "2", "impact": "4", "note": "MFA is live"}, user="bob")

    reply = bot.command("risk qr-1", channel="general")

    assert reply.json["response_type"] == "ephemeral"
    text = reply.text
    assert "QR-001 · Security vulnerability in authentication system" in text
    assert "<@UALICE> logged it: 3 × 4 = 12 (high), owner <@UBOB>" in text
    assert f"<@UBOB> ticked “{GUIDE_ACTIONS[1]}”" in text
    assert "<@UBOB> re-scored it: 3 × 4 = 12 (high) → 2 × 4 = 8 (medium) — “MFA is live”" in text
    assert text.index("logged it") < text.index("ticked") < text.index("re-scored it")


def test_an_unknown_risk_id_is_answered_politely(bot, team):
    reply = bot.command("risk QR-042", channel="payments")

    assert reply.json["text"] == "There is no QR-042 in this workspace. `/qms risk list all` shows every risk."


def test_risk_help_lists_the_subcommands_and_the_quick_add(bot):
    reply = bot.command("risk help")

    for usage in ("/qms risk list", "list mine", "list all", "/qms risk QR-007", "/qms risk export",
                  '/qms risk "Login outage risk" p3 i4 @owner', "/qms risk bands"):
        assert usage in reply.text


# --- export ---------------------------------------------------------------------------------------------
def uploaded_csv(slack):
    upload = slack.calls_to("files.completeUploadExternal")[-1]
    file_id = upload.args["files"][0]["id"]
    return upload, list(csv.DictReader(io.StringIO(slack.files[file_id]["data"].decode("utf-8-sig"))))


def test_export_sends_the_register_as_a_csv_file_to_the_user(bot, slack, team):
    log_risk(bot, owner="bob", review_by=(date.today() + timedelta(days=30)).isoformat())
    quick(bot, '"=SUM(A1:A9) exposure" p1 i2')
    close_directly(bot, 2)

    reply = bot.command("risk export", user="carol", channel="payments")

    assert "Sending the risk register of Payments (2 risks) to you" in reply.json["text"]
    upload, rows = uploaded_csv(slack)
    assert upload.args["channel_id"] == "DUCAROL"
    assert [r["id"] for r in rows] == ["QR-001", "QR-002"]
    first = rows[0]
    assert (first["score"], first["band"], first["status"], first["owner_id"], first["owner_name"]) == \
        ("12", "high", "open", "UBOB", "bob")
    assert first["mitigation_actions"].splitlines()[0] == f"[ ] {GUIDE_ACTIONS[0]}"
    assert (first["actions_done"], first["actions_total"]) == ("0", "4")
    assert rows[1]["title"] == "'=SUM(A1:A9) exposure"  # a spreadsheet must not run it as a formula
    assert (rows[1]["status"], rows[1]["response"], rows[1]["closing_note"]) == ("closed", "mitigated", "Done.")
    assert slack.files[upload.args["files"][0]["id"]]["name"] == f"risk-register-payments-{utcnow():%Y-%m-%d}.csv"


def test_exporting_an_empty_register_says_so_and_sends_nothing(bot, slack, team):
    reply = bot.command("risk export", channel="payments")

    assert "is empty, so there is nothing to export yet" in reply.json["text"]
    assert slack.calls_to("files.completeUploadExternal") == []
