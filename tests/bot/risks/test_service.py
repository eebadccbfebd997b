"""Risk register rules as plain Python: IDs, levels, bands, the quick add's grammar, validation,
and the changes (log, edit, re-score, tick, close, bands, review reminders) at a given `now`."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import risks
from bot.core.errors import Invalid, Refusal
from bot.risks import (
    RiskForm,
    action_lines,
    band_counts,
    band_of,
    band_ranges,
    checkbox_text,
    label,
    level,
    parse_bands,
    parse_label,
    parse_quick_add,
    validate,
)
from storage import outbox
from storage import risks as store
from tests.conftest import both_databases
from tests.harness.teams import make_team

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # inside Payments' working hours (UTC, 09:00–17:00)
TODAY = MONDAY.date()


# --- names, levels, bands ----------------------------------------------------------------------------
@pytest.mark.parametrize("number, text", [(1, "QR-001"), (7, "QR-007"), (999, "QR-999"), (1000, "QR-1000")])
def test_risk_ids_are_qr_and_three_digits_at_least(number, text):
    assert label(number) == text
    assert parse_label(text) == number


@pytest.mark.parametrize("text, number", [("qr-7", 7), (" QR007 ", 7), ("QR-0012", 12), ("QR-", None),
                                          ("QR-7x", None), ("R-7", None), ("", None), ("7", None)])
def test_a_risk_id_is_read_loosely_but_only_as_an_id(text, number):
    assert parse_label(text) == number


@pytest.mark.parametrize("score, band", [(1, "low"), (4, "low"), (5, "medium"), (9, "medium"), (10, "high"),
                                         (12, "high"), (15, "high"), (16, "critical"), (25, "critical")])
def test_the_guides_bands_make_3_by_4_high(score, band):
    assert band_of(score) == band


def test_a_teams_own_bands_move_the_thresholds():
    bands = {"medium": 3, "high": 6, "critical": 12}

    assert [band_of(s, bands) for s in (2, 3, 6, 11, 12)] == ["low", "medium", "high", "high", "critical"]
    assert band_ranges(bands) == [("low", 1, 2), ("medium", 3, 5), ("high", 6, 11), ("critical", 12, 25)]
    assert band_counts({2: 1, 4: 2, 12: 3, 25: 1}, bands) == {"low": 1, "medium": 2, "high": 0, "critical": 4}


@given(st.one_of(st.text(max_size=5), st.integers(), st.none(), st.floats(allow_nan=True)))
def test_only_the_offered_levels_1_to_5_are_levels(value):
    assert level(value) == (int(value) if str(value).strip() in {"1", "2", "3", "4", "5"} else None)


@pytest.mark.parametrize("values, wrong", [
    ({"medium": "5", "high": "10", "critical": "16"}, set()),
    ({"medium": "2", "high": "3", "critical": "25"}, set()),
    ({"medium": "1", "high": "10", "critical": "16"}, {"medium"}),
    ({"medium": "5", "high": "5", "critical": "16"}, {"high"}),
    ({"medium": "5", "high": "17", "critical": "16"}, {"critical"}),
    ({"medium": "-5", "high": "x", "critical": ""}, {"medium", "high", "critical"}),
    ({"medium": "²", "high": "¹⁰", "critical": "٢٠"}, {"medium", "high", "critical"}),  # isdigit, but not 0–9
    ({"medium": "5", "high": "10", "critical": "0" * 40 + "16"}, {"critical"}),
])
def test_band_thresholds_are_whole_scores_from_2_to_25_in_order(values, wrong):
    if not wrong:
        assert parse_bands(values) == {name: int(v) for name, v in values.items()}
        return
    with pytest.raises(Invalid) as invalid:
        parse_bands(values)
    assert set(invalid.value.problems) == wrong


# --- forms ---------------------------------------------------------------------------------------------
def test_mitigation_actions_are_one_per_line_without_bullets_or_checkbox_marks():
    typed = "- [ ] Cross-train additional reviewers\n\n* Implement reviewer load balancing\n• [x] Optimize review process\n   "

    assert action_lines(typed) == ["Cross-train additional reviewers", "Implement reviewer load balancing",
                                   "Optimize review process"]


@given(st.text(min_size=0, max_size=150))
def test_an_action_is_split_for_a_checkbox_at_75_characters_losing_only_whitespace(text):
    head, tail = checkbox_text(text)

    assert len(head) <= 75
    assert "".join(head.split()) + "".join((tail or "").split()) == "".join(text.split())
    assert tail is None or len(text) > 75


def test_a_long_action_breaks_at_a_word():
    text = "Cross-train two additional reviewers on the payment service's database migrations before the freeze"

    assert checkbox_text(text) == ("Cross-train two additional reviewers on the payment service's database",
                                   "migrations before the freeze")


def form(**overrides):
    values = dict(title="Login outage risk", probability="3", impact="4", owner_id="UBOB", category="technical")
    return RiskForm(**{**values, **overrides})


def problems_of(candidate, **kwargs):
    try:
        validate(candidate, **{"owner_is_person": True, "today": TODAY, **kwargs})
    except Invalid as invalid:
        return {name: p.key for name, p in invalid.problems.items()}
    return {}


def test_a_complete_form_is_valid():
    assert problems_of(form()) == {}


@pytest.mark.parametrize("overrides, field, key", [
    ({"title": ""}, "title", "risks.title_required"),
    ({"title": "x" * 151}, "title", "risks.title_too_long"),
    ({"probability": "6"}, "probability", "risks.bad_level"),
    ({"impact": 4.5}, "impact", "risks.bad_level"),
    ({"category": "cosmic"}, "category", "risks.unknown_category"),
    ({"owner_id": None}, "owner", "risks.owner_required"),
    ({"actions": ["x" * 151]}, "actions", "risks.action_too_long"),
    ({"actions": ["a"] * 21}, "actions", "risks.too_many_actions"),
    ({"review_by": TODAY - timedelta(days=1)}, "review_by", "risks.review_in_past"),
])
def test_each_wrong_field_is_named_with_its_phrase(overrides, field, key):
    assert problems_of(form(**overrides)) == {field: key}


def test_a_bot_owner_is_refused_and_a_past_review_date_may_stay_when_editing():
    assert problems_of(form(), owner_is_person=False) == {"owner": "risks.owner_not_a_person"}
    past = TODAY - timedelta(days=3)
    assert problems_of(form(review_by=past), previous_review_by=past) == {}


@pytest.mark.parametrize("text, expected", [
    ('"Login outage risk" p3 i4 <@UBOB|bob>', ("Login outage risk", "3", "4", "UBOB", "technical")),
    ('“Login outage risk” i4 p3', ("Login outage risk", "3", "4", "UME", "technical")),
    ("'Vendor lock-in' p2 i3 organizational <@W123>", ("Vendor lock-in", "2", "3", "W123", "organizational")),
    ("Flaky deploys P4 I2 process", ("Flaky deploys", "4", "2", "UME", "process")),
    ('"Out of range" p9 i0', ("Out of range", "9", "0", "UME", "technical")),  # validation refuses it later
    ('"" p3 i4', ("", "3", "4", "UME", "technical")),
])
def test_the_quick_add_reads_title_levels_owner_and_category(text, expected):
    parsed = parse_quick_add(text, default_owner="UME")

    assert (parsed.title, parsed.probability, parsed.impact, parsed.owner_id, parsed.category) == expected


@pytest.mark.parametrize("text", ['"Login outage risk" p3', '"Unclosed p3 i4', '"A" p3 i4 p2', '"A" p3 i4 @bob @zed',
                                  '"A" p3 i4 technical process', "list everything", "", "p i"])
def test_a_quick_add_that_is_not_shaped_like_one_is_not_read(text):
    assert parse_quick_add(text, default_owner="UME") is None


@pytest.mark.parametrize("text, title", [('"Login outage risk" p3 i4 @zed', "Login outage risk"),
                                         ("Flaky deploys @zed p4 i2", "Flaky deploys")])
def test_an_at_name_slack_did_not_make_a_mention_is_an_unknown_owner(text, title):
    parsed = parse_quick_add(text, default_owner="UME")

    assert (parsed.title, parsed.owner_id, parsed.owner_typed) == (title, None, "@zed")
    assert problems_of(parsed) == {"owner": "risks.unknown_owner"}


@given(st.text(max_size=200))
def test_the_quick_add_never_fails_on_any_text(text):
    parsed = parse_quick_add(text, default_owner="UME")

    assert parsed is None or (parsed.probability is not None and parsed.impact is not None)


# --- changes, at a given now ---------------------------------------------------------------------------------
@pytest.fixture
def team(database):
    return make_team(database)  # Payments: alice leads, bob manages, carol is an executive; UTC, Mon–Fri 9–17


def log(database, team, now=MONDAY, workspace_team=None, **overrides):
    with database.transaction() as session:
        return risks.log_risk(session, session.merge(workspace_team or team), form(**overrides), actor_id="UALICE",
                              now=now).risk


def change(database, risk_id, fn, *args, **kwargs):
    with database.transaction() as session:
        risk, team_row = risks.open_risk(session, "T0TEST", risk_id)
        return fn(session, risk, team_row, *args, **kwargs)


def queued(database, prefix="risk:"):
    with database.transaction() as session:
        return [(m.key, m.method) for m in outbox.messages(session, "T0TEST", key_prefix=prefix)]


def test_logging_queues_the_card_under_its_ref_and_a_dm_to_the_owner(database, team):
    risk = log(database, team)

    assert queued(database) == [(f"risk:{risk.id}:card", "chat.postMessage"),
                                (f"risk:{risk.id}:owner:UBOB:v1", "chat.postMessage")]
    with database.transaction() as session:
        card = outbox.messages(session, "T0TEST", key_prefix=f"risk:{risk.id}:card")[0]
    assert (card.ref, card.payload["channel"]) == (f"risk:{risk.id}:card", "CPAYMENTS")


def test_each_workspace_numbers_its_own_risks_from_qr_001(database, team):
    elsewhere = make_team(database, "Payments", channel="payments", workspace_id="T0OTHER")

    ours = [log(database, team).number for _ in range(2)]
    theirs = log(database, team, workspace_team=elsewhere).number

    assert (ours, theirs) == ([1, 2], 1)


@both_databases
def test_numbers_stay_unique_when_many_log_at_the_same_moment(database, team):
    start = threading.Barrier(6)
    numbers, errors = [], []

    def log_one():
        start.wait()
        try:
            numbers.append(log(database, team).number)
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    threads = [threading.Thread(target=log_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(numbers) == [1, 2, 3, 4, 5, 6]


def test_every_change_queues_one_update_of_the_card_keyed_by_version(database, team):
    risk = log(database, team, actions=["Cross-train additional reviewers", "Implement reviewer load balancing"])
    with database.transaction() as session:
        first = store.actions_of(session, risk)[0]

    change(database, risk.id, risks.tick, {first.id: True}, actor_id="UCAROL", now=MONDAY)
    change(database, risk.id, risks.rescore, "4", "4", "Peak season", actor_id="UBOB", now=MONDAY)

    updates = [(k, m) for k, m in queued(database) if m == "chat.update"]
    assert updates == [(f"risk:{risk.id}:card:v2", "chat.update"), (f"risk:{risk.id}:card:v3", "chat.update")]
    assert (f"risk:{risk.id}:note:v3", "chat.postMessage") in queued(database)


def test_editing_keeps_the_ticks_of_unchanged_actions_and_drops_removed_ones(database, team):
    risk = log(database, team, actions=["Keep me", "Drop me"])
    with database.transaction() as session:
        keep = store.actions_of(session, risk)[0]
    change(database, risk.id, risks.tick, {keep.id: True}, actor_id="UBOB", now=MONDAY)

    edited = change(database, risk.id, risks.edit_risk, form(actions=["New first", "Keep me"]), actor_id="UBOB",
                    now=MONDAY)

    with database.transaction() as session:
        items = [(a.text, a.done) for a in store.actions_of(session, store.risk_by_number(session, "T0TEST", 1))]
    assert edited is True
    assert items == [("New first", False), ("Keep me", True)]


def test_an_edit_that_changes_nothing_is_not_audited_or_sent(database, team):
    risk = log(database, team)
    before = queued(database)

    assert change(database, risk.id, risks.edit_risk, form(), actor_id="UBOB", now=MONDAY) is False
    assert queued(database) == before


def test_closing_is_refused_to_whoever_is_not_owner_lead_or_manager(database, team):
    risk = log(database, team)

    with pytest.raises(Refusal) as refused:
        change(database, risk.id, risks.close_risk, "accepted", "ok", actor_id="UCAROL", now=MONDAY)
    change(database, risk.id, risks.close_risk, "accepted", "Budget approved", actor_id="UIVY", now=MONDAY,
           workspace_admin=True)

    assert refused.value.phrase.params["also"] == "the owner of QR-001"
    with pytest.raises(Refusal) as again:
        change(database, risk.id, risks.tick, {}, actor_id="UBOB", now=MONDAY)
    assert again.value.phrase.key == "risks.already_closed"


def test_changing_bands_updates_every_open_card_and_is_a_no_op_when_unchanged(database, team):
    open_one, closing = log(database, team), log(database, team)
    change(database, closing.id, risks.close_risk, "avoided", "Feature removed", actor_id="UBOB", now=MONDAY)

    with database.transaction() as session:
        payments = session.merge(team)
        bands, cards = risks.set_bands(session, payments, {"medium": 4, "high": 8, "critical": 12},
                                       actor_id="UBOB", now=MONDAY)
        _, none = risks.set_bands(session, payments, {"medium": 4, "high": 8, "critical": 12}, actor_id="UBOB",
                                  now=MONDAY)
    with pytest.raises(Refusal), database.transaction() as session:
        risks.set_bands(session, session.merge(team), {"medium": 5, "high": 10, "critical": 16}, actor_id="UCAROL",
                        now=MONDAY)

    assert (bands, cards, none) == ({"medium": 4, "high": 8, "critical": 12}, 1, 0)
    assert (f"risk:{open_one.id}:card:v2", "chat.update") in queued(database)


# --- review reminders ---------------------------------------------------------------------------------------
def reviewed_risk(database, team, review_by):
    return log(database, team, now=MONDAY, review_by=review_by)


def reminders(database):
    return [k for k, _ in queued(database) if ":review:" in k]


def test_the_owner_is_reminded_at_the_first_working_moment_of_the_review_date(database, team):
    risk = reviewed_risk(database, team, date(2026, 3, 7))  # a Saturday: the team's next working moment is Monday

    assert risks.remind_due_reviews(database, now=datetime(2026, 3, 7, 12, tzinfo=UTC)) == 0
    assert risks.remind_due_reviews(database, now=datetime(2026, 3, 9, 8, 59, tzinfo=UTC)) == 0
    assert risks.remind_due_reviews(database, now=datetime(2026, 3, 9, 9, 0, tzinfo=UTC)) == 1
    assert risks.remind_due_reviews(database, now=datetime(2026, 3, 9, 9, 10, tzinfo=UTC)) == 0

    assert reminders(database) == [f"risk:{risk.id}:review:2026-03-07"]
    with database.transaction() as session:
        dm = outbox.messages(session, "T0TEST", key_prefix=f"risk:{risk.id}:review:")[0]
    assert dm.payload["channel"] == "UBOB" and "Time to review" in dm.payload["text"]


def test_a_clock_that_was_down_catches_up_once(database, team):
    risk = reviewed_risk(database, team, date(2026, 3, 3))

    assert risks.remind_due_reviews(database, now=datetime(2026, 3, 20, 10, tzinfo=UTC)) == 1
    assert risks.remind_due_reviews(database, now=datetime(2026, 3, 21, 10, tzinfo=UTC)) == 0
    assert reminders(database) == [f"risk:{risk.id}:review:2026-03-03"]


def test_a_new_review_date_gets_its_own_reminder_and_closed_risks_none(database, team):
    risk = reviewed_risk(database, team, date(2026, 3, 3))
    risks.remind_due_reviews(database, now=datetime(2026, 3, 3, 10, tzinfo=UTC))
    change(database, risk.id, risks.rescore, "2", "2", "Better", actor_id="UBOB", now=MONDAY,
           review_by=date(2026, 4, 1))
    closed = reviewed_risk(database, team, date(2026, 3, 3))
    change(database, closed.id, risks.close_risk, "mitigated", "Done", actor_id="UBOB", now=MONDAY)

    risks.remind_due_reviews(database, now=datetime(2026, 4, 1, 10, tzinfo=UTC))

    assert reminders(database) == [f"risk:{risk.id}:review:2026-03-03", f"risk:{risk.id}:review:2026-04-01"]


@both_databases
def test_two_clocks_sweeping_at_once_remind_once(database, team):
    reviewed_risk(database, team, date(2026, 3, 3))
    start = threading.Barrier(2)
    counts = []

    def sweep():
        start.wait()
        counts.append(risks.remind_due_reviews(database, now=datetime(2026, 3, 3, 10, tzinfo=UTC)))

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(counts) == [0, 1]
    assert len(reminders(database)) == 1


def test_the_review_date_follows_the_teams_time_zone(database):
    tokyo = make_team(database, "Tokyo", channel="platform", timezone="Asia/Tokyo")
    log(database, tokyo, now=MONDAY, workspace_team=tokyo, review_by=date(2026, 3, 3))

    # 09:00 on 3 March in Tokyo is 00:00 UTC that day.
    assert risks.remind_due_reviews(database, now=datetime(2026, 3, 2, 23, 59, tzinfo=UTC)) == 0
    assert risks.remind_due_reviews(database, now=datetime(2026, 3, 3, 0, 0, tzinfo=UTC)) == 1


def test_a_rescore_keeps_the_review_date_unless_given_one_and_none_clears_it(database, team):
    risk = log(database, team, review_by=date(2026, 4, 1))

    change(database, risk.id, risks.rescore, "2", "2", None, actor_id="UBOB", now=MONDAY)
    kept = change(database, risk.id, lambda session, row, _: row.review_by)
    change(database, risk.id, risks.rescore, "2", "3", None, actor_id="UBOB", now=MONDAY, review_by=None)
    cleared = change(database, risk.id, lambda session, row, _: row.review_by)

    assert (kept, cleared) == (date(2026, 4, 1), None)


@both_databases
@pytest.mark.parametrize("risk_id", ["99999999999999999999", "-1", "1 OR 1=1", "", None, "²", "1²"])
def test_a_risk_id_that_is_not_one_of_ours_is_answered_as_gone(database, team, risk_id):
    log(database, team)

    with pytest.raises(Refusal) as refused, database.transaction() as session:
        risks.open_risk(session, "T0TEST", risk_id)

    assert refused.value.phrase.key == "risks.gone"
