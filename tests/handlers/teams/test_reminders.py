"""A person's reminders through the real app: "Remind me later" under every reminder (reviews, stalled
reviews, risk reviews, post-incident reviews), one message per person and kind per sweep for every
kind, and a person's own quiet hours (`/qms settings quiet`) — which an incident's escalation ignores."""

from datetime import date

from freezegun import freeze_time
from slack_sdk.models.views import View
from sqlmodel import select

from app import clock
from bot import incidents, risks
from bot.risks import RiskForm
from storage import outbox
from storage.audit import AuditEvent
from storage.held import HeldMessage
from tests.handlers.reviews.test_clock import at, reminders, stalled_pings, tick
from tests.handlers.reviews.test_reviews import buttons, dms, file, matrix, press_in_dm
from tests.harness.bot import blocks_text
from tests.harness.teams import make_team

JOBS = {job.id: job for job in clock.JOBS}


def run(bot, job_id, when):
    with freeze_time(when):
        clock.run_job(bot.services, JOBS[job_id], now=at(when))


def press_later(bot, slack, person, choice, when, *, message=None, user=None):
    """Press "Remind me later" (`choice`: 1h, 4h, morning, pick) under the last reminder `person` got."""
    action = f"remind_later_{choice}"
    message = message or [m for m in dms(slack, person) if action in buttons(m)][-1]
    with freeze_time(when):
        return bot.press(action, value=buttons(message)[action], user=user or person, message=message,
                         channel=message["channel"])


def held_items(db):
    with db.transaction() as session:
        return list(session.exec(select(HeldMessage).order_by(HeldMessage.id)))


# --- Remind me later ------------------------------------------------------------------------------------
def test_a_reminder_put_off_by_an_hour_comes_back_then_once_and_the_person_is_told(bot, slack):
    matrix(bot.db)
    with freeze_time("2026-03-02 10:00:00"):  # Monday
        file(bot)
    tick(bot, "2026-03-02 12:00:00")
    [first] = reminders(slack, "eve")
    assert set(buttons(first)) >= {"remind_later_1h", "remind_later_4h", "remind_later_morning", "review_accept"}

    reply = press_later(bot, slack, "eve", "1h", "2026-03-02 12:05:00")
    press_later(bot, slack, "eve", "1h", "2026-03-02 12:06:00", message=first)  # a second press on the same message
    for when in ("2026-03-02 12:30:00", "2026-03-02 13:05:00"):
        tick(bot, when)
    quiet = len(reminders(slack, "eve"))
    tick(bot, "2026-03-02 13:06:00")
    tick(bot, "2026-03-02 13:30:00")

    assert reply.status == 200
    answer = bot.responses()[-1]
    assert answer["response_type"] == "ephemeral" and "I'll remind you" in answer["text"]
    assert quiet == 1
    again = reminders(slack, "eve")
    assert len(again) == 2 and again[1]["text"] == first["text"]  # the same reminder, once, at 13:06
    assert "remind_later_4h" in buttons(again[1])  # and it can be put off again
    with bot.db.transaction() as session:
        keys = [m.key for m in outbox.messages(session, "T0TEST", key_prefix="review:1:nudge:accept")]
        snoozed = session.exec(select(AuditEvent).where(AuditEvent.action == "snoozed")).all()
    assert len(keys) == 3 and len([k for k in keys if ":later:" in k]) == 1  # eve's and frank's, and eve's later
    assert len(snoozed) == 2


def test_a_grouped_stalled_notice_put_off_until_the_next_working_morning_comes_back_whole_at_09_00(bot, slack):
    matrix(bot.db)
    with freeze_time("2026-03-02 10:00:00"):
        for number in range(3):
            file(bot, f"https://github.com/acme/payments/pull/{number} Backend/API")
    tick(bot, "2026-03-02 16:00:00")
    [grouped] = stalled_pings(slack, "alice")
    assert "3 reviews in your team are stalled" in grouped["text"]
    assert str(grouped["blocks"]).count("remind_later_morning") == 1  # one control for the whole message

    press_later(bot, slack, "alice", "morning", "2026-03-02 16:10:00")
    tick(bot, "2026-03-03 08:59:00")
    before = len(stalled_pings(slack, "alice"))
    tick(bot, "2026-03-03 09:00:00")

    assert before == 1
    back = stalled_pings(slack, "alice")
    assert len(back) == 2 and all(f"CR-00{n}" in blocks_text(back[1]) for n in (1, 2, 3))


def test_a_reminder_put_off_is_not_sent_once_what_it_was_about_is_settled(bot, slack):
    matrix(bot.db)
    with freeze_time("2026-03-02 10:00:00"):
        file(bot)
    tick(bot, "2026-03-02 12:00:00")
    press_later(bot, slack, "eve", "1h", "2026-03-02 12:05:00")
    with freeze_time("2026-03-02 12:30:00"):
        press_in_dm(bot, slack, "eve", "review_accept", index=0)  # accepted meanwhile

    tick(bot, "2026-03-02 13:10:00")

    assert len(reminders(slack, "eve")) == 1  # not reminded to accept what she accepted
    [later] = [item for item in held_items(bot.db) if ":later:" in item.key]
    assert later.released_key == "(no longer due)"


def test_someone_else_cannot_put_off_a_persons_reminder(bot, slack):
    matrix(bot.db)
    with freeze_time("2026-03-02 10:00:00"):
        file(bot)
    tick(bot, "2026-03-02 12:00:00")
    before = held_items(bot.db)

    press_later(bot, slack, "eve", "1h", "2026-03-02 12:05:00", user="frank")

    assert "isn't yours" in bot.responses()[-1]["text"]
    assert len(held_items(bot.db)) == len(before)


# --- Pick a time… ------------------------------------------------------------------------------------
def pick(bot, slack, person, when, *, user=None):
    """Press "Pick a time…" under `person`'s last reminder at `when`; the modal it opened, if any."""
    opened = len(slack.calls_to("views.open"))
    press_later(bot, slack, person, "pick", when, user=user)
    views = slack.calls_to("views.open")[opened:]
    return views[-1].response["view"] if views else None


def submit_pick(bot, view, day, time, when, *, user="eve"):
    with freeze_time(when):
        return bot.submit(view, {"date": day, "time": time}, user=user).json


def snoozes(db):
    with db.transaction() as session:
        return session.exec(select(AuditEvent).where(AuditEvent.action == "snoozed")).all()


def test_a_reminder_put_off_until_a_picked_time_comes_back_then_once_read_in_the_persons_time_zone(bot, slack):
    matrix(bot.db)
    bot.command("settings quiet 22:00-06:00 Europe/Berlin", user="eve")  # her own zone: picked times are read in it
    with freeze_time("2026-03-02 10:00:00"):  # Monday
        file(bot)
    tick(bot, "2026-03-02 12:00:00")
    [first] = reminders(slack, "eve")
    assert "remind_later_pick" in buttons(first)

    view = pick(bot, slack, "eve", "2026-03-02 12:05:00")
    View(**view).to_dict()  # within Slack's limits, as Slack would take it
    [day, at] = [block["element"] for block in view["blocks"] if block["type"] == "input"]
    assert (day["type"], at["type"], at["timezone"]) == ("datepicker", "timepicker", "Europe/Berlin")
    assert (day["initial_date"], at["initial_time"]) == ("2026-03-03", "13:00")  # this hour tomorrow, in Berlin
    answer = submit_pick(bot, view, "2026-03-02", "15:30", "2026-03-02 12:06:00")  # 14:30 UTC
    for when in ("2026-03-02 13:00:00", "2026-03-02 14:29:00"):
        tick(bot, when)
    before = len(reminders(slack, "eve"))
    tick(bot, "2026-03-02 14:30:00")
    tick(bot, "2026-03-02 15:30:00")

    assert answer in ({}, None) or "errors" not in answer
    [told] = slack.calls_to("chat.postEphemeral")[-1:]
    assert told.args["user"] == "UEVE" and "I'll remind you" in told.args["text"]
    assert before == 1
    again = reminders(slack, "eve")
    assert len(again) == 2 and again[1]["text"] == first["text"]  # back at 14:30 UTC, once
    [audited] = snoozes(bot.db)
    assert audited.after["choice"] == "pick" and audited.after["until"].startswith("2026-03-02T14:30:00")


def test_a_picked_time_in_the_past_too_far_ahead_or_missing_is_refused_under_its_field_and_changes_nothing(bot, slack):
    matrix(bot.db)
    with freeze_time("2026-03-02 10:00:00"):
        file(bot)
    tick(bot, "2026-03-02 12:00:00")
    view = pick(bot, slack, "eve", "2026-03-02 12:05:00")
    before = [(item.key, item.not_before) for item in held_items(bot.db)]

    past = submit_pick(bot, view, "2026-03-02", "11:00", "2026-03-02 12:06:00")  # the team's zone: UTC
    yesterday = submit_pick(bot, view, "2026-03-01", "15:00", "2026-03-02 12:06:00")
    far = submit_pick(bot, view, "2026-04-15", "09:00", "2026-03-02 12:06:00")
    missing = submit_pick(bot, view, None, None, "2026-03-02 12:06:00")
    tick(bot, "2026-03-02 12:30:00")

    assert past["response_action"] == "errors" and "has passed" in past["errors"]["time"]
    assert "has passed" in yesterday["errors"]["date"]
    assert "more than 30 days ahead" in far["errors"]["date"]
    assert missing["errors"] == {"date": "Pick a day.", "time": "Pick a time."}
    assert [(item.key, item.not_before) for item in held_items(bot.db)] == before
    assert snoozes(bot.db) == [] and slack.calls_to("chat.postEphemeral") == []
    assert len(reminders(slack, "eve")) == 1


def test_someone_else_cannot_pick_a_time_for_a_persons_reminder(bot, slack):
    matrix(bot.db)
    with freeze_time("2026-03-02 10:00:00"):
        file(bot)
    tick(bot, "2026-03-02 12:00:00")
    view = pick(bot, slack, "eve", "2026-03-02 12:05:00")
    before = held_items(bot.db)

    opened = pick(bot, slack, "eve", "2026-03-02 12:06:00", user="frank")
    forged = submit_pick(bot, view, "2026-03-02", "15:00", "2026-03-02 12:07:00", user="frank")

    assert opened is None and "isn't yours" in bot.responses()[-1]["text"]
    assert forged["response_action"] == "update" and "isn't yours" in str(forged["view"])
    assert len(held_items(bot.db)) == len(before) and snoozes(bot.db) == []


# --- grouping beyond reviews -------------------------------------------------------------------------------
def log_risk(bot, team, title, review_by):
    form = RiskForm(title=title, probability="3", impact="4", owner_id="UBOB", category="technical",
                    review_by=review_by)
    with bot.db.transaction() as session:
        return risks.log_risk(session, session.merge(team), form, actor_id="UALICE",
                              now=at("2026-03-02 10:00:00")).risk


def test_an_owner_with_several_risks_due_gets_one_reminder_with_remind_me_later(bot, slack):
    team = make_team(bot.db)
    for title in ("Login outage", "Card data leak", "Vendor lock-in"):
        log_risk(bot, team, title, date(2026, 3, 4))

    run(bot, "risks.review_reminders", "2026-03-04 09:00:00")
    run(bot, "risks.review_reminders", "2026-03-04 09:10:00")

    [told] = [m for m in dms(slack, "bob") if "due for review" in m["text"]]
    assert told["text"].startswith("3 of your risks are due for review")
    assert all(title in blocks_text(told) for title in ("Login outage", "Card data leak", "Vendor lock-in"))
    assert "remind_later_1h" in buttons(told)
    assert len({item.key for item in held_items(bot.db)}) == 3  # each risk's own key, once


def test_a_commander_with_several_post_incident_reviews_due_gets_one_reminder(bot, slack):
    team = make_team(bot.db)
    for title in ("Checkout fails", "Search is slow"):
        form = incidents.IncidentForm(title=title, severity="SEV2", commander_id="UDAVE")
        with bot.db.transaction() as session:
            found = incidents.declare(session, session.merge(team), form, actor_id="UDAVE",
                                      now=at("2026-03-02 09:00:00"))
            incidents.resolve(session, "T0TEST", found.id, summary="Fixed", actor_id="UDAVE", workspace_admin=False,
                              now=at("2026-03-02 10:00:00"), review_days=1)

    run(bot, "incidents.review_reminders", "2026-03-03 10:05:00")

    [told] = [m for m in dms(slack, "dave") if "post-incident reviews are due" in m["text"]]
    assert "2 post-incident reviews are due" in told["text"] and "remind_later_4h" in buttons(told)


# --- quiet hours -------------------------------------------------------------------------------------------
def test_quiet_hours_are_set_shown_and_refused_when_unreadable(bot):
    make_team(bot.db)

    shown = bot.command("settings", user="eve").json
    saved = bot.command("settings quiet 18:00-09:00 Europe/Berlin", user="eve").json
    bad = bot.command("settings quiet late", user="eve").json
    zone = bot.command("settings quiet 18:00-09:00 Mars/Olympus", user="eve").json
    again = bot.command("settings quiet 18:00-09:00 Europe/Berlin", user="eve").json
    cleared = bot.command("settings quiet off", user="eve").json

    assert "no quiet hours of your own" in shown["text"]
    assert saved["text"].startswith("Saved. Your quiet hours are 18:00-09:00 (Europe/Berlin)")
    assert "Escalation pings of an incident still reach you" in blocks_text(saved)
    assert "couldn't read `late` as quiet hours" in bad["text"]
    assert "not a time zone I know" in zone["text"]
    assert "18:00-09:00" in again["text"] and "no quiet hours" in cleared["text"]
    with bot.db.transaction() as session:  # the same value again is no change
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "quiet_hours_set")).all()) == 2


def test_a_reminder_in_a_persons_quiet_hours_waits_until_they_end(bot, slack):
    matrix(bot.db)
    bot.command("settings quiet 11:30-14:00 UTC", user="eve")
    with freeze_time("2026-03-02 10:00:00"):
        file(bot)

    tick(bot, "2026-03-02 12:00:00")
    tick(bot, "2026-03-02 13:59:00")
    during = (len(reminders(slack, "eve")), len(reminders(slack, "frank")))
    tick(bot, "2026-03-02 14:00:00")

    assert during == (0, 1)  # frank has no quiet hours
    assert len(reminders(slack, "eve")) == 1
    assert "`/qms settings`" not in str(reminders(slack, "eve")[0])


def test_an_escalation_ping_reaches_its_level_owner_in_their_quiet_hours(bot, slack):
    team = make_team(bot.db)
    bot.command("settings quiet 00:00-23:59 UTC", user="bob")  # the engineering manager, Level 2
    form = incidents.IncidentForm(title="Checkout fails", severity="SEV1", commander_id="UDAVE")
    with bot.db.transaction() as session:
        incidents.declare(session, session.merge(team), form, actor_id="UDAVE", now=at("2026-03-02 09:00:00"))

    run(bot, "incidents.escalate", "2026-03-03 09:01:00")

    assert any("Level 2" in m["text"] for m in dms(slack, "bob"))
    assert [item.not_before for item in held_items(bot.db) if item.kind == "escalation"] == [None]


def test_two_incidents_escalating_in_one_sweep_reach_a_level_owner_as_one_dm_and_the_channel_per_incident(bot, slack):
    team = make_team(bot.db)
    for title in ("Checkout fails", "Refunds fail"):
        form = incidents.IncidentForm(title=title, severity="SEV1", commander_id="UDAVE")
        with bot.db.transaction() as session:
            incidents.declare(session, session.merge(team), form, actor_id="UDAVE", now=at("2026-03-02 09:00:00"))

    run(bot, "incidents.escalate", "2026-03-03 09:01:00")

    [to_bob] = dms(slack, "bob")
    assert to_bob["text"].startswith("2 incidents have escalated to you")
    assert "INC-001" in blocks_text(to_bob) and "INC-002" in blocks_text(to_bob)
    assert "remind_later_1h" not in buttons(to_bob)  # an escalation is not put off
    assert len([m for m in slack.posted("CPAYMENTS") if "at Level 2" in m["text"]]) == 2


def test_a_reminder_waits_as_long_as_the_quiet_hours_even_over_midnight(bot, slack):
    matrix(bot.db)
    bot.command("settings quiet 12:00-10:30 UTC", user="eve")  # over midnight
    with freeze_time("2026-03-02 10:00:00"):
        file(bot)

    tick(bot, "2026-03-02 12:00:00")
    tick(bot, "2026-03-03 10:29:00")
    during = len(reminders(slack, "eve"))
    tick(bot, "2026-03-03 10:30:00")

    assert (during, len(reminders(slack, "eve"))) == (0, 1)


def test_help_tells_of_remind_me_later_quiet_hours_and_the_short_metrics(bot):
    make_team(bot.db)

    help_text = bot.command("help").text
    typo = bot.command("setings quiet 18:00-09:00").json["text"]
    usage = bot.command("settings help").json["text"]
    wrong = bot.command("settings loud").json["text"]

    assert "*Remind me later*" in help_text and "*Pick a time…*" in help_text and "`/qms settings quiet 18:00-09:00 [Europe/Berlin]`" in help_text
    assert "an incident's escalation still reaches you" in help_text
    assert "leads with what needs someone today; *Show all metrics*" in help_text
    assert "Did you mean `/qms settings`?" in typo and "keeps your reminders back" in typo
    assert usage == wrong and "incident escalations don't" in usage
