"""End to end: Monday's daily and weekly digests of a team with reviews, incidents and risks, posted
by the clock at 09:00 through the outbox to the real Slack stand-in, with the chart uploaded after."""

import pytest
from freezegun import freeze_time

from app import clock
from bot.core.render import MESSAGE_BLOCKS_MAX
from tests.harness.bot import blocks_text
from tests.harness.metrics import a_fortnight, add_checks, at
from tests.harness.teams import make_team

DIGEST_JOB = next(job for job in clock.JOBS if job.id == "digests.post")


@pytest.fixture
def monday(bot, slack):
    """The fortnight's team, with four DoR checks on Friday (three passed), and the digests the clock
    posts on Monday 9 March 2026 at 09:00 (the wall clock frozen there, as the clock process reads it)."""
    team = make_team(bot.db, digest="digest")
    a_fortnight(bot.db, team)
    add_checks(bot.db, team, "dor", *[(at("2026-03-06 11:00"), n < 3, None if n < 3 else "requirements", 10)
                                      for n in range(4)])
    bot.services.deliver_outbox()  # the cards and DMs of the fortnight, so only the digests are left
    bot.wait()
    slack.reset_calls()
    with freeze_time("2026-03-09 09:00:00"):
        clock.run_job(bot.services, DIGEST_JOB, now=at("2026-03-09 09:00"))
    posted = slack.posted("CDIGEST")
    # each digest leads with a short message; its full table is the reply in its thread
    return {("weekly" if m["text"].startswith("Weekly") else "daily") + ("" if m.get("thread_ts") else "_lead"): m
            for m in posted if m.get("blocks")}


def lines(message):
    return blocks_text(message).splitlines()


def test_the_daily_digest_names_open_incidents_by_level_stalled_reviews_and_the_top_risks(monday):
    daily = lines(monday["daily"])  # INC-003 (72 h open) escalates to Level 3 before the digest summarises it

    assert "Friday 6 March to Sunday 8 March, against the team's targets" in daily
    assert "⚠️ *DoR pass rate*: 75 % · target > 90 %" in daily
    assert ("*Incidents*: 2 open — Level 3 · Executive decision: 1 · Level 1 · Team resolution: 1 · 2 declared, "
            "0 resolved, 1 escalated") in daily
    assert ("• *INC-003* Checkout is down for EU cards — SEV1 · Level 3 · open 3 d · commander <@UALICE> · "
            "<#CPAYMENTS>") in daily
    assert "• *INC-004* Refund emails delayed — SEV3 · Level 1 · open 13 h · commander <@UBOB> · <#CPAYMENTS>" in daily
    assert "*Reviews*: 1 requested, 0 done · 1 stalled now ⚠️" in daily
    assert ("• <https://git.example.com/pay/4|CR-004> Backend/API — 16 h open (working hours) · with <@UEVE>, "
            "<@UIVY>") in daily
    assert "*Risks*: 3 open (1 critical, 2 high) · 0 opened, 1 closed since Friday" in daily
    top = daily.index("Top risks by score:")
    assert daily[top + 1:top + 4] == [
        "• *QR-003* Card data stored in logs — score 20 (critical) · <@UALICE>",
        "• *QR-001* Security vulnerability in authentication system — score 12 (high) · <@UCAROL>",
        "• *QR-002* Code review bottleneck during peak development — score 12 (high) · <@UBOB>"]
    actions = daily[daily.index("*Action items*") + 1:-1]
    assert actions == [
        "• 1 open incident is at escalation Level 3 (executive): make sure each has an owner and a next "
        "update.",
        "• Check the mitigation of critical risk QR-003 (score 20) with <@UALICE>.",
        "• Schedule a requirements writing workshop: DoR pass rate is 75 % against > 90 %, mostly for incomplete "
        "requirements.",
        "• Unblock 1 stalled review: reassign or pair up."]
    # Friday to Sunday, 72 hours, ivy had CR-004 open all of it and CR-005 for 56 h (88.9 % of 2 × 72): an
    # average over a weekend is no measure of a load, so only the weekly digest suggests a rebalance.
    assert not any("Rebalance" in line or "utilization" in line for line in daily)


def test_the_weekly_digest_has_review_kpis_utilization_risks_opened_and_closed_and_incident_resolve_times(monday):
    weekly = lines(monday["weekly"])

    assert "⚠️ *Review time*: 6.5 h · target < 6 h · ↑ +3.5 h vs 3 h (worse)" in weekly
    assert "⚠️ *Review quality*: 8.0/10 · target > 8.0/10 · ↓ −1.5/10 vs 9.5/10 (worse)" in weekly
    assert ("*Reviews*: 4 requested, 2 done · 6.5 h mean, 6.5 h median (working hours) · quality 8.0/10 · "
            "1 stalled now ⚠️") in weekly
    assert "1 went past the target this week." in weekly
    # 324 of 1,176 capacity-hours; ivy 147 of 336, eve 115 of 504, frank 62 of 336: all under the 70 % band.
    assert ("Reviewer utilization over the period (open reviews ÷ capacity, averaged; target 70–85 %): "
            "team 27.6 % · <@UIVY> 43.8 % ⚠️, <@UEVE> 22.8 % ⚠️, "
            "<@UFRANK> 18.5 % ⚠️") in weekly
    assert ("*Incidents*: 2 open — Level 3 · Executive decision: 1 · Level 1 · Team resolution: 1 · 4 declared, "
            "2 resolved, 2 escalated · 15.8 h mean time to resolve") in weekly
    resolved = weekly.index("Resolved, and the time each took:")
    assert weekly[resolved + 1:resolved + 3] == [
        "• *INC-001* Payment gateway timeouts — SEV2 · Level 1 · resolved in 5.5 h",
        "• *INC-002* Expired certificate on api.acme.com — SEV1 · Level 2 · resolved in 1 d 2 h"]
    assert "*Risks*: 3 open (1 critical, 2 high) · 3 opened, 1 closed this week" in weekly
    assert "• Speed up code reviews: they take 6.5 h against < 6 h (working hours); check reviewer load." in weekly
    assert "• Review quality is 8.0/10 against > 8.0/10: revisit the review checklist with the reviewers." in weekly


def test_the_monday_digests_go_out_once_within_slacks_limits_with_the_chart_uploaded_after_the_weekly(bot, slack,
                                                                                                      monday):
    methods = [c.method for c in slack.calls]

    assert set(monday) == {"daily", "weekly", "daily_lead", "weekly_lead"}
    for message in monday.values():
        assert len(message["blocks"]) <= MESSAGE_BLOCKS_MAX
        assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in message["blocks"])
    weekly_at = next(i for i, c in enumerate(slack.calls) if c.method == "chat.postMessage"
                     and c.args["text"].startswith("Weekly") and c.args.get("thread_ts"))
    assert methods[weekly_at + 1:weekly_at + 4] == ["files.getUploadURLExternal", "upload",
                                                    "files.completeUploadExternal"]
    assert slack.calls_to("files.completeUploadExternal")[0].args["channel_id"] == "CDIGEST"
    png = next(iter(slack.files.values()))["data"]
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    clock.run_job(bot.services, DIGEST_JOB, now=at("2026-03-09 09:05"))
    assert len(slack.posted("CDIGEST")) == 6  # the two digests, their tables, the KPI chart and the risk heat map, once
    assert sorted(f["name"] for f in slack.files.values())[-1].startswith("risk-heat-map-")


def test_each_digest_leads_with_what_needs_someone_today_in_at_most_twelve_lines_and_the_table_in_its_thread(
        monday):
    for kind in ("daily", "weekly"):
        lead, table = monday[f"{kind}_lead"], monday[kind]
        shown = lines(lead)
        assert len(shown) <= 12, shown
        assert "*Needs someone today*" in shown
        assert "• 1 open incident is at escalation Level 3 (executive): make sure each has an owner and a next " \
               "update." in shown
        assert "• Unblock 1 stalled review: reassign or pair up." in shown
        assert "2 open incidents · 1 stalled review · 3 open risks · the full table in the thread" in shown[-1]
        assert table["thread_ts"] == lead["ts"]
        assert "*Action items*" in lines(table) and len(lines(table)) > 12
