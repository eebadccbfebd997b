"""The digests: posted at the team's local time on its working days, DST-correct, once per team and
period even with two clocks, caught up after downtime within 6 hours, with a chart every Monday."""

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlmodel import select

from app import clock
from bot import digests, metrics
from bot.core.errors import Refusal
from bot.core.timeutil import utcnow
from bot.teams import BY_KEY
from storage import outbox
from storage.db import Database
from storage.metrics import DigestRun
from tests.conftest import both_databases
from tests.harness.bot import blocks_text
from tests.harness.metrics import add_checks, add_defects, add_gates, log_risk
from tests.harness.teams import make_team

DIGEST_JOB = next(job for job in clock.JOBS if job.id == "digests.post")
MONDAY_9 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # UTC teams: Monday 9 March 2026, 09:00


def run_clock(bot, moment: datetime, frozen=None) -> list[dict]:
    """The digest job at `moment`, as the clock runs it (then the outbox is delivered); what it posted.
    With `frozen` (a running freeze_time) the wall clock is moved there and read, as the clock process
    reads it; otherwise `moment` is passed as `now`."""
    before = len(bot.slack.posted())
    if frozen is not None:
        frozen.move_to(moment)
        moment = utcnow()
    clock.run_job(bot.services, DIGEST_JOB, now=moment)
    # the digests' full tables (in their short messages' threads, tested in tests/handlers/metrics) and charts
    return [m for m in bot.slack.posted()[before:] if m.get("thread_ts") or not m["text"].endswith("today.")]


def digest_kind(message: dict) -> str:
    return "weekly" if message["text"].startswith("Weekly") else "daily"


# --- when -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("change, expected", [
    # Europe/Berlin springs forward on Sunday 29 March 2026: 09:00 is 08:00 UTC before, 07:00 UTC after.
    ("spring", [("2026-03-26 08:00", "daily"), ("2026-03-27 08:00", "daily"), ("2026-03-30 07:00", "daily"),
                ("2026-03-30 07:00", "weekly"), ("2026-03-31 07:00", "daily")]),
    # It falls back on Sunday 25 October 2026: 09:00 is 07:00 UTC before, 08:00 UTC after.
    ("autumn", [("2026-10-22 07:00", "daily"), ("2026-10-23 07:00", "daily"), ("2026-10-26 08:00", "daily"),
                ("2026-10-26 08:00", "weekly"), ("2026-10-27 08:00", "daily")]),
])
def test_digests_follow_the_teams_local_nine_oclock_across_a_dst_change_and_skip_the_weekend(bot, change, expected):
    make_team(bot.db, timezone="Europe/Berlin", digest="digest")
    start = datetime.fromisoformat(expected[0][0]).replace(tzinfo=UTC)
    run_clock(bot, start.replace(hour=0))  # the first sweep skips what was missed before the test began

    # Every hour from 05:00 to 10:00 UTC and at noon, six days running: whatever is due goes out at the
    # first sweep at or after its time, so the hour a digest appears is the hour it was due.
    moments = [start.replace(hour=0) + timedelta(days=day, hours=hour) for day in range(6)
               for hour in (5, 6, 7, 8, 9, 10, 12)]
    posted = []
    with freeze_time(start) as frozen:
        for moment in moments:
            posted += [(moment.strftime("%Y-%m-%d %H:%M"), digest_kind(m)) for m in run_clock(bot, moment, frozen)]

    assert posted == expected
    assert all(m["channel"] == "CDIGEST" for m in bot.slack.posted())


def test_a_team_that_works_sunday_to_thursday_gets_its_daily_digest_on_those_days(database):
    team = make_team(database, work_days=("sun", "mon", "tue", "wed", "thu"))

    due = [digests.latest_due(team, "daily", now=datetime(2026, 3, day, 12, tzinfo=UTC)).period
           for day in range(6, 13)]  # Friday 6 to Thursday 12 March, at noon

    assert due == ["2026-03-05", "2026-03-05", "2026-03-08", "2026-03-09", "2026-03-10", "2026-03-11", "2026-03-12"]


def test_a_monday_daily_digest_covers_friday_to_sunday_and_the_weekly_one_the_iso_week_before(database):
    team = make_team(database, timezone="America/New_York")

    daily = digests.latest_due(team, "daily", now=datetime(2026, 3, 9, 14, tzinfo=UTC))
    weekly = digests.latest_due(team, "weekly", now=datetime(2026, 3, 9, 14, tzinfo=UTC))

    # New York moved to daylight time on Sunday 8 March: Friday midnight is 05:00 UTC, Monday's 04:00 UTC.
    assert (daily.period, daily.start, daily.end) == ("2026-03-09", datetime(2026, 3, 6, 5, tzinfo=UTC),
                                                      datetime(2026, 3, 9, 4, tzinfo=UTC))
    assert daily.scheduled_for == datetime(2026, 3, 9, 13, tzinfo=UTC)
    assert (weekly.period, weekly.start, weekly.end) == ("2026-W10", datetime(2026, 3, 2, 5, tzinfo=UTC),
                                                         datetime(2026, 3, 9, 4, tzinfo=UTC))


def test_the_digest_time_is_the_teams_own(bot):
    team = make_team(bot.db)
    with bot.db.transaction() as session:
        digests.set_digest_time(session, session.merge(team), "7:30", actor_id="UALICE", workspace_admin=False,
                                now=MONDAY_9)

    assert [digest_kind(m) for m in run_clock(bot, datetime(2026, 3, 9, 7, 29, tzinfo=UTC))] == []
    assert sorted(digest_kind(m) for m in run_clock(bot, datetime(2026, 3, 9, 7, 30, tzinfo=UTC))) == ["daily",
                                                                                                     "weekly"]
    assert [digest_kind(m) for m in run_clock(bot, datetime(2026, 3, 10, 7, 29, tzinfo=UTC))] == []
    assert [digest_kind(m) for m in run_clock(bot, datetime(2026, 3, 10, 7, 30, tzinfo=UTC))] == ["daily"]


def test_after_fridays_digest_the_next_ones_are_on_monday(database):
    team = make_team(database, timezone="Europe/Berlin")

    upcoming = digests.next_occurrences(team, now=datetime(2026, 3, 27, 8, 0, tzinfo=UTC))  # Fri 09:00 CET

    # Berlin moves to summer time on Sunday 29 March: Monday's 09:00 is 07:00 UTC.
    assert upcoming == {"daily": datetime(2026, 3, 30, 7, tzinfo=UTC), "weekly": datetime(2026, 3, 30, 7, tzinfo=UTC)}


# Digits that are not ASCII match a regex's \d, but the schedule cannot read them back: refused too.
@pytest.mark.parametrize("typed", ["25:00", "9", "noon", "09:60", "０８:３０", "1٥:3٠", "²:30"])
def test_a_digest_time_that_is_not_a_time_of_day_is_refused(database, typed):
    team = make_team(database)

    with database.transaction() as session, pytest.raises(Refusal) as refused:
        digests.set_digest_time(session, session.merge(team), typed, actor_id="UALICE", workspace_admin=False,
                                now=MONDAY_9)

    assert refused.value.phrase.key == "digests.bad_time"


def test_only_managers_may_change_the_digest_time(database):
    team = make_team(database)

    with database.transaction() as session, pytest.raises(Refusal) as refused:
        digests.set_digest_time(session, session.merge(team), "08:00", actor_id="UCAROL", workspace_admin=False,
                                now=MONDAY_9)

    assert refused.value.phrase.key == "teams.only_managers_may"


# --- once, and catching up ---------------------------------------------------------------------------
def test_a_digest_is_posted_once_however_often_the_clock_sweeps(bot):
    make_team(bot.db)

    first = run_clock(bot, MONDAY_9)
    again = [m for minute in range(1, 90, 7) for m in run_clock(bot, MONDAY_9 + timedelta(minutes=minute))]

    assert sorted(digest_kind(m) for m in first) == ["daily", "weekly"]
    assert again == []


def test_a_clock_down_at_nine_posts_the_missed_daily_digest_when_less_than_six_hours_late(bot):
    make_team(bot.db)

    posted = run_clock(bot, datetime(2026, 3, 10, 14, 59, tzinfo=UTC))  # Tuesday, 5 h 59 min late

    assert [digest_kind(m) for m in posted] == ["daily"]


def test_a_daily_digest_more_than_six_hours_late_is_skipped_and_the_log_says_so_once(bot, caplog):
    make_team(bot.db)

    with caplog.at_level(logging.WARNING, logger="bot.digests"):
        late = run_clock(bot, datetime(2026, 3, 10, 15, 1, tzinfo=UTC))  # Tuesday, 6 h 1 min late
        later = run_clock(bot, datetime(2026, 3, 10, 16, 0, tzinfo=UTC))

    assert late == [] and later == []
    warnings = [r.getMessage() for r in caplog.records if "skipped the daily digest" in r.getMessage()]
    assert len(warnings) == 1
    assert "Payments" in warnings[0] and "2026-03-10" in warnings[0] and "6.0 h late" in warnings[0]
    with bot.db.transaction() as session:
        runs = {(r.kind, r.period): r.status for r in session.exec(select(DigestRun))}
    assert runs[("daily", "2026-03-10")] == "skipped"
    assert [digest_kind(m) for m in run_clock(bot, datetime(2026, 3, 11, 9, tzinfo=UTC))] == ["daily"]


def test_a_weekly_digest_is_still_worth_posting_the_same_day(bot):
    make_team(bot.db)

    assert sorted(digest_kind(m) for m in run_clock(bot, MONDAY_9 + timedelta(hours=5))) == ["daily", "weekly"]


def test_no_digest_is_due_from_before_the_team_existed(bot):
    from tests.harness import teams as team_harness

    with pytest.MonkeyPatch.context() as patch:  # set the team up on Tuesday at 10:00, after the 09:00 digest
        patch.setattr(team_harness, "SETUP_TIME", datetime(2026, 3, 10, 10, tzinfo=UTC))
        make_team(bot.db)

    assert run_clock(bot, datetime(2026, 3, 10, 10, 5, tzinfo=UTC)) == []
    assert [digest_kind(m) for m in run_clock(bot, datetime(2026, 3, 11, 9, tzinfo=UTC))] == ["daily"]


@both_databases
def test_two_clocks_sweeping_at_once_queue_each_digest_once(database):
    team = make_team(database)
    add_gates(database, team, "unit", MONDAY_9 - timedelta(days=3), runs=4, passed=3)
    second = Database(database.url)  # another clock process: its own engine and connections
    barrier = threading.Barrier(2)
    outcomes = []

    def sweep(db):
        barrier.wait()
        outcomes.extend(digests.post_due(db, now=MONDAY_9))

    threads = [threading.Thread(target=sweep, args=(db,)) for db in (database, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    second.dispose()

    with database.transaction() as session:
        keys = sorted(m.key for m in outbox.messages(session, "T0TEST", key_prefix="digest:"))
        runs = session.exec(select(DigestRun)).all()
    assert keys == [f"digest:{team.id}:daily:2026-03-09", f"digest:{team.id}:daily:2026-03-09:table",
                    f"digest:{team.id}:weekly:2026-W10", f"digest:{team.id}:weekly:2026-W10:chart",
                    f"digest:{team.id}:weekly:2026-W10:table"]
    assert len(runs) == 2 and sorted(o.kind for o in outcomes) == ["daily", "weekly"]


# --- what it says ----------------------------------------------------------------------------------
def seed_two_weeks(db, team):
    tuesday, last_tuesday = datetime(2026, 3, 3, 10, tzinfo=UTC), datetime(2026, 2, 24, 10, tzinfo=UTC)
    add_checks(db, team, "dor", *[(tuesday, n < 7, None if n < 7 else "requirements", 20) for n in range(10)])
    add_checks(db, team, "dor", *[(last_tuesday, n < 2, None if n < 2 else "other", None) for n in range(4)])
    add_gates(db, team, "unit", tuesday, runs=20, passed=19)
    add_gates(db, team, "coverage", tuesday, runs=2, passed=2, values=(84, 86))
    add_defects(db, team, tuesday, production=1, before_release=39)


def test_the_weekly_digest_shows_the_week_against_the_one_before_with_arrows_deltas_and_actions(bot):
    team = make_team(bot.db, digest="digest")
    seed_two_weeks(bot.db, team)

    weekly = next(m for m in run_clock(bot, MONDAY_9) if digest_kind(m) == "weekly")

    text = blocks_text(weekly)
    assert "Week 10: Mon 2 Mar – Sun 8 Mar 2026" in text
    assert "⚠️ *DoR pass rate*: 70 % · target > 90 % · ↑ +20 pts vs 50 % (better)" in text
    assert "⚠️ *Unit tests*: 95 % · target > 95 %" in text
    assert "✅ *Code coverage*: 85 % · target > 80 %" in text
    assert "✅ *Defect escape rate*: 2.5 % · target < 3 %" in text
    assert "• Incomplete requirements: 100 % (3)" in text
    assert "Schedule a requirements writing workshop: DoR pass rate is 70 % against > 90 %" in text
    assert "Investigate the unit tests failures" in text


def test_the_weekly_chart_is_uploaded_as_a_png_after_the_digest_with_the_external_upload_api(bot, slack):
    team = make_team(bot.db, digest="digest")
    seed_two_weeks(bot.db, team)
    slack.reset_calls()

    run_clock(bot, MONDAY_9)

    methods = [c.method for c in slack.calls if c.method != "chat.postMessage" or "Weekly" in c.args["text"]]
    # the short weekly message, its table in the thread, then the chart
    assert methods == ["chat.postMessage", "chat.postMessage", "files.getUploadURLExternal", "upload",
                       "files.completeUploadExternal"]
    complete = slack.calls_to("files.completeUploadExternal")[0]
    assert complete.args["channel_id"] == "CDIGEST"
    assert complete.args["files"][0]["title"] == "Payments: quality KPIs over the last 8 weeks"
    upload = slack.calls_to("files.getUploadURLExternal")[0].args
    assert upload["filename"] == "qms-kpis-2026-W10.png" and upload["alt_txt"]
    png = next(iter(slack.files.values()))["data"]
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    assert slack.posted("CDIGEST")[-1]["files"][0]["name"] == "qms-kpis-2026-W10.png"


def test_a_week_without_data_gets_its_digest_but_no_chart(bot, slack):
    make_team(bot.db)

    run_clock(bot, MONDAY_9)

    assert slack.calls_to("files.getUploadURLExternal") == []
    weekly = next(m for m in slack.posted() if digest_kind(m) == "weekly" and m.get("thread_ts"))  # its table
    assert "No checks, gate results or defects came in this week" in blocks_text(weekly)
    assert "record checks with `/qms dor`" in blocks_text(weekly)


def test_the_daily_digest_reports_the_days_since_the_previous_working_day_against_targets(bot):
    team = make_team(bot.db)
    add_checks(bot.db, team, "dod", (datetime(2026, 3, 5, 12, tzinfo=UTC), False, "tests", None),  # Thursday: before
               (datetime(2026, 3, 6, 12, tzinfo=UTC), True, None, None),  # Friday
               (datetime(2026, 3, 7, 12, tzinfo=UTC), False, "documentation", None),  # Saturday
               (datetime(2026, 3, 8, 23, 59, tzinfo=UTC), True, None, None))  # Sunday night

    daily = next(m for m in run_clock(bot, MONDAY_9) if digest_kind(m) == "daily")

    text = blocks_text(daily)
    assert "Friday 6 March to Sunday 8 March" in text
    assert "⚠️ *DoD success*: 66.7 % · target > 95 %" in text
    assert "No data for: DoR pass rate" in text
    assert "Go through the DoD failures with QA" in text


# --- sections from other domains, and the actions they call for -------------------------------------
def figure(key, value, target=None):
    kpi = BY_KEY[key]
    return metrics.Figure(kpi=kpi, value=value, target=kpi.default if target is None else target, samples=1)


def digest_with(figures, **sections) -> digests.Digest:
    start = datetime(2026, 3, 2, tzinfo=UTC)
    report = metrics.Report(team_id=1, team_name="Payments", timezone="UTC", start=start,
                            end=start + timedelta(days=7), previous_start=start - timedelta(days=7), figures=figures,
                            gates=[], dor_reasons=[metrics.ReasonShare("acceptance_criteria", 3, 75.0)],
                            dod_reasons=[], counts={"dor_checks": 4, "dod_checks": 0, "gate_runs": 0, "defects": 5,
                                                    "escaped": 1})
    digest = digests.Digest(kind="weekly", period="2026-W10", team_id=1, team_name="Payments", timezone="UTC",
                            report=report, **sections)
    digest.actions = digests.action_items(digest)
    return digest


def test_action_items_follow_the_figures_most_pressing_first():
    digest = digest_with(
        [figure("dor_pass_rate", 75.0), figure("defect_escape_rate", 20.0), figure("coverage", 90.0)],
        incidents=digests.IncidentSection(open_by_level={1: 2, 3: 1}, declared=3, resolved=1,
                                          mean_hours_to_resolve=30.0),
        reviews=digests.ReviewSection(done=12, mean_hours=7.5, median_hours=5.0, quality=8.2, stalled=2,
                                      utilization=[("UEVE", 95.0), ("UBOB", 60.0)]),
        risks=digests.RiskSection(opened=2, closed=1, top=[digests.RiskLine("QR-001", "Auth vulnerability", 20,
                                                                            "critical", "UCAROL")]))

    assert [p.key for p in digest.actions] == [
        "digests.action_escalated_incidents", "digests.action_critical_risk", "digests.action_update_dor_checklist",
        "digests.action_escaped_defects", "digests.action_stalled_reviews", "digests.action_rebalance_reviewer"]
    assert "Check the mitigation of critical risk QR-001 (score 20) with <@UCAROL>." in blocks_text(
        digests.message(digest))  # every action item renders as a sentence


def test_figures_on_target_call_for_no_action_and_no_data_calls_for_data():
    assert digest_with([figure("dor_pass_rate", 95.0)]).actions == []

    empty = digest_with([])
    empty.report.counts = dict.fromkeys(empty.report.counts, 0)

    assert [p.key for p in digests.action_items(empty)] == ["digests.action_no_data"]


def test_reviews_figures_when_present_become_the_review_kpis_and_their_section():
    reviews = digests.ReviewSection(done=12, mean_hours=7.5, median_hours=5.0, quality=8.2, stalled=0,
                                    utilization=[("UEVE", 78.0)], previous_mean_hours=4.0, previous_quality=8.5,
                                    requested=9, ratings=10, team_utilization=64.0)

    values = digests.review_kpis(reviews)
    digest = digest_with([figure("review_time_hours", 7.5)], reviews=reviews)
    text = blocks_text(digests.message(digest))

    # Review time rests on the 12 reviews done; quality on the 10 of them that were rated.
    assert values == {"review_time_hours": (7.5, 4.0, 12), "review_quality": (8.2, 8.5, 10)}
    assert "*Reviews*: 9 requested, 12 done · 7.5 h mean, 5 h median (working hours) · quality 8.2/10" in text
    assert ("Reviewer utilization over the period (open reviews ÷ capacity, averaged; target 70–85 %): team 64 % · "
            "<@UEVE> 78 %") in text
    assert [p.key for p in digest.actions] == ["digests.action_review_time"]


def test_sections_that_are_absent_are_not_rendered():
    text = blocks_text(digests.message(digest_with([figure("dor_pass_rate", 95.0)])))

    assert "*Reviews*" not in text and "*Incidents*" not in text and "*Risks*" not in text


# --- the chart never stops a digest -------------------------------------------------------------------
@pytest.mark.parametrize("name", ["FinOps $$ team", "Billing $_$", r"Ops \$x^$ 50%"])
def test_a_team_name_with_dollar_signs_is_drawn_as_written_not_as_tex(bot, slack, name):
    team = make_team(bot.db, name, digest="digest")
    seed_two_weeks(bot.db, team)

    posted = run_clock(bot, MONDAY_9)

    assert [digest_kind(m) for m in posted if m.get("blocks")] == ["daily", "weekly"]
    complete = slack.calls_to("files.completeUploadExternal")
    assert complete and complete[0].args["files"][0]["title"] == f"{name}: quality KPIs over the last 8 weeks"
    assert "The chart of the last 8 weeks follows" in blocks_text(posted[1])


def test_a_chart_that_cannot_be_drawn_leaves_the_digest_posted_without_it_and_logged(bot, slack, caplog,
                                                                                     monkeypatch):
    from matplotlib.figure import Figure

    def broken(*args, **kwargs):
        raise RuntimeError("the font cache is gone")

    monkeypatch.setattr(Figure, "savefig", broken)  # matplotlib failing, for any reason of its own
    team = make_team(bot.db, digest="digest")
    seed_two_weeks(bot.db, team)

    with caplog.at_level(logging.ERROR, logger="bot.digests"):
        posted = run_clock(bot, MONDAY_9)

    weekly = next(m for m in posted if digest_kind(m) == "weekly")
    assert "Week 10: Mon 2 Mar – Sun 8 Mar 2026" in blocks_text(weekly)
    assert "chart" not in blocks_text(weekly)  # it does not promise one
    assert slack.calls_to("files.getUploadURLExternal") == []
    assert "could not draw the chart of the weekly digest of Payments for 2026-W10" in caplog.text
    assert "the font cache is gone" in caplog.text
    assert run_clock(bot, MONDAY_9 + timedelta(minutes=1)) == []  # posted once, not retried every minute


def test_the_weekly_digest_carries_the_risk_heat_map_when_risks_are_open(database):
    team = make_team(database)
    add_gates(database, team, "unit", MONDAY_9 - timedelta(days=3), runs=4, passed=3)
    log_risk(database, team, "Card vault", 5, 4, owner="UALICE", now="2026-03-04 10:00")
    digests.post_due(database, now=MONDAY_9)
    with database.transaction() as session:
        rows = {m.key: m for m in outbox.messages(session, "T0TEST", key_prefix=f"digest:{team.id}:weekly")}
    heat = rows[f"digest:{team.id}:weekly:2026-W10:heatmap"]
    assert heat.payload["filename"].endswith(".png") and "1 open risk" in heat.payload["title"]
