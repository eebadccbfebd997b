"""The clock's part in reviews: reminders at the right working-hour marks and once only, stalled
requests told to the team lead, waiting requests assigned when someone is free, turnaround in
working hours — with time frozen, never waited for."""

import logging
import threading
from datetime import UTC, date, datetime

from freezegun import freeze_time
from sqlalchemy import update
from sqlmodel import select

from app import clock
from bot import reviews, teams
from storage import outbox
from storage.audit import AuditEvent
from storage.teams import Team
from tests.conftest import both_databases
from tests.handlers.reviews.test_reviews import assignments, card, dms, file, matrix, press_in_dm, requests
from tests.harness.bot import blocks_text
from tests.harness.teams import add_reviewer, make_team

SWEEP = next(job for job in clock.JOBS if job.id == "reviews.sweep")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def tick(bot, when: str) -> None:
    """The clock's review sweep at `when`, and the outbox delivery that follows it."""
    with freeze_time(when):
        clock.run_job(bot.services, SWEEP, now=at(when))


def reminders(slack, person, word="Reminder"):
    return [m for m in dms(slack, person) if word in m["text"]]


def stalled_pings(slack, person):
    return [m for m in dms(slack, person) if "is stalled" in m["text"]]


def test_a_reviewer_who_has_not_accepted_is_reminded_at_two_working_hours_and_once_only(bot, slack):
    matrix(bot.db)
    with freeze_time("2026-03-02 10:00:00"):  # Monday
        file(bot)

    tick(bot, "2026-03-02 11:59:00")
    before = [len(reminders(slack, p)) for p in ("eve", "frank")]
    tick(bot, "2026-03-02 12:00:00")
    tick(bot, "2026-03-02 12:01:00")
    tick(bot, "2026-03-02 13:30:00")

    assert before == [0, 0]
    assert [len(reminders(slack, p)) for p in ("eve", "frank")] == [1, 1]
    assert "has waited 2 h of working time" in blocks_text(reminders(slack, "eve")[0])
    with bot.db.transaction() as session:
        assert len(outbox.messages(session, "T0TEST", key_prefix="review:1:nudge:accept")) == 2


def test_an_accepted_review_gets_no_accept_reminder(bot, slack):
    matrix(bot.db)
    with freeze_time("2026-03-02 10:00:00"):
        file(bot)
        press_in_dm(bot, slack, "eve", "review_accept")

    tick(bot, "2026-03-02 12:30:00")

    assert (len(reminders(slack, "eve")), len(reminders(slack, "frank"))) == (0, 1)


def test_the_reminder_counts_working_hours_over_a_weekend_and_waits_for_them(bot, slack):
    matrix(bot.db)
    with freeze_time("2026-03-06 16:00:00"):  # Friday, one working hour left
        file(bot)

    for when in ("2026-03-06 17:30:00", "2026-03-07 12:00:00", "2026-03-08 23:00:00", "2026-03-09 09:59:00"):
        tick(bot, when)
    quiet = len(reminders(slack, "eve"))
    tick(bot, "2026-03-09 10:00:00")  # Monday: 1 h on Friday + 1 h on Monday

    assert quiet == 0
    assert len(reminders(slack, "eve")) == 1


def test_past_the_target_the_reviewers_are_reminded_and_the_team_lead_told_once(bot, slack):
    matrix(bot.db)
    with freeze_time("2026-03-02 10:00:00"):
        file(bot)
        press_in_dm(bot, slack, "eve", "review_accept")

    tick(bot, "2026-03-02 15:59:00")
    early = (len(stalled_pings(slack, "alice")), requests(bot.db)[0].stalled_at)
    tick(bot, "2026-03-02 16:00:00")  # 6 working hours
    tick(bot, "2026-03-02 16:30:00")
    tick(bot, "2026-03-03 09:00:00")

    assert early == (0, None)
    assert len(stalled_pings(slack, "alice")) == 1
    assert "past the 6 h target" in blocks_text(stalled_pings(slack, "alice")[0])
    assert stalled_pings(slack, "bob") == []  # engineering managers are not pinged for a stalled review
    eve_done_reminders = [m for m in dms(slack, "eve") if "past its review-time target" in m["text"]]
    assert len(eve_done_reminders) == 1
    assert "Stalled" in card(slack)
    assert requests(bot.db)[0].stalled_at == at("2026-03-02 16:00:00")


def test_a_stalled_request_in_a_team_without_a_team_lead_is_told_to_its_engineering_managers(bot, slack):
    matrix(bot.db, leads=(), managers=("bob", "carol"))
    with freeze_time("2026-03-02 10:00:00"):
        file(bot)

    tick(bot, "2026-03-02 16:00:00")

    assert (len(stalled_pings(slack, "bob")), len(stalled_pings(slack, "carol"))) == (1, 1)


def test_a_stalled_request_nobody_reviews_does_not_claim_its_reviewers_were_reminded(bot, slack):
    make_team(bot.db)
    with freeze_time("2026-03-02 10:00:00"):
        file(bot)

    tick(bot, "2026-03-02 16:00:00")

    [ping] = stalled_pings(slack, "alice")
    assert "have been reminded" not in blocks_text(ping)
    assert "It has no reviewer yet: nobody could be reminded" in blocks_text(ping)


def test_the_teams_own_review_time_target_is_used(bot, slack):
    team = matrix(bot.db)
    with bot.db.transaction() as session:
        teams.save_targets(session, session.merge(team), {"review_time_hours": "4"}, actor_id="UALICE",
                           now=at("2026-03-02 09:00:00"))
    with freeze_time("2026-03-02 10:00:00"):
        file(bot)

    tick(bot, "2026-03-02 13:59:00")
    early = len(stalled_pings(slack, "alice"))
    tick(bot, "2026-03-02 14:00:00")

    assert (early, len(stalled_pings(slack, "alice"))) == (0, 1)
    assert "past the 4 h target" in blocks_text(stalled_pings(slack, "alice")[0])


def test_a_clock_that_was_down_catches_up_at_the_next_working_moment(bot, slack):
    matrix(bot.db)
    with freeze_time("2026-03-02 10:00:00"):
        file(bot)

    tick(bot, "2026-03-03 03:00:00")  # the first sweep after downtime, at night: nothing yet
    night = (len(reminders(slack, "eve")), len(stalled_pings(slack, "alice")))
    tick(bot, "2026-03-03 09:00:00")
    tick(bot, "2026-03-03 09:01:00")

    assert night == (0, 0)
    assert (len(reminders(slack, "eve")), len(stalled_pings(slack, "alice"))) == (1, 1)
    assert "past its review-time target" in reminders(slack, "eve")[0]["text"]  # one reminder, not two


def test_a_done_or_withdrawn_request_is_never_nudged(bot, slack):
    matrix(bot.db)
    with freeze_time("2026-03-02 10:00:00"):
        file(bot)
        press_in_dm(bot, slack, "eve", "review_done")
        press_in_dm(bot, slack, "frank", "review_done")

    tick(bot, "2026-03-03 12:00:00")

    assert reminders(slack, "eve") == [] and stalled_pings(slack, "alice") == []


def test_turnaround_over_a_weekend_counts_working_hours_only(bot, slack):
    matrix(bot.db)
    with freeze_time("2026-03-06 16:00:00"):  # Friday 16:00
        file(bot)
    with freeze_time("2026-03-09 10:00:00"):  # Monday 10:00: 65 hours later, 2 of them working
        press_in_dm(bot, slack, "eve", "review_done")
        press_in_dm(bot, slack, "frank", "review_done")

    request = requests(bot.db)[0]
    assert request.turnaround_seconds == 2 * 3600
    assert [a.turnaround_seconds for a in assignments(bot.db)] == [2 * 3600, 2 * 3600]
    assert "Done in 2 h of working time" in card(slack)


def test_working_hours_follow_the_teams_time_zone(bot, slack):
    matrix(bot.db, timezone="America/New_York")  # 09:00–17:00 in New York is 14:00–22:00 UTC in early March
    with freeze_time("2026-03-02 19:00:00"):  # 14:00 in New York
        file(bot)

    tick(bot, "2026-03-02 20:59:00")
    early = len(reminders(slack, "eve"))
    tick(bot, "2026-03-02 21:00:00")  # 16:00 in New York: two working hours, though after hours in UTC

    assert (early, len(reminders(slack, "eve"))) == (0, 1)


def test_a_waiting_request_is_assigned_as_soon_as_someone_is_free(bot, slack):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "eve", "gold", ["Backend/API"], away_until=date(2026, 3, 2))
    add_reviewer(bot.db, team, "ivy", "bronze", ["Backend/API"])
    with freeze_time("2026-03-02 10:00:00"):
        reply = file(bot)

    tick(bot, "2026-03-02 15:00:00")  # eve is still away today
    still_waiting = requests(bot.db)[0].status
    tick(bot, "2026-03-03 00:01:00")  # back today: assigned, even before working hours

    assert "<@UEVE> is away" in reply.text and still_waiting == "waiting"
    assert requests(bot.db)[0].status == "open"
    assert [(a.reviewer_id, a.role) for a in assignments(bot.db)] == [("UIVY", "secondary"), ("UEVE", "primary")]
    assert "has a reviewer now" in blocks_text(dms(slack, "dave")[-1])
    assert "<@UEVE> (Gold) — waiting for Accept" in card(slack)


def two_clocks(bot, when: str) -> None:
    """Two clock processes sweeping at the same moment."""
    start = threading.Barrier(2)
    errors = []

    def clock_process():
        try:
            start.wait()
            SWEEP.run(bot.services, at(when))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=clock_process) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@both_databases
def test_two_clocks_at_once_send_each_reminder_once(bot, slack):
    matrix(bot.db)
    with freeze_time("2026-03-02 10:00:00"):
        file(bot)

    two_clocks(bot, "2026-03-02 12:00:00")  # the accept reminders are due
    two_clocks(bot, "2026-03-02 16:00:00")  # the request stalls

    with bot.db.transaction() as session:
        keys = sorted(m.key for m in outbox.messages(session, "T0TEST", key_prefix="review:1:"))
        audited = sorted(e.action for e in session.exec(select(AuditEvent).where(AuditEvent.actor_id == "qms-bot")))
    assert [k for k in keys if ":nudge:" in k or ":stalled:" in k] == [
        "review:1:nudge:accept:1", "review:1:nudge:accept:2", "review:1:nudge:done:1", "review:1:nudge:done:2",
        "review:1:stalled:UALICE"]
    assert (audited.count("nudged"), audited.count("stalled")) == (2, 1)
    assert [k for k in keys if k.startswith("review:1:card:v")] == ["review:1:card:v2"]  # the stall's one update


def test_a_request_whose_sweep_fails_is_logged_and_skipped_and_the_others_are_still_swept(bot, slack, caplog):
    broken = make_team(bot.db, "Infra", channel="platform", leads=("dave",))  # swept first: "Infra" < "Payments"
    add_reviewer(bot.db, broken, "grace", "gold", ["Backend/API"])
    matrix(bot.db)
    with freeze_time("2026-03-02 10:00:00"):
        file(bot, user="carol", channel="platform")  # CR-001, Infra's
        file(bot)  # CR-002, Payments'
    with bot.db.transaction() as session:  # a team whose settings no longer parse: its sweep raises
        session.execute(update(Team).where(Team.id == broken.id).values(timezone="Mars/Olympus_Mons"))

    with caplog.at_level(logging.ERROR, logger="bot.reviews.clock"):
        tick(bot, "2026-03-02 12:00:00")
        again = reviews.sweep(bot.db, now=at("2026-03-02 12:01:00"))

    assert [len(reminders(slack, p)) for p in ("eve", "frank", "grace")] == [1, 1, 0]
    assert (again.failed, again.accept_nudges) == (1, 0)
    failures = [r for r in caplog.records if r.name == "bot.reviews.clock"]
    assert len(failures) == 2 and failures[0].exc_info is not None
    assert f"request {requests(bot.db)[0].id} of workspace T0TEST failed" in failures[0].getMessage()
    with bot.db.transaction() as session:  # nothing of the failed request's sweep was kept
        assert outbox.messages(session, "T0TEST", key_prefix=f"review:{requests(bot.db)[0].id}:nudge") == []


# --- one message per person and kind per sweep ----------------------------------------------------
def test_a_sweep_with_several_stalled_reviews_sends_the_lead_one_message_and_each_reviewer_one(bot, slack):
    from storage.held import HeldMessage

    matrix(bot.db)
    with freeze_time("2026-03-02 10:00:00"):
        for number in range(3):
            file(bot, f"https://github.com/acme/payments/pull/{number} Backend/API")
    slack.reset_calls()

    tick(bot, "2026-03-02 16:00:00")
    tick(bot, "2026-03-02 16:01:00")  # a second sweep adds nothing

    [to_alice] = [m for m in dms(slack, "alice") if "stalled" in m["text"]]
    assert "3 reviews in your team are stalled" in to_alice["text"]
    assert all(f"CR-00{n}" in blocks_text(to_alice) for n in (1, 2, 3))
    on_it = {}
    for assignment in assignments(bot.db):
        on_it.setdefault(assignment.reviewer_id, []).append(assignment)
    for reviewer, theirs in on_it.items():
        [nudge] = [m for m in dms(slack, reviewer.lower()[1:])  # one message, however many reviews
                   if "Reminder" in m["text"] or "waiting for you" in m["text"]]
        if len(theirs) > 1:
            assert f"{len(theirs)} reviews are waiting for you" in nudge["text"]
        assert str(nudge["blocks"]).count("review_done") == len(theirs)  # each item keeps its buttons
    with bot.db.transaction() as session:
        items = list(session.exec(select(HeldMessage).order_by(HeldMessage.id)))
        rows = outbox.messages(session, "T0TEST", key_prefix="group:")
    assert len(items) == 3 + 6 and len({item.key for item in items}) == 9  # each item's own key, once
    assert {row.key for row in rows} <= {item.released_key for item in items}
    assert len({item.released_key for item in items}) == 1 + len(on_it)


def test_an_item_held_by_a_sweep_that_died_goes_out_with_the_next_sweep(bot, slack):
    from bot.teams import notices
    from storage import held

    matrix(bot.db)
    with freeze_time("2026-03-02 10:00:00"):
        file(bot)
    with bot.db.transaction() as session:  # held, then the sweep died before releasing it
        held.hold(session, workspace_id="T0TEST", person_id="UALICE", kind="stalled", key="review:1:stalled:UALICE",
                  payload={"text": "CR-001 in Payments is stalled", "blocks": []}, summary="CR-001",
                  now=at("2026-03-02 16:00:00"))
    slack.reset_calls()

    tick(bot, "2026-03-02 16:01:00")

    [told] = stalled_pings(slack, "alice")  # the held one, not a second one for the same request
    assert told["text"] == "CR-001 in Payments is stalled"
    with bot.db.transaction() as session:
        assert notices.release_held(session, now=at("2026-03-02 16:02:00")) == 0
