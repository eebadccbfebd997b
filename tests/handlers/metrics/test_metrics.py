"""`/qms dor`, `/qms dod`, `/qms metrics`, `/qms setup token` and `/qms setup digest`, over signed HTTP."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlmodel import select

from bot.core.timeutil import utcnow
from storage import teams as team_store
from storage.audit import AuditEvent
from storage.metrics import ApiToken, ItemCheck
from tests.harness.bot import blocks_text
from tests.harness.databases import count_rows
from tests.harness.metrics import a_fortnight, add_checks, add_gates, full_metrics
from tests.harness.teams import make_team


def checks(db):
    with db.transaction() as session:
        return list(session.exec(select(ItemCheck).order_by(ItemCheck.id)))


def inputs(view):
    return {block["block_id"]: block for block in view["blocks"] if block["type"] == "input"}


# --- the forms -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, title", [("dor", "Definition of Ready"), ("dod", "Definition of Done")])
def test_the_check_command_opens_a_form_with_the_guides_fields(bot, kind, title):
    make_team(bot.db)

    bot.command(kind, channel="payments")

    view = bot.last_view()
    assert view["title"]["text"] == title
    fields = inputs(view)
    assert [f["label"]["text"] for f in fields.values()] == ["Work item", "Result", "Reason", "Minutes spent", "Note"]
    assert [o["text"]["text"] for o in fields["result"]["element"]["options"]] == ["Pass", "Fail"]


def test_the_dor_reasons_are_the_guides(bot):
    make_team(bot.db)

    bot.command("dor", channel="payments")

    reasons = [o["text"]["text"] for o in inputs(bot.last_view())["reason"]["element"]["options"]]
    assert reasons == ["Incomplete requirements", "Missing acceptance criteria", "Insufficient technical design",
                       "Other"]


def test_a_submitted_check_is_stored_audited_and_confirmed_to_the_person(bot, slack):
    make_team(bot.db)
    bot.command("dor", channel="payments", user="dave")

    reply = bot.submit(bot.last_view(), {"work_item": "PROJ-123", "result": "fail", "reason": "acceptance_criteria",
                                         "minutes": "1h 5m", "note": "No criteria for refunds"}, user="dave")

    assert reply.status == 200 and reply.body == ""
    [check] = checks(bot.db)
    assert (check.kind, check.work_item, check.passed, check.reason, check.minutes, check.checked_by) == (
        "dor", "PROJ-123", False, "acceptance_criteria", 65, "UDAVE")
    assert count_rows(bot.db, AuditEvent) == 2  # the team's creation and this check
    answer = slack.calls_to("chat.postEphemeral")[-1].args
    assert (answer["channel"], answer["user"]) == ("CPAYMENTS", "UDAVE")
    assert "DoR failed* for PROJ-123 — Missing acceptance criteria · 1.1 h" in blocks_text(answer)
    assert "⚠️ *DoR pass rate*: 0 % · target > 90 %" in blocks_text(answer)


def test_a_failed_check_without_a_reason_and_bad_minutes_get_inline_errors_and_nothing_is_stored(bot):
    make_team(bot.db)
    bot.command("dod", channel="payments")

    reply = bot.submit(bot.last_view(), {"work_item": "PROJ-1", "result": "fail", "reason": None, "minutes": "soon"})

    assert reply.json["response_action"] == "errors"
    assert set(reply.json["errors"]) == {"reason", "minutes"}
    assert "Choose why the DoD check failed" in reply.json["errors"]["reason"]
    assert checks(bot.db) == []


def test_a_forged_result_is_an_inline_error_not_a_stored_check(bot):
    make_team(bot.db)
    bot.command("dor", channel="payments")

    reply = bot.submit(bot.last_view(), {"work_item": "PROJ-1", "result": "maybe"})

    assert set(reply.json["errors"]) == {"result"}
    assert checks(bot.db) == []


@pytest.mark.parametrize("metadata", ['{"kind": "dor", "team_id": "1"}', '{"kind": "sprint", "team_id": 1}', "[]",
                                      "{not json", '{"kind": "dor", "team_id": true}',
                                      '{"kind": "dor", "team_id": 100000000000000000000}',
                                      '{"kind": "dor", "team_id": -1}', '{"kind": "dor", "team_id": 1, "channel_id": 5}'])
def test_a_submission_with_forged_metadata_is_a_400_and_stores_nothing(bot, metadata):
    make_team(bot.db)
    bot.command("dor", channel="payments")
    view = {**bot.last_view(), "private_metadata": metadata}

    reply = bot.submit(view, {"work_item": "PROJ-1", "result": "pass"})

    assert reply.status == 400
    assert checks(bot.db) == []


def test_a_submission_for_a_team_that_no_longer_exists_is_refused_politely(bot):
    team = make_team(bot.db)
    bot.command("dor", channel="payments")
    view = bot.last_view()
    with bot.db.transaction() as session:
        session.delete(session.merge(team))

    reply = bot.submit(view, {"work_item": "PROJ-1", "result": "pass"})

    assert reply.json["response_action"] == "update"
    assert "no longer exists" in blocks_text(reply.json["view"])
    assert checks(bot.db) == []


def test_a_check_outside_any_team_is_refused_and_opens_nothing(bot, slack):
    bot.command("dor", channel="general")

    assert slack.calls_to("views.open") == []
    assert "No team is set up" in bot.responses()[-1]["text"]


# --- the quick forms ---------------------------------------------------------------------------------
def test_the_quick_pass_records_at_once_and_answers_with_the_running_pass_rate(bot, slack):
    make_team(bot.db)
    add_checks(bot.db, make_team_ref(bot), "dor", (utcnow() - timedelta(days=1), False, "other", None))
    before = utcnow()

    reply = bot.command("dor pass PROJ-123 15m", channel="payments", user="eve")

    assert reply.json["response_type"] == "ephemeral"
    assert "DoR passed* for PROJ-123 · 15 min" in reply.text
    assert "⚠️ *DoR pass rate*: 50 % · target > 90 %" in reply.text
    [_, check] = checks(bot.db)
    assert (check.passed, check.minutes, check.checked_by) == (True, 15, "UEVE")
    assert before <= check.checked_at <= utcnow()
    assert slack.calls_to("views.open") == []


def test_the_quick_fail_takes_the_reason_word(bot):
    make_team(bot.db)

    reply = bot.command("dod fail PROJ-9 docs 30m release notes missing", channel="payments")

    assert "DoD failed* for PROJ-9 — Documentation missing · 30 min" in reply.text
    [check] = checks(bot.db)
    assert (check.reason, check.note) == ("documentation", "release notes missing")


@pytest.mark.parametrize("text, answer", [
    ("dor fail PROJ-1", "Say why it failed: requirements, criteria, design or other"),
    ("dor later PROJ-1", "To record a DoR check"),
    ("dod help", "To record a DoD check"),
    ("dor pass PROJ-1 900m", "Minutes spent is a duration from 1 to 600 minutes"),
])
def test_a_quick_form_that_is_wrong_is_answered_with_what_to_type_and_stores_nothing(bot, text, answer):
    make_team(bot.db)

    reply = bot.command(text, channel="payments")

    assert reply.json["response_type"] == "ephemeral"
    assert answer in reply.json["text"]
    assert checks(bot.db) == []


@pytest.mark.parametrize("text, word", [("dor pass PAY-1 99999999999999m", "99999999999999m"),
                                        ("dor pass PAY-1 -5m", "-5m"), ("dod fail PAY-1 tests 0 flaky", "0"),
                                        ("dor pass PAY-1 15x", "15x")])
def test_a_quick_form_with_a_time_it_cannot_read_names_it_with_that_forms_usage_and_stores_nothing(bot, text, word):
    make_team(bot.db)

    reply = bot.command(text, channel="payments")

    assert reply.json["response_type"] == "ephemeral"
    assert f"`{word}` is not a time spent I can read" in reply.text
    assert text.split()[:2] == ["dor", "pass"] and "`/qms dor pass PROJ-123 15m`" in reply.text \
        or "`/qms dod fail PROJ-123 tests 15m`" in reply.text
    assert reply.text.count("\n") == 0 and checks(bot.db) == []


def test_a_bare_number_in_the_quick_form_is_minutes_as_in_the_modal(bot):
    make_team(bot.db)

    bot.command("dor pass PAY-1 15", channel="payments")
    bot.command("dor fail PAY-2 criteria 20 missing 2 edge cases", channel="payments")

    [first, second] = checks(bot.db)
    assert (first.minutes, first.note) == (15, None)
    assert (second.minutes, second.note) == (20, "missing 2 edge cases")


# --- /qms metrics ------------------------------------------------------------------------------------
def make_team_ref(bot):
    with bot.db.transaction() as session:
        return team_store.team_by_channel(session, "T0TEST", "CPAYMENTS")


def test_metrics_answers_with_the_last_weeks_figures_against_targets(bot):
    team, now = make_team(bot.db), utcnow()
    add_checks(bot.db, team, "dor", *[(now - timedelta(days=2), n < 3, None if n < 3 else "requirements", 10)
                                      for n in range(4)])
    add_gates(bot.db, team, "security", now - timedelta(days=1), runs=10, passed=10)
    add_gates(bot.db, team, "security", now - timedelta(days=9), runs=10, passed=8)

    reply = full_metrics(bot)

    assert reply.json["response_type"] == "ephemeral" and reply.json["replace_original"] is True
    assert "Quality metrics — Payments" in reply.text and "Last 7 days" in reply.text
    assert "⚠️ *DoR pass rate*: 75 % · target > 90 %" in reply.text
    assert "✅ *Security scans*: 100 % · target > 95 % · ↑ +20 pts vs 80 % (better)" in reply.text
    assert "• Incomplete requirements: 100 % (1)" in reply.text


@pytest.mark.parametrize("word, span", [("day", "Last 24 hours"), ("month", "Last 30 days"), ("WEEK", "Last 7 days")])
def test_metrics_takes_a_period(bot, word, span):
    team = make_team(bot.db)
    add_checks(bot.db, team, "dor", (utcnow() - timedelta(days=3), True, None, None))

    reply = full_metrics(bot, f"metrics {word}")

    assert span in reply.text
    assert ("✅ *DoR pass rate*: 100 %" in reply.text) == (word != "day")


def test_metrics_leads_with_what_needs_someone_today_in_at_most_12_lines_and_the_table_behind_a_button(bot):
    team = make_team(bot.db)
    a_fortnight(bot.db, team)
    now = datetime(2026, 3, 9, 9, tzinfo=UTC)
    add_checks(bot.db, team, "dor", *[(now - timedelta(days=2), n < 3, None if n < 3 else "requirements", 10)
                                      for n in range(4)])

    with freeze_time(now):
        reply = full_metrics(bot)

    short = reply.short.json
    lines = [line for line in blocks_text({"blocks": short["blocks"]}).splitlines() if line.strip()]
    assert len(lines) <= 12, lines
    assert short["text"].startswith("Quality metrics for Payments:") and "someone today" in short["text"]
    assert "*Needs someone today*" in reply.short.text and "Show all metrics" in reply.short.text
    assert "1 stalled review" in reply.short.text  # the figures line
    assert "⚠️ *DoR pass rate*: 75 %" not in reply.short.text  # the table is behind the button
    assert "⚠️ *DoR pass rate*: 75 %" in reply.text and "*Reviews*: 4 requested, 2 done" in reply.text
    assert len(reply.text.splitlines()) > 12


def test_metrics_for_an_unknown_period_says_which_ones_there_are(bot):
    make_team(bot.db)

    reply = bot.command("metrics fortnight", channel="payments")

    assert "`fortnight` is not a period I know" in reply.json["text"]


def test_metrics_of_a_team_without_data_says_so(bot):
    make_team(bot.db)

    reply = full_metrics(bot)

    assert "No checks, gate results or defects for *Payments* in this period yet" in reply.text


def test_metrics_show_review_time_and_quality_and_the_teams_reviews_incidents_and_risks(bot):
    team = make_team(bot.db)
    a_fortnight(bot.db, team)

    with freeze_time(datetime(2026, 3, 9, 9, tzinfo=UTC)):  # the last 7 days: since Monday 2 March, 09:00
        reply = full_metrics(bot)

    text = reply.text.splitlines()
    # Done in the 7 days: CR-002 in 4 h and CR-003 in 9 h, rated 9, 7 and 8; the 7 days before: CR-001, 3 h, 10 and 9.
    assert "⚠️ *Review time*: 6.5 h · target < 6 h · ↑ +3.5 h vs 3 h (worse)" in text
    assert "⚠️ *Review quality*: 8.0/10 · target > 8.0/10 · ↓ −1.5/10 vs 9.5/10 (worse)" in text
    assert "No checks, gate results or defects for *Payments* in this period yet." in text
    assert ("*Reviews*: 4 requested, 2 done · 6.5 h mean, 6.5 h median (working hours) · quality 8.0/10 · "
            "1 stalled now ⚠️") in text
    # INC-001 was declared at 08:00 on Monday, before the 7 days began; it was resolved inside them.
    assert ("*Incidents*: 2 open — Level 2 · Management involvement: 1 · Level 1 · Team resolution: 1 · 3 declared, "
            "2 resolved, 2 escalated · 15.8 h mean time to resolve") in text
    assert "*Risks*: 3 open (1 critical, 2 high) · 3 opened, 1 closed in the last 7 days" in text


# --- /qms setup token ---------------------------------------------------------------------------------
def test_a_manager_gets_a_new_ci_token_once_in_an_ephemeral_answer(bot, slack):
    make_team(bot.db)

    reply = bot.command("setup token", channel="payments", user="bob")  # bob is an engineering manager

    assert reply.json["response_type"] == "ephemeral"
    token = next(word for word in reply.text.replace("`", " ").split() if word.startswith("qms_") and len(word) > 20)
    assert "shown only this once" in reply.text
    assert f"Authorization: Bearer {token}" in reply.text
    with bot.db.transaction() as session:
        stored = session.exec(select(ApiToken)).one()
    assert token.startswith(stored.prefix) and stored.created_by == "UBOB"
    assert token not in json.dumps([c.args for c in slack.calls])  # never sent anywhere but in the answer


def test_someone_who_is_neither_lead_manager_nor_admin_gets_no_token(bot):
    make_team(bot.db)

    reply = bot.command("setup token", channel="payments", user="dave")

    assert "Only the team leads and engineering managers of Payments" in reply.json["text"]
    assert count_rows(bot.db, ApiToken) == 0


@pytest.mark.parametrize("text, may", [("setup token", "create a CI token for the team"),
                                       ("setup token list", "see the team's CI tokens"),
                                       ("setup token revoke all", "revoke the team's CI tokens")])
def test_someone_else_is_told_what_they_may_not_do_with_the_tokens_in_the_words_of_what_they_asked(bot, text, may):
    make_team(bot.db)
    bot.command("setup token", channel="payments")  # alice, a lead: one live token

    reply = bot.command(text, channel="payments", user="dave")

    assert reply.json["text"] == ("Only the team leads and engineering managers of Payments, or a workspace admin, "
                                  f"may {may}.")
    assert "qms_" not in reply.text and count_rows(bot.db, ApiToken) == 1


def test_a_manager_may_list_the_tokens(bot):
    make_team(bot.db)
    bot.command("setup token", channel="payments", user="alice")

    reply = bot.command("setup token list", channel="payments", user="bob")  # an engineering manager

    assert "*Live CI tokens of Payments*" in reply.text and "created by <@UALICE>" in reply.text


def test_tokens_can_be_listed_and_revoked_by_their_prefix(bot):
    make_team(bot.db)
    created = bot.command("setup token", channel="payments").text
    prefix = next(w for w in created.replace("`", " ").split() if w.startswith("qms_") and len(w) == 12)

    listed = bot.command("setup token list", channel="payments")
    revoked = bot.command(f"setup token revoke {prefix}", channel="payments")
    after = bot.command("setup token list", channel="payments")

    assert f"`{prefix}…` created by <@UALICE>" in listed.text and "never used" in listed.text
    assert f"Revoked `{prefix}…`" in revoked.text
    assert "has no live CI tokens" in after.text


def test_revoking_a_prefix_that_matches_nothing_says_so(bot):
    make_team(bot.db)

    reply = bot.command("setup token revoke qms_nope1234", channel="payments")

    assert "No live token of this team starts with `qms_nope1234`" in reply.json["text"]


def test_setup_token_with_an_unknown_word_explains_itself(bot):
    make_team(bot.db)

    reply = bot.command("setup token rotate", channel="payments")

    assert "`/qms setup token` creates a token" in reply.json["text"]
    assert count_rows(bot.db, ApiToken) == 0


# --- /qms setup digest -----------------------------------------------------------------------------------
def test_setup_digest_shows_when_and_where_the_digests_go(bot):
    make_team(bot.db, timezone="Europe/Berlin", digest="digest")

    with freeze_time(datetime(2026, 3, 10, 12, tzinfo=UTC)):  # Tuesday
        reply = bot.command("setup digest", channel="payments", user="dave")

    assert "go to <#CDIGEST> at *09:00* (Europe/Berlin)" in reply.text
    assert "Next daily digest <!date^1773216000^" in reply.text  # Wednesday 11 March, 08:00 UTC
    assert "next weekly digest <!date^1773648000^" in reply.text  # Monday 16 March, 08:00 UTC


def test_a_digest_time_set_to_its_own_value_is_not_audited_as_a_change(bot):
    make_team(bot.db)

    bot.command("setup digest 8:30", channel="payments", user="bob")
    bot.command("setup digest 08:30", channel="payments", user="bob")
    bot.command("setup digest 09:00", channel="payments", user="bob")

    with bot.db.transaction() as session:
        changes = [(e.before["digest_time"], e.after["digest_time"]) for e in session.exec(
            select(AuditEvent).where(AuditEvent.action == "digest_time_changed").order_by(AuditEvent.id))]
    assert changes == [("09:00", "08:30"), ("08:30", "09:00")]


def test_a_manager_changes_the_digest_time_and_it_is_audited(bot):
    make_team(bot.db)

    reply = bot.command("setup digest 8:30", channel="payments", user="bob")

    assert "at *08:30*" in reply.text
    with bot.db.transaction() as session:
        assert team_store.team_by_channel(session, "T0TEST", "CPAYMENTS").digest_time == "08:30"
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "digest_time_changed")).one()
    assert (event.before, event.after, event.actor_id) == ({"digest_time": "09:00"}, {"digest_time": "08:30"}, "UBOB")


@pytest.mark.parametrize("user, text, answer", [("dave", "setup digest 08:30", "Only the team leads"),
                                                ("alice", "setup digest half past eight", "is not a time of day"),
                                                ("alice", "setup digest 1٥:3٠", "is not a time of day")])
def test_a_digest_time_change_that_is_not_allowed_or_not_a_time_changes_nothing(bot, user, text, answer):
    make_team(bot.db)

    reply = bot.command(text, channel="payments", user=user)

    assert answer in reply.json["text"]
    with bot.db.transaction() as session:
        assert team_store.team_by_channel(session, "T0TEST", "CPAYMENTS").digest_time == "09:00"


# --- what people typed is shown, never obeyed ------------------------------------------------------------
HOSTILE = "Ops <!channel> & <https://evil.example|Payments>"


def test_a_team_name_and_a_work_item_with_mrkdwn_controls_reach_slack_escaped(bot):
    make_team(bot.db, HOSTILE)

    saved = bot.command("dor pass R&D-12<b> 5m", channel="payments")
    report = bot.command("metrics", channel="payments")
    table = full_metrics(bot)
    tokens = bot.command("setup token list", channel="payments")
    schedule = bot.command("setup digest", channel="payments")

    escaped = "Ops &lt;!channel&gt; &amp; &lt;https://evil.example|Payments&gt;"
    assert saved.json["text"] == "Recorded: DoR passed for R&amp;D-12&lt;b&gt;"
    assert report.json["text"].startswith(f"Quality metrics for {escaped}:")
    assert tokens.json["text"].startswith(f"{escaped} has 0 live CI token(s)")
    assert schedule.json["text"].startswith(f"{escaped}'s digests go out at 09:00")
    assert table.json["text"].startswith(f"Quality metrics for {escaped}:")
    for reply in (saved, report, tokens, schedule, table):
        mrkdwn = [reply.json["text"]] + [b["text"]["text"] for b in reply.json["blocks"] if b["type"] == "section"]
        assert not any("<!" in text or "<https://evil" in text for text in mrkdwn)


def test_metrics_asked_again_count_what_was_committed_in_between(bot):
    team, now = make_team(bot.db), utcnow()
    add_gates(bot.db, team, "security", now - timedelta(days=1), runs=10, passed=10)
    first = bot.command("metrics", channel="payments")
    assert first.text == bot.command("metrics", channel="payments").text  # nothing changed: the same answer

    add_gates(bot.db, team, "security", now - timedelta(days=1), runs=10, passed=0)
    reply = full_metrics(bot)

    assert reply.short.text != first.text  # the short answer was computed again, not the kept one
    assert "*Security scans*: 50 %" in reply.text
