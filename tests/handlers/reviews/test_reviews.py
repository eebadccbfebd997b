"""/qms review: filing a request, fair assignment, Accept / Decline / Done in the reviewers' DMs,
the author's rating, the card in the channel, list and stats — through signed requests over HTTP."""

from datetime import UTC, datetime

import pytest
from freezegun import freeze_time
from sqlmodel import select

from bot import teams
from storage import outbox
from storage.audit import AuditEvent
from storage.reviews import ReviewAssignment, ReviewRequest
from tests.harness.bot import blocks_text
from tests.harness.databases import count_rows
from tests.harness.teams import add_reviewer, make_team

PR = "https://github.com/acme/payments/pull/42"
MONDAY_10 = "2026-03-02 10:00:00"  # a Monday, inside 09:00–17:00 UTC working hours


# --- helpers shared with test_reviews_clock.py ----------------------------------------------------
def matrix(db, **overrides):
    """Payments (team lead alice, engineering manager bob) and a Backend/API matrix: eve gold,
    frank silver, ivy bronze; henry gold in Database/Performance."""
    team = make_team(db, **overrides)
    add_reviewer(db, team, "eve", "gold", ["Backend/API"])
    add_reviewer(db, team, "frank", "silver", ["Backend/API"])
    add_reviewer(db, team, "ivy", "bronze", ["Backend/API"])
    add_reviewer(db, team, "henry", "gold", ["Database/Performance"])
    return team


def buttons(message):
    """{action_id: value} of every button in a message."""
    found = {}

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "button" and "action_id" in node:
                found[node["action_id"]] = node.get("value", "")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("blocks", []))
    return found


def dms(slack, person):
    return slack.posted("U" + person.upper())


def press_in_dm(bot, slack, person, action_id, *, user=None, index=-1):
    """Press a button of the `index`th DM `person` received that has one."""
    message = [m for m in dms(slack, person) if action_id in buttons(m)][index]
    return bot.press(action_id, value=buttons(message)[action_id], user=user or person, message=message,
                     channel=message["channel"])


def card(slack):
    cards = [m for m in slack.posted("CPAYMENTS") if "review requested" in m["text"]]
    assert len(cards) == 1, "one card per request"
    return blocks_text(cards[0])


def requests(db):
    with db.transaction() as session:
        return list(session.exec(select(ReviewRequest).order_by(ReviewRequest.id)))


def assignments(db):
    with db.transaction() as session:
        return list(session.exec(select(ReviewAssignment).order_by(ReviewAssignment.id)))


def file(bot, text=f"{PR} Backend/API", user="dave", channel="payments"):
    return bot.command(f"review {text}", user=user, channel=channel)


def refusal_text(bot):
    return bot.responses()[-1]["text"]


def nothing_changed_since(db, before):
    return (count_rows(db, ReviewRequest), count_rows(db, ReviewAssignment), count_rows(db, AuditEvent),
            count_rows(db, outbox.OutboxMessage)) == before


def snapshot(db):
    return (count_rows(db, ReviewRequest), count_rows(db, ReviewAssignment), count_rows(db, AuditEvent),
            count_rows(db, outbox.OutboxMessage))


# --- filing ----------------------------------------------------------------------------------------
def test_a_request_with_a_link_and_a_specialization_is_filed_assigned_and_posted(bot, slack):
    matrix(bot.db)

    reply = file(bot, f"<{PR}> backend L")

    assert reply.status == 200 and reply.json["response_type"] == "ephemeral"
    assert "CR-001" in reply.text and "<@UEVE> (Gold)" in reply.text and "<@UFRANK> (Silver)" in reply.text
    [request] = requests(bot.db)
    assert (request.url, request.specialization, request.size, request.status) == (PR, "Backend/API", "L", "open")
    assert "<@UEVE> (Gold) — waiting for Accept" in card(slack)
    for person in ("eve", "frank"):
        [dm] = dms(slack, person)
        assert set(buttons(dm)) == {"review_accept", "review_decline", "review_done"}
        assert PR in blocks_text(dm)
    with bot.db.transaction() as session:
        actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.entity_type == "review"))]
    assert actions == ["requested", "assigned", "assigned"]


def test_review_without_arguments_opens_the_form_and_its_submission_files_the_request(bot, slack):
    matrix(bot.db)

    bot.command("review", user="dave", channel="payments")
    view = bot.last_view()
    labels = [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
    reply = bot.submit(view, {"link": PR, "summary": "Retry on 502", "specialization": "Backend/API", "size": "S",
                              "needed_by": None}, user="dave")

    assert labels == ["Link", "What changed", "Specialization", "Size", "Needed by"]
    assert reply.status == 200 and reply.body == ""
    answer = slack.calls_to("chat.postEphemeral")[-1].args
    assert answer["user"] == "UDAVE" and "CR-001" in str(answer["blocks"])
    assert requests(bot.db)[0].summary == "Retry on 502"
    assert "Retry on 502" in card(slack)


def test_a_link_without_a_specialization_opens_the_form_with_the_link_filled_in(bot):
    matrix(bot.db)

    bot.command(f"review <{PR}>", user="dave", channel="payments")

    link = next(b for b in bot.last_view()["blocks"] if b.get("block_id") == "link")
    assert link["element"]["initial_value"] == PR
    assert requests(bot.db) == []


@pytest.mark.parametrize("text, says", [
    ("www-example Backend/API", "is neither a link, a request such as `CR-007`, nor one of"),
    ("ftp://files.example.com/patch Backend/API", "is not a link"),
    ("https:/broken Backend/API", "is not a link"),
    ("<http://localhostx> Backend/API", "is not a link"),
])
def test_a_link_that_is_not_a_url_gets_a_clear_answer_and_nothing_is_stored(bot, text, says):
    matrix(bot.db)
    before = snapshot(bot.db)

    reply = file(bot, text)

    assert says in reply.json["text"]
    assert nothing_changed_since(bot.db, before)


def test_a_link_with_angle_brackets_is_refused_typed_or_in_the_form_and_nothing_is_stored(bot):
    matrix(bot.db)
    before = snapshot(bot.db)

    typed = file(bot, "https://x.io/pr/4?&lt;!channel&gt; backend")  # as Slack sends a typed `<!channel>`
    bot.command("review", user="dave", channel="payments")
    formed = bot.submit(bot.last_view(), {"link": "https://x.io/pr/4?<!channel>", "specialization": "Backend/API",
                                          "size": "M"}, user="dave")

    assert "is not a link" in typed.json["text"] and "&lt;!channel&gt;" in typed.json["text"]
    assert "<!channel>" not in typed.body
    assert formed.json["response_action"] == "errors" and "is not a link" in formed.json["errors"]["link"]
    assert nothing_changed_since(bot.db, before)


def test_user_text_in_the_fallback_text_of_review_messages_is_escaped(bot, slack):
    make_team(bot.db, name="R&D")
    file(bot, "https://x.io/pr/4?a=1&amp;b=2 backend")  # nobody in the matrix: the team lead is told

    [request] = requests(bot.db)
    posted = next(m for m in slack.posted("CPAYMENTS") if "review requested" in m["text"])
    assert request.url == "https://x.io/pr/4?a=1&b=2"
    assert posted["text"].endswith(": https://x.io/pr/4?a=1&amp;b=2")
    assert dms(slack, "alice")[-1]["text"] == "CR-001 in R&amp;D has no primary reviewer yet"


def test_an_unknown_specialization_is_answered_with_the_teams_own_and_nothing_is_stored(bot):
    matrix(bot.db)
    before = snapshot(bot.db)

    reply = file(bot, f"{PR} Quantum Computing")

    assert '"Quantum Computing" is not one of this team\'s specializations' in reply.json["text"]
    assert "Backend/API" in reply.json["text"]
    assert nothing_changed_since(bot.db, before)


@pytest.mark.parametrize("typed, blamed", [
    ("backend XL", "`XL` is not a size: a review is S, M or L, e.g. `/qms review &lt;link&gt; backend L`"),
    ("backend huge", "`huge` is not a size"),
    ("backnd L", '"backnd" is not one of this team\'s specializations'),
])
def test_the_quick_form_names_the_word_that_is_wrong(bot, typed, blamed):
    matrix(bot.db)
    before = snapshot(bot.db)

    reply = file(bot, f"{PR} {typed}")

    assert blamed in reply.json["text"]
    assert "specializations" not in reply.json["text"] or "backnd" in typed
    assert nothing_changed_since(bot.db, before)


def test_invalid_form_fields_get_inline_errors_and_nothing_is_stored(bot):
    matrix(bot.db)
    bot.command("review", user="dave", channel="payments")
    view = bot.last_view()
    before = snapshot(bot.db)

    reply = bot.submit(view, {"link": "see the PR", "summary": None, "specialization": "Quantum", "size": "XL",
                              "needed_by": "2020-01-01"}, user="dave")

    assert reply.json["response_action"] == "errors"
    assert set(reply.json["errors"]) == {"link", "specialization", "size", "needed_by"}
    assert "is not a link" in reply.json["errors"]["link"]
    assert nothing_changed_since(bot.db, before)


def test_a_forged_date_or_metadata_is_a_bad_request_not_a_crash(bot):
    matrix(bot.db)
    bot.command("review", user="dave", channel="payments")
    view = bot.last_view()

    bad_date = bot.submit(view, {"link": PR, "specialization": "Backend/API", "size": "M", "needed_by": "soon"})
    no_team = bot.submit({**view, "private_metadata": "{}"}, {"link": PR, "specialization": "Backend/API"})
    forged = [bot.submit({**view, "private_metadata": metadata}, {"link": PR, "specialization": "Backend/API"})
              for metadata in ('{"team_id": 99999999999999999999}', '{"team_id": true}', '{"team_id": -1}',
                               '{"team_id": 1, "channel_id": {"x": 1}}')]

    assert (bad_date.status, no_team.status) == (400, 400)
    assert [reply.status for reply in forged] == [400] * 4
    assert requests(bot.db) == []


def test_a_decline_form_with_forged_metadata_is_a_bad_request(bot, slack):
    matrix(bot.db)
    file(bot)
    press_in_dm(bot, slack, "eve", "review_decline")
    form = bot.last_view()
    before = snapshot(bot.db)

    replies = [bot.submit({**form, "private_metadata": metadata}, {"reason": "Busy"}, user="eve")
               for metadata in ('{"assignment_id": 99999999999999999999}', '{"assignment_id": true}', "{}")]

    assert [reply.status for reply in replies] == [400] * 3
    assert nothing_changed_since(bot.db, before)


def test_the_author_is_never_their_own_reviewer(bot):
    team = matrix(bot.db)
    add_reviewer(bot.db, team, "dave", "gold", ["Backend/API"])  # never assigned: the least recent of all

    file(bot, user="dave")

    assert "UDAVE" not in {a.reviewer_id for a in assignments(bot.db)}


def test_the_least_loaded_reviewer_is_chosen_and_the_load_moves_on(bot):
    matrix(bot.db)

    for number in (1, 2, 3):
        file(bot, f"{PR}/{number} Backend/API", user="dave")

    chosen = [[a.reviewer_id for a in assignments(bot.db) if a.request_id == r.id] for r in requests(bot.db)]
    # 1: everyone idle, ties by ID. 2: eve and frank at 1/3, eve by ID; ivy (0/3) is the least loaded
    # secondary. 3: frank (1/3) is less loaded than eve (2/3); ivy and frank tie at 1/3... frank is primary.
    assert chosen == [["UEVE", "UFRANK"], ["UEVE", "UIVY"], ["UFRANK", "UIVY"]]


def test_nobody_eligible_tells_the_author_why_and_pings_the_team_lead(bot, slack):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "eve", "gold", ["Backend/API"], away_until=datetime(2026, 3, 6).date())
    add_reviewer(bot.db, team, "frank", "silver", ["Backend/API"], capacity=1)
    with freeze_time(MONDAY_10):
        file(bot, f"{PR}/1 Backend/API", user="grace")  # frank takes it and is full

        reply = file(bot, f"{PR}/2 Backend/API", user="dave")

    assert "nobody can review it yet" in reply.text
    assert "<@UEVE> is away" in reply.text and "<@UFRANK> is at capacity" in reply.text
    assert "I've told <@UALICE> (team lead)" in reply.text
    ping = dms(slack, "alice")[-1]
    assert "CR-002" in blocks_text(ping) and "has no primary reviewer" in blocks_text(ping)
    assert [r.status for r in requests(bot.db)] == ["open", "waiting"]
    assert "Waiting for a primary reviewer" in blocks_text(slack.posted("CPAYMENTS")[-1])


def test_when_the_only_reviewer_of_a_specialization_is_the_primary_the_author_is_told_nobody_else_has_it(bot):
    matrix(bot.db)  # henry is the only reviewer for Database/Performance

    reply = file(bot, "https://x.io/pr/4 data L")

    assert "Primary reviewer <@UHENRY> (Gold)" in reply.text
    assert ("No secondary reviewer. Nobody else in the matrix is a reviewer for Database/Performance: <@UHENRY> is "
            "already on it.") in reply.text
    assert "busy" not in reply.text


def test_a_specialization_nobody_in_the_matrix_has_says_so_and_what_to_do_not_that_nobody_is_free(bot, slack):
    matrix(bot.db)  # nobody reviews Mobile

    reply = file(bot, f"{PR} mobile")

    says = ("Nobody in the matrix is a gold or silver reviewer for Mobile. A team lead or engineering manager can "
            "add one with `/qms setup reviewers`.")
    assert says in reply.text
    assert "I assign it as soon as the matrix has a gold or silver reviewer for Mobile." in reply.text
    assert says in card(slack) and "free" not in card(slack)
    lead = blocks_text(dms(slack, "alice")[-1])
    assert says in lead and "free" not in lead
    assert "free" not in bot.command("review CR-001", user="dave", channel="payments").text


def test_a_waiting_card_says_who_is_busy_and_that_it_is_assigned_when_someone_is_free(bot, slack):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "eve", "gold", ["Backend/API"], away_until=datetime(2026, 3, 6).date())
    with freeze_time(MONDAY_10):
        file(bot)

    assert "Waiting for a primary reviewer. Every gold or silver reviewer for Backend/API is busy: <@UEVE> is " \
           "away. I assign it as soon as someone is free." in card(slack)


def test_with_no_team_lead_the_author_is_told_so_and_the_engineering_managers_are_pinged(bot, slack):
    make_team(bot.db, leads=(), managers=("bob",))

    reply = file(bot, user="dave")

    assert "Payments has no team lead yet" in reply.text
    assert "Nobody in the matrix is a gold or silver reviewer for Backend/API" in reply.text
    assert "I've told <@UBOB> (engineering manager)" in reply.text
    assert "has no primary reviewer" in blocks_text(dms(slack, "bob")[-1])


def test_a_request_that_keeps_waiting_pings_the_team_lead_only_once(bot, slack):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "ivy", "bronze", ["Backend/API"])
    file(bot)  # no primary: alice is told; ivy is the secondary

    press_in_dm(bot, slack, "ivy", "review_decline")
    bot.submit(bot.last_view(), {"reason": "Not today"}, user="ivy")

    assert len([m for m in dms(slack, "alice") if "has no primary reviewer" in blocks_text(m)]) == 1


@pytest.mark.parametrize("channel", ["payments", "general"])
def test_review_help_lists_every_review_command_and_changes_nothing(bot, channel):
    matrix(bot.db)
    before = snapshot(bot.db)

    reply = bot.command("review help", user="dave", channel=channel)

    assert reply.status == 200 and reply.json["response_type"] == "ephemeral"
    for usage in ("`/qms review &lt;link&gt; [specialization] [S|M|L]`", "`/qms review`", "`/qms review list`",
                  "`/qms review stats`", "`/qms review rate CR-007 9 [@reviewer]`", "`/qms review CR-007`"):
        assert usage in reply.text
    assert "neither a link" not in reply.text
    assert nothing_changed_since(bot.db, before)


def test_an_unknown_word_points_to_review_help(bot):
    matrix(bot.db)

    reply = file(bot, "helpp")

    assert "`/qms review help` lists every review command" in reply.json["text"]


# --- answering: Accept, Decline, Done ------------------------------------------------------------------
def test_accept_updates_the_reviewers_dm_and_the_card(bot, slack):
    matrix(bot.db)
    file(bot)

    reply = press_in_dm(bot, slack, "eve", "review_accept")

    assert reply.status == 200
    [dm] = dms(slack, "eve")
    assert dm.get("edited") and "You accepted it" in blocks_text(dm)
    assert set(buttons(dm)) == {"review_done", "review_decline"}
    assert "<@UEVE> (Gold) — reviewing" in card(slack)
    assert assignments(bot.db)[0].status == "accepted"


def test_someone_elses_accept_or_done_is_refused_and_changes_nothing(bot, slack):
    matrix(bot.db)
    file(bot)
    before = snapshot(bot.db)

    press_in_dm(bot, slack, "eve", "review_done", user="frank")
    done_text = refusal_text(bot)
    press_in_dm(bot, slack, "eve", "review_accept", user="frank")

    assert "CR-001 is assigned to <@UEVE>, not to you" in done_text
    assert "CR-001 is assigned to <@UEVE>, not to you" in refusal_text(bot)
    assert bot.responses()[-1]["response_type"] == "ephemeral"
    assert nothing_changed_since(bot.db, before)


def test_decline_asks_why_then_reassigns_and_tells_the_author(bot, slack):
    team = matrix(bot.db)
    add_reviewer(bot.db, team, "grace", "silver", ["Backend/API"])
    file(bot)  # eve primary, frank secondary

    press_in_dm(bot, slack, "eve", "review_decline")
    form = bot.last_view()
    empty = bot.submit(form, {"reason": "  "}, user="eve")
    reply = bot.submit(form, {"reason": "Out until Thursday"}, user="eve")

    assert form["title"]["text"] == "Decline CR-001"
    assert empty.json["response_action"] == "errors" and "reason" in empty.json["errors"]
    assert reply.status == 200 and reply.body == ""
    # frank, the silver secondary, steps up to primary; grace is the new secondary
    assert [(a.reviewer_id, a.role, a.status) for a in assignments(bot.db)] == [
        ("UEVE", "primary", "declined"), ("UFRANK", "primary", "assigned"), ("UGRACE", "secondary", "assigned")]
    assert set(buttons(dms(slack, "grace")[0])) == {"review_accept", "review_decline", "review_done"}
    author = blocks_text(dms(slack, "dave")[-1])
    assert "Out until Thursday" in author and "<@UFRANK> (Silver) is the primary reviewer now" in author
    assert "You declined: Out until Thursday" in blocks_text(dms(slack, "eve")[0])
    assert "<@UEVE> declined: Out until Thursday" in card(slack)
    assert "<@UFRANK> (Silver) — waiting for Accept" in card(slack)


def test_a_gold_secondary_is_promoted_when_the_primary_declines_before_anyone_new_is_asked(bot, slack):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "eve", "gold", ["Backend/API"])
    add_reviewer(bot.db, team, "henry", "gold", ["Backend/API"])
    file(bot)
    [first, second] = assignments(bot.db)

    press_in_dm(bot, slack, first.reviewer_id.lower()[1:], "review_decline")
    bot.submit(bot.last_view(), {"reason": "On leave"}, user=first.reviewer_id.lower()[1:])

    request = requests(bot.db)[0]
    assert request.status == "open"
    assert [(a.reviewer_id, a.role, a.status) for a in assignments(bot.db)] == [
        (first.reviewer_id, "primary", "declined"), (second.reviewer_id, "primary", "assigned")]
    assert f"<@{second.reviewer_id}> (Gold) is the primary reviewer now" in blocks_text(dms(slack, "dave")[-1])


def test_decline_hands_the_primary_role_only_to_a_gold_or_silver_reviewer(bot, slack):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "eve", "gold", ["Backend/API"])
    add_reviewer(bot.db, team, "frank", "bronze", ["Backend/API"])
    add_reviewer(bot.db, team, "ivy", "bronze", ["Backend/API"])
    file(bot)  # eve primary, a bronze secondary; bronze reviewers may not be primary

    press_in_dm(bot, slack, "eve", "review_decline")
    bot.submit(bot.last_view(), {"reason": "Not my area"}, user="eve")

    request = requests(bot.db)[0]
    assert request.status == "waiting"
    assert [a.reviewer_id for a in assignments(bot.db) if a.is_active] == ["UFRANK"]
    assert "Nobody else can take it yet" in blocks_text(dms(slack, "dave")[-1])
    assert "has no primary reviewer" in blocks_text(dms(slack, "alice")[-1])


def test_accept_after_declining_says_it_was_reassigned_and_changes_nothing(bot, slack):
    team = matrix(bot.db)
    add_reviewer(bot.db, team, "grace", "silver", ["Backend/API"])
    file(bot)
    press_in_dm(bot, slack, "eve", "review_decline")
    bot.submit(bot.last_view(), {"reason": "Travelling"}, user="eve")
    before = snapshot(bot.db)

    bot.press("review_accept", value=str(assignments(bot.db)[0].id), user="eve")

    assert "You declined CR-001, so it was reassigned to <@UFRANK>" in refusal_text(bot)  # the secondary stepped up
    assert nothing_changed_since(bot.db, before)


def test_done_by_both_reviewers_finishes_the_request_and_asks_the_author_to_rate_each(bot, slack):
    matrix(bot.db)
    with freeze_time(MONDAY_10):
        file(bot)
    with freeze_time("2026-03-02 12:30:00"):
        press_in_dm(bot, slack, "frank", "review_done")
    middle = requests(bot.db)[0].status
    with freeze_time("2026-03-02 14:00:00"):
        press_in_dm(bot, slack, "eve", "review_accept")
        press_in_dm(bot, slack, "eve", "review_done")

    request = requests(bot.db)[0]
    assert (middle, request.status, request.turnaround_seconds) == ("open", "done", 4 * 3600)
    assert [a.turnaround_seconds for a in assignments(bot.db)] == [4 * 3600, int(2.5 * 3600)]
    rating_dms = [m for m in dms(slack, "dave") if "review_rate_9" in buttons(m)]
    assert len(rating_dms) == 2
    assert "Done in 4 h of working time" in card(slack)


def test_a_secondary_who_declines_after_the_primarys_done_with_nobody_to_follow_finishes_the_request(bot, slack):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "eve", "gold", ["Backend/API"])
    add_reviewer(bot.db, team, "frank", "silver", ["Backend/API"])
    with freeze_time(MONDAY_10):
        file(bot)  # eve primary, frank secondary, nobody else
    with freeze_time("2026-03-02 11:00:00"):
        press_in_dm(bot, slack, "eve", "review_done")
    with freeze_time("2026-03-02 12:00:00"):
        press_in_dm(bot, slack, "frank", "review_decline")
        bot.submit(bot.last_view(), {"reason": "Eve covered it"}, user="frank")

    request = requests(bot.db)[0]
    assert (request.status, request.turnaround_seconds) == ("done", 2 * 3600)
    assert "Done in 2 h of working time" in card(slack)


def test_a_rating_is_stored_and_shown_and_can_be_changed(bot, slack):
    matrix(bot.db)
    file(bot)
    press_in_dm(bot, slack, "eve", "review_done")

    press_in_dm(bot, slack, "dave", "review_rate_7")
    press_in_dm(bot, slack, "dave", "review_rate_9")

    eve = assignments(bot.db)[0]
    assert (eve.rating, requests(bot.db)[0].rating) == (9, 9.0)
    assert "You rated it *9/10*" in blocks_text(dms(slack, "dave")[-1])
    with bot.db.transaction() as session:
        rated = [e.after for e in session.exec(select(AuditEvent).where(AuditEvent.action == "rated"))]
    assert [(r["before"], r["rating"]) for r in rated] == [(None, 7), (7, 9)]


def set_targets(db, team, **values):
    with db.transaction() as session:
        teams.save_targets(session, session.merge(team), values, actor_id="UALICE", now=datetime.now(UTC))


@pytest.mark.parametrize("target, says", [(None, "above 8/10"), (8.5, "above 8.5/10"), (9, "above 9/10")])
def test_the_rating_dm_names_the_teams_own_review_quality_target(bot, slack, target, says):
    team = matrix(bot.db)
    if target is not None:
        set_targets(bot.db, team, review_quality=target)
    file(bot)

    press_in_dm(bot, slack, "eve", "review_done")
    asked = blocks_text(dms(slack, "dave")[-1])
    press_in_dm(bot, slack, "dave", "review_rate_9")  # the DM is redrawn with the rating: still no target there

    assert f"The team's review quality target is {says}." in asked
    assert "You rated it *9/10*" in blocks_text(dms(slack, "dave")[-1])


@pytest.mark.parametrize("score", ["11", "0", "nine", ""])
def test_a_rating_outside_one_to_ten_is_refused_and_changes_nothing(bot, slack, score):
    matrix(bot.db)
    file(bot)
    press_in_dm(bot, slack, "eve", "review_done")
    before = snapshot(bot.db)
    assignment_id = assignments(bot.db)[0].id

    bot.press("review_rate_9", value=f"{assignment_id}:{score}", user="dave")

    assert "A rating is a whole number from 1 (not useful) to 10 (excellent)" in refusal_text(bot)
    assert nothing_changed_since(bot.db, before)


def test_only_the_author_rates_and_only_a_finished_review(bot, slack):
    matrix(bot.db)
    file(bot)
    eve, frank = assignments(bot.db)
    press_in_dm(bot, slack, "eve", "review_done")
    before = snapshot(bot.db)

    bot.press("review_rate_8", value=f"{eve.id}:8", user="eve")
    by_reviewer = refusal_text(bot)
    bot.press("review_rate_8", value=f"{frank.id}:8", user="dave")

    assert "Only the author of CR-001 (<@UDAVE>) rates its reviews" in by_reviewer
    assert "<@UFRANK> has not finished their review of CR-001 yet" in refusal_text(bot)
    assert nothing_changed_since(bot.db, before)


def test_a_typed_rating_works_and_a_bad_one_is_answered(bot, slack):
    matrix(bot.db)
    file(bot)
    press_in_dm(bot, slack, "eve", "review_done")

    bad = bot.command("review rate CR-001 11", user="dave", channel="payments")
    good = bot.command("review rate cr-1 8", user="dave", channel="payments")

    assert "A rating is a whole number from 1" in bad.json["text"]
    assert "you rated the review of CR-001 8/10" in good.json["text"]  # as the request is labelled
    assert assignments(bot.db)[0].rating == 8


def test_accept_or_done_on_a_finished_review_is_refused(bot, slack):
    matrix(bot.db)
    file(bot)
    press_in_dm(bot, slack, "eve", "review_done")
    before = snapshot(bot.db)

    bot.press("review_accept", value=str(assignments(bot.db)[0].id), user="eve")

    assert "Your review of CR-001 is already done" in refusal_text(bot)
    assert nothing_changed_since(bot.db, before)


def test_the_author_may_withdraw_a_request_and_its_reviewers_are_told(bot, slack):
    matrix(bot.db)
    file(bot)
    card_message = next(m for m in slack.posted("CPAYMENTS") if "review requested" in m["text"])

    bot.press("review_withdraw", value=buttons(card_message)["review_withdraw"], user="carol",
              message=card_message, channel="CPAYMENTS")
    carol = refusal_text(bot)
    bot.press("review_withdraw", value=buttons(card_message)["review_withdraw"], user="dave",
              message=card_message, channel="CPAYMENTS")

    assert "Only the author of CR-001 (<@UDAVE>)" in carol
    assert requests(bot.db)[0].status == "withdrawn"
    assert "was withdrawn" in blocks_text(dms(slack, "eve")[0]) and buttons(dms(slack, "eve")[0]) == {}
    assert "Withdrawn" in card(slack)
    bot.press("review_accept", value=str(assignments(bot.db)[0].id), user="eve")
    assert "CR-001 was withdrawn by <@UDAVE>" in refusal_text(bot)


def test_withdraw_asks_first_and_the_card_and_the_reviewers_are_told_who_withdrew_it_and_when(bot, slack):
    matrix(bot.db)
    with freeze_time(MONDAY_10):
        file(bot)
    card_message = next(m for m in slack.posted("CPAYMENTS") if "review requested" in m["text"])
    [withdraw] = [e for b in card_message["blocks"] if b["type"] == "actions" for e in b["elements"]
                  if e.get("action_id") == "review_withdraw"]

    with freeze_time("2026-03-02 11:30:00"):
        bot.press("review_withdraw", value=withdraw["value"], user="alice", message=card_message, channel="CPAYMENTS")

    confirm = withdraw["confirm"]
    assert confirm["title"]["text"] == "Withdraw CR-001?"
    assert "<@UEVE>, <@UFRANK> are told there is nothing left to review" in confirm["text"]["text"]
    assert (confirm["confirm"]["text"], confirm["deny"]["text"]) == ("Withdraw", "Keep it")
    at = int(datetime(2026, 3, 2, 11, 30, tzinfo=UTC).timestamp())
    assert f"Withdrawn by <@UALICE> <!date^{at}^" in card(slack)
    assert "Withdraw" not in [b for b in card(slack).splitlines()]  # no button left to press
    assert f"CR-001 was withdrawn by <@UALICE> <!date^{at}^" in blocks_text(dms(slack, "eve")[0])
    shown = bot.command("review CR-001", user="ivy", channel="payments").text
    assert f"Withdrawn by <@UALICE> <!date^{at}^" in shown
    bot.press("review_done", value=str(assignments(bot.db)[1].id), user="frank")
    assert "CR-001 was withdrawn by <@UALICE>: there is nothing left to review" in refusal_text(bot)


@pytest.mark.parametrize("action_id", ["review_accept", "review_done", "review_decline", "review_withdraw",
                                       "review_rate_9"])
@pytest.mark.parametrize("value", ["DROP TABLE", "²", "1²", "١٢", "１", "9" * 30, "-1", " 1", ""])
def test_a_button_with_a_forged_value_is_a_bad_request(bot, action_id, value):
    matrix(bot.db)
    file(bot)
    before = snapshot(bot.db)

    reply = bot.press(action_id, value=f"{value}:9" if action_id == "review_rate_9" else value, user="dave")

    assert reply.status == 400
    assert nothing_changed_since(bot.db, before)


# --- list and stats ------------------------------------------------------------------------------------
def test_list_shows_what_is_assigned_to_me_requested_by_me_and_stalled_in_my_team(bot, slack):
    matrix(bot.db)
    with freeze_time(MONDAY_10):
        file(bot, f"{PR}/1 Backend/API", user="dave")
        file(bot, f"{PR}/2 Backend/API", user="eve")
    from bot.reviews import sweep
    sweep(bot.db, now=datetime(2026, 3, 2, 16, 0, tzinfo=UTC))

    with freeze_time("2026-03-02 16:00:00"):
        reply = bot.command("review list", user="eve", channel="payments")

    text = reply.text
    assert "*Assigned to you* (1)" in text and "CR-001" in text and "you are primary" in text
    assert "*Requested by you* (1)" in text and "CR-002" in text
    assert "*Stalled in Payments* (2)" in text
    assert buttons(reply.json) == {action: str(assignments(bot.db)[0].id)
                                   for action in ("review_accept", "review_done", "review_decline")}


def test_stats_answers_with_the_coordination_matrix_as_a_table(bot, slack):
    matrix(bot.db)
    with freeze_time(MONDAY_10):
        file(bot)  # eve primary, frank secondary
    with freeze_time("2026-03-02 13:00:00"):
        press_in_dm(bot, slack, "eve", "review_done")  # 3 working hours
        press_in_dm(bot, slack, "dave", "review_rate_9")
    with freeze_time("2026-03-02 13:30:00"):
        press_in_dm(bot, slack, "frank", "review_done")  # 3.5 h: the request is done in 3.5 h
        press_in_dm(bot, slack, "dave", "review_rate_7", index=-1)
    with freeze_time("2026-03-02 13:45:00"):
        file(bot, f"{PR}/2 Backend/API")  # eve (tied with frank, first by ID) and ivy (never assigned)
    with freeze_time("2026-03-02 14:00:00"):
        reply = bot.command("review stats", user="alice", channel="payments")

    assert reply.status == 200
    answer = blocks_text(bot.responses()[-1])
    assert "Review coordination matrix — Payments" in answer
    assert "*Average review time*\n3.5 h (target < 6 h)" in answer
    assert "*Review quality*\n8.0/10 (target > 8.0)" in answer  # (9 + 7) / 2, not above the target
    assert "*Reviews done*\n1 of 2 requested" in answer
    rows = matrix_rows(answer)
    # Open and Load are now; Util is the 30-day average (eve: 3.25 h open of 720 h × 3 slots, 0 %).
    assert rows["@eve"] == ["Gold", "Backend/API", "1/3", "33", "%", "0", "%", "3", "h", "9.0"]
    assert rows["@frank"] == ["Silver", "Backend/API", "0/3", "0", "%", "0", "%", "3.5", "h", "7.0"]
    assert rows["@ivy"] == ["Bronze", "Backend/API", "1/3", "33", "%", "0", "%", "—", "—"]
    assert rows["@henry"] == ["Gold", "Database/Performance", "0/3", "0", "%", "0", "%", "—", "—"]
    lines = answer.replace("```", "\n").splitlines()
    assert [line.split()[0] for line in lines if line.startswith("@")] == [
        "@eve", "@henry", "@frank", "@ivy"]  # gold, silver, bronze


def matrix_rows(answer):
    """The stats table's rows by handle: tier, specializations, open, load now, utilization, median, quality."""
    lines = answer.replace("```", "\n").splitlines()
    return {line.split()[0]: line.split()[1:] for line in lines if line.startswith("@")}


def test_stats_names_load_now_and_utilization_over_30_days_apart_and_each_is_right(bot, slack):
    matrix(bot.db)
    with freeze_time(MONDAY_10):
        file(bot)  # eve primary, frank secondary: one open review of three each, from now on

    with freeze_time("2026-04-06 10:00:00"):  # five weeks on: open for the whole 30 days
        bot.command("review stats", user="alice", channel="payments")
        busy = blocks_text(bot.responses()[-1])
        press_in_dm(bot, slack, "eve", "review_done")
        bot.command("review stats", user="alice", channel="payments")
        finished = blocks_text(bot.responses()[-1])

    assert "Reviewer utilization, last 30 days*\n17 % (target 70–85 %)" in busy  # 2 of 12 slots, all along
    assert "*Reviewer load now*\n2 open of 12 review slots (17 %)" in busy
    assert "*Load* (open reviews ÷ capacity) are as of now" in busy and "*Util* is the utilization" in busy
    assert "on average" not in busy
    assert matrix_rows(busy)["@eve"][2:7] == ["1/3", "33", "%", "33", "%"]
    assert matrix_rows(busy)["@ivy"][2:7] == ["0/3", "0", "%", "0", "%"]
    # Done: eve's load drops at once; her utilization over the 30 days does not.
    assert matrix_rows(finished)["@eve"][2:7] == ["0/3", "0", "%", "33", "%"]
    assert "*Reviewer load now*\n1 open of 12 review slots (8 %)" in finished


def test_stats_compares_with_the_teams_own_targets(bot):
    team = matrix(bot.db)
    set_targets(bot.db, team, review_time_hours=4, review_quality=9)

    bot.command("review stats", user="alice", channel="payments")

    answer = blocks_text(bot.responses()[-1])
    assert "(target < 4 h)" in answer and "(target > 9.0)" in answer


def test_a_request_can_be_looked_up_by_its_number(bot):
    matrix(bot.db)
    file(bot)

    found = bot.command("review CR-001", user="ivy", channel="general")
    lower = bot.command("review cr-1", user="ivy", channel="general")
    missing = bot.command("review cr-9", user="ivy", channel="general")
    typed_in_capitals = bot.command("review CR-999", user="ivy", channel="general")

    assert found.json["response_type"] == "ephemeral"
    assert "CR-001" in found.text and "<@UEVE> (Gold) — waiting for Accept" in found.text
    assert "<@UEVE> (Gold) — waiting for Accept" in lower.text
    assert 'There is no review request "CR-009" in this workspace' in missing.json["text"]
    assert 'There is no review request "CR-999" in this workspace' in typed_in_capitals.json["text"]
