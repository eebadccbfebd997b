"""The escalation matrix running by itself: the clock moves an unresolved incident from the team
leads (Level 1) to the engineering managers at 24 h (Level 2) and the executives at 48 h (Level 3),
pinging each level once, through rate limits, downtime and crashes. Time is frozen, never waited for."""

import json
from datetime import UTC, datetime, timedelta

from freezegun import freeze_time
from sqlmodel import select

from app import clock
from app.services import build_runtime
from bot import incidents
from storage import incidents as store
from storage import outbox
from storage.audit import AuditEvent
from tests.harness.bot import blocks_text
from tests.harness.teams import make_team

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def declare(bot, title="Checkout fails for card payments", *, user="dave", severity="SEV1"):
    bot.command("incident", user=user, channel="payments")
    bot.submit(bot.last_view(), {"title": title, "severity": severity, "commander": user}, user=user)


def sweep_at(bot, frozen, moment):
    """The clock's sweep at `moment`, with the wall clock there too."""
    frozen.move_to(moment)
    sweep_incidents(bot.services, now=moment)


def incident(bot, number=1):
    with bot.db.transaction() as session:
        return store.by_number(session, "T0TEST", number)


def pings(slack, level, channel="CPAYMENTS"):
    """Channel messages that ping a level (the escalation pings, not the card)."""
    return [m for m in slack.posted(channel) if not m.get("thread_ts") and f"at Level {level}:" in m["text"]]


def dms(slack, user):
    return slack.posted(user)


def test_an_incident_walks_up_the_matrix_pinging_each_level_once_until_it_is_resolved(bot, slack):
    make_team(bot.db, leads=("alice",), managers=("bob",), executives=("carol",))
    with freeze_time(T0) as frozen:
        declare(bot)
        assert (len(pings(slack, 1)), len(dms(slack, "UALICE"))) == (1, 1)

        sweep_at(bot, frozen, T0 + timedelta(hours=23, minutes=59))
        assert incident(bot).level == 1
        assert pings(slack, 2) == [] and dms(slack, "UBOB") == []

        sweep_at(bot, frozen, T0 + timedelta(hours=24))
        assert incident(bot).level == 2
        assert len(pings(slack, 2)) == 1 and "<@UBOB>" in blocks_text(pings(slack, 2)[0])
        assert len(dms(slack, "UBOB")) == 1
        card = slack.posted("CPAYMENTS")[0]
        assert "Level 2 · Management involvement" in blocks_text(card)

        for hours in (24.02, 30, 47.99):
            sweep_at(bot, frozen, T0 + timedelta(hours=hours))
        assert (len(pings(slack, 2)), len(dms(slack, "UBOB")), pings(slack, 3)) == (1, 1, [])

        sweep_at(bot, frozen, T0 + timedelta(hours=48))
        assert incident(bot).level == 3
        assert len(pings(slack, 3)) == 1 and "<@UCAROL>" in blocks_text(pings(slack, 3)[0])
        assert len(dms(slack, "UCAROL")) == 1
        assert "Level 3 · Executive decision" in blocks_text(slack.posted("CPAYMENTS")[0])

        frozen.move_to(T0 + timedelta(hours=49))
        bot.command("incident resolve INC-001 Gateway certificate renewed", user="alice", channel="payments")
        for hours in (50, 72, 100):
            sweep_at(bot, frozen, T0 + timedelta(hours=hours))

    assert incident(bot).status == "resolved"
    assert [len(pings(slack, level)) for level in (1, 2, 3)] == [1, 1, 1]
    assert [len(dms(slack, user)) for user in ("UALICE", "UBOB", "UCAROL")] == [1, 1, 1]
    resolved = incident(bot)
    with bot.db.transaction() as session:
        escalations = [(e.actor_id, e.data) for e in store.events(session, resolved) if e.kind == "escalated"]
        audited = list(session.exec(select(AuditEvent.action).where(AuditEvent.entity_type == "incident")))
    assert escalations == [("qms-bot", {"from": 1, "to": 2, "automatic": True}),
                           ("qms-bot", {"from": 2, "to": 3, "automatic": True})]
    assert audited == ["declared", "escalated", "escalated", "resolved"]


def test_a_clock_that_was_down_past_48_hours_goes_straight_to_level_3_with_one_combined_ping(bot, slack):
    make_team(bot.db, managers=("bob",), executives=("carol",))
    with freeze_time(T0) as frozen:
        declare(bot)
        sweep_at(bot, frozen, T0 + timedelta(hours=50))  # the first sweep after downtime, at start-up

    combined = [m for m in slack.posted("CPAYMENTS") if "at Level" in m["text"] and "Level 1" not in m["text"]]
    assert len(combined) == 1
    assert "<@UBOB>" in blocks_text(combined[0]) and "<@UCAROL>" in blocks_text(combined[0])
    assert "passed Level 2 (24 h) and Level 3 (48 h)" in blocks_text(combined[0])
    assert (len(dms(slack, "UBOB")), len(dms(slack, "UCAROL"))) == (1, 1)
    assert incident(bot).level == 3
    number = incident(bot).id
    with bot.db.transaction() as session:
        keys = [m.key for m in outbox.messages(session, "T0TEST", key_prefix="escalation:")]
    assert f"escalation:{number}:2" not in keys and f"escalation:{number}:3" in keys


def test_an_escalation_rate_limited_by_slack_is_sent_after_retry_after_exactly_once(bot, slack):
    make_team(bot.db)
    with freeze_time(T0) as frozen:
        declare(bot)
        slack.rate_limit("chat.postMessage", retry_after=30)

        sweep_at(bot, frozen, T0 + timedelta(hours=24))
        assert pings(slack, 2) == []  # Slack said 429
        sweep_at(bot, frozen, T0 + timedelta(hours=24, seconds=29))
        assert pings(slack, 2) == []  # Retry-After is honoured
        sweep_at(bot, frozen, T0 + timedelta(hours=24, seconds=30))

    assert len(pings(slack, 2)) == 1
    key = f"escalation:{incident(bot).id}:2"
    with bot.db.transaction() as session:
        row = next(m for m in outbox.messages(session, "T0TEST") if m.key == key)
    assert (row.status, row.attempts) == ("sent", 1)  # the 429 was waited out, not counted as a failed attempt


def test_an_escalation_committed_before_a_crash_is_sent_by_the_restarted_clock(bot, slack):
    make_team(bot.db)
    with freeze_time(T0):
        declare(bot)

    # The clock commits the escalation, then dies before its sender runs.
    assert incidents.escalate_due(bot.db, now=T0 + timedelta(hours=24)) == 1
    assert pings(slack, 2) == []
    with bot.db.transaction() as session:
        assert outbox.counts_by_status(session)["pending"] > 0

    restarted = build_runtime(bot.settings, db=bot.db)  # a new process: a new sender, the same database
    clock.sweep(restarted, now=T0 + timedelta(hours=24, minutes=1))
    clock.sweep(restarted, now=T0 + timedelta(hours=24, minutes=2))

    assert len(pings(slack, 2)) == 1 and len(dms(slack, "UBOB")) == 1
    assert incident(bot).level == 2


def test_a_sweep_claimed_by_a_clock_that_died_is_sent_once_its_lease_runs_out(bot, slack):
    make_team(bot.db)
    with freeze_time(T0):
        declare(bot)
    incidents.escalate_due(bot.db, now=T0 + timedelta(hours=24))
    with bot.db.transaction() as session:  # the dying clock had claimed the rows, then vanished
        outbox.claim_due(session, now=T0 + timedelta(hours=24), worker="died", lease=timedelta(minutes=2))

    sweep_incidents(bot.services, now=T0 + timedelta(hours=24, minutes=1))
    assert pings(slack, 2) == []
    sweep_incidents(bot.services, now=T0 + timedelta(hours=24, minutes=3))

    assert len(pings(slack, 2)) == 1


def test_resolving_stops_escalation_and_reminds_the_commander_of_the_review_in_working_hours(bot, slack):
    make_team(bot.db)
    with freeze_time(T0) as frozen:
        declare(bot, user="dave")
        frozen.move_to(T0 + timedelta(hours=1))
        bot.command("incident resolve INC-001 Renewed the certificate", user="dave", channel="payments")
        # Five days after Monday 10:00 is Saturday: the reminder waits for Monday 09:00.
        sweep_at(bot, frozen, T0 + timedelta(days=5, hours=1))
        assert dms(slack, "UDAVE") == []
        sweep_at(bot, frozen, T0 + timedelta(days=7))
        sweep_at(bot, frozen, T0 + timedelta(days=7, minutes=5))

    reminders = dms(slack, "UDAVE")
    assert len(reminders) == 1
    assert "Post-incident review due" in blocks_text(reminders[0])
    assert "Post-incident review and analysis" in blocks_text(reminders[0])  # step 6 is still open
    assert pings(slack, 2) == []
    kinds = [e.kind for e in _events(bot)]
    assert kinds == ["declared", "resolved", "review_reminder"]


def test_the_team_can_shorten_the_thresholds_of_a_severity(bot, slack):
    make_team(bot.db)
    bot.command("setup escalation", user="bob", channel="payments")
    view = bot.last_view()
    initial = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"] if b["type"] == "input"}
    saved = bot.submit(view, {"sev1": "4 / 8", "sev2": "24 / 48", "sev3": "24 / 48", "sev4": "72/ 96"}, user="bob")
    with freeze_time(T0) as frozen:
        declare(bot, severity="SEV1")
        declare(bot, "Search is slow", severity="SEV4")
        sweep_at(bot, frozen, T0 + timedelta(hours=4))
        sweep_at(bot, frozen, T0 + timedelta(hours=48))

    assert initial == {"sev1": "24 / 48", "sev2": "24 / 48", "sev3": "24 / 48", "sev4": "24 / 48"}
    assert saved.body == ""
    assert "SEV1 · critical: Level 2 after 4 h, Level 3 after 8 h" in str(slack.calls_to("chat.postEphemeral")[0].args)
    assert (incident(bot, 1).level, incident(bot, 2).level) == (3, 1)
    with bot.db.transaction() as session:
        change = session.exec(select(AuditEvent).where(AuditEvent.action == "escalation_changed")).one()
    assert change.after["SEV1"] == [4, 8] and change.before["SEV1"] == [24, 48]


def test_thresholds_that_make_no_sense_are_errors_on_their_field(bot):
    make_team(bot.db)
    bot.command("setup escalation", user="alice", channel="payments")

    reply = bot.submit(bot.last_view(), {"sev1": "8 / 4", "sev2": "soon", "sev3": "24 / 48", "sev4": "0 / 800"},
                       user="alice")

    assert set(reply.json["errors"]) == {"sev1", "sev2", "sev4"}
    assert "Level 2 must come before Level 3" in reply.json["errors"]["sev1"]


def test_thresholds_can_be_set_by_text_and_only_by_leads_managers_or_admins(bot):
    make_team(bot.db)

    refused = bot.command("setup escalation SEV2 8 16", user="ivy", channel="payments")
    saved = bot.command("setup escalation SEV2 8 16", user="bob", channel="payments")
    wrong = bot.command("setup escalation SEV9 8 16", user="bob", channel="payments")

    assert "Only the team leads and engineering managers of Payments" in refused.json["text"]
    assert "SEV2 · high: Level 2 after 8 h, Level 3 after 16 h" in saved.text
    assert "SEV9 is not a severity" in wrong.json["text"]
    assert bot.command("setup", channel="payments", user="alice").status == 200  # plain setup still opens its modal


def test_the_declaration_form_and_the_incident_help_show_the_teams_own_thresholds(bot):
    make_team(bot.db)
    make_team(bot.db, "Platform", channel="platform", leads=("frank",))
    bot.command("setup escalation SEV1 4 8", user="bob", channel="payments")

    bot.command("incident", user="dave", channel="payments")
    form = blocks_text(bot.last_view())
    help_here = bot.command("incident help", user="dave", channel="payments").json["text"]
    help_there = bot.command("incident help", user="frank", channel="platform").json["text"]
    help_nowhere = bot.command("incident help", user="dave", channel="general").json["text"]

    assert "after 4 h and 8 h for SEV1; 24 h and 48 h for SEV2, SEV3, SEV4" in form
    assert "In Payments: Unresolved, an incident goes to the engineering managers (Level 2) and then to the " \
           "executives (Level 3) after 4 h and 8 h for SEV1; 24 h and 48 h for SEV2, SEV3, SEV4." in help_here
    assert "In Platform: Unresolved, an incident goes to the engineering managers (Level 2) after 24 h and to the " \
           "executives (Level 3) after 48 h." in help_there
    assert "Unresolved" not in help_nowhere and "/qms incident ack INC-001" in help_nowhere


def test_a_team_with_incident_channels_gets_a_channel_per_incident_with_its_responders(bot, slack):
    _incident_channels(bot, make_team(bot.db, leads=("alice", "eve")))
    with freeze_time(T0) as frozen:
        declare(bot, "Checkout is DOWN (again)!")
        created = slack.calls_to("conversations.create")[0].response["channel"]
        sweep_at(bot, frozen, T0 + timedelta(hours=24))

    assert created["name"] == "inc-001-checkout-is-down-again"
    channel = created["id"]
    assert set(slack.channels[channel]["members"]) >= {"UDAVE", "UALICE", "UEVE", "UBOB"}  # bob joined at Level 2
    assert any("Checkout is DOWN (again)!" in blocks_text(m) for m in slack.posted(channel) if not m.get("thread_ts"))
    assert len(pings(slack, 1, channel)) == 1 and len(pings(slack, 2, channel)) == 1
    announcement = [m for m in slack.posted("CPAYMENTS")]
    assert len(announcement) == 1 and f"<#{channel}>" in blocks_text(announcement[0])
    assert incident(bot).channel_id == channel and incident(bot).own_channel
    # In its own channel the reference may be left out, and a leading number is just text.
    assert bot.command("incident ack", user="alice", channel=channel).json["text"] == "You acknowledged INC-001."
    bot.command("incident update 5 servers restarted", user="alice", channel=channel)
    assert incident(bot).latest_update == "5 servers restarted"


def test_in_an_incident_channel_list_and_declare_are_about_the_incidents_team(bot, slack):
    payments = _incident_channels(bot, make_team(bot.db, leads=("alice",)))
    make_team(bot.db, "Platform", channel="platform", leads=("frank",))
    declare(bot, "Checkout is down")
    channel = slack.calls_to("conversations.create")[0].response["channel"]["id"]
    bot.command("incident", user="frank", channel="platform")
    bot.submit(bot.last_view(), {"title": "Build farm offline", "severity": "SEV3", "commander": "frank"},
               user="frank")

    listed = bot.command("incident list", user="ivy", channel=channel).text
    bot.command("incident", user="ivy", channel=channel)
    form = bot.last_view()
    bot.submit(form, {"title": "Refunds stuck", "severity": "SEV2", "commander": "ivy"}, user="ivy")

    assert "*Open incidents of Payments* · 1" in listed
    assert "Checkout is down" in listed and "Build farm offline" not in listed
    assert json.loads(form["private_metadata"])["team_id"] == payments.id
    assert incident(bot, 3).title == "Refunds stuck" and incident(bot, 3).team_id == payments.id


def test_a_taken_channel_name_gets_a_suffix(bot, slack):
    _incident_channels(bot, make_team(bot.db))
    slack.add_channel("CTAKEN", "inc-001-checkout-is-down")

    declare(bot, "Checkout is down")

    assert slack.calls_to("conversations.create")[0].response["channel"]["name"] == "inc-001-checkout-is-down-2"


def test_when_slack_refuses_the_channel_the_card_goes_to_the_team_channel_and_the_declarer_is_told(bot, slack):
    _incident_channels(bot, make_team(bot.db))
    slack.fail("conversations.create", "restricted_action")

    declare(bot)

    assert any(m for m in slack.posted("CPAYMENTS") if "INC-001 SEV1: Checkout" in m["text"])
    assert "could not open a channel for this incident (restricted_action)" in str(
        slack.calls_to("chat.postEphemeral")[-1].args["blocks"])
    assert incident(bot).channel_id == "CPAYMENTS" and not incident(bot).own_channel


def test_a_card_left_unplaced_by_a_crash_is_placed_in_the_team_channel_by_the_clock(bot, slack):
    from bot import incidents

    team = _incident_channels(bot, make_team(bot.db))
    with bot.db.transaction() as session:  # declared, then the process died before opening the channel
        incidents.declare(session, session.merge(team), incidents.IncidentForm(
            title="Checkout fails", severity="SEV2", commander_id="UDAVE"), actor_id="UDAVE", now=T0)

    sweep_incidents(bot.services, now=T0 + timedelta(minutes=1))
    assert slack.posted("CPAYMENTS") == []
    sweep_incidents(bot.services, now=T0 + timedelta(minutes=3))
    sweep_incidents(bot.services, now=T0 + timedelta(minutes=4))

    assert len([m for m in slack.posted("CPAYMENTS") if m["text"].startswith("INC-001 SEV2: Checkout")]) == 1
    assert len(pings(slack, 1)) == 1


def _break(bot, number, **values):
    """Make an incident's row one the code cannot handle (as a bad migration or a hand edit might)."""
    with bot.db.transaction() as session:
        row = store.by_number(session, "T0TEST", number)
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)


def test_a_card_that_cannot_be_placed_holds_back_neither_the_escalations_nor_the_other_cards(bot, slack):

    team = make_team(bot.db, managers=("bob",))
    with freeze_time(T0):
        declare(bot)  # INC-001, placed in the team's channel at once
    team = _incident_channels(bot, team)
    with bot.db.transaction() as session:  # INC-002 and INC-003: their process died before opening channels
        for title in ("Broken row", "Search is slow"):
            incidents.declare(session, session.merge(team), incidents.IncidentForm(
                title=title, severity="SEV3", commander_id="UDAVE"), actor_id="UDAVE", now=T0 + timedelta(hours=23))
    _break(bot, 2, level=7)  # its card cannot be drawn

    sweep_incidents(bot.services, now=T0 + timedelta(hours=24))

    assert incident(bot, 1).level == 2 and len(pings(slack, 2)) == 1 and len(dms(slack, "UBOB")) == 1
    assert incident(bot, 3).channel_id == "CPAYMENTS"
    assert incident(bot, 2).channel_id is None  # left for the next sweep


def test_a_review_reminder_that_fails_holds_back_neither_the_others_nor_the_escalations(bot, slack):
    make_team(bot.db, managers=("bob",))
    with freeze_time(T0) as frozen:
        for title in ("Checkout fails", "Login fails", "Search is slow"):
            declare(bot, title)
        frozen.move_to(T0 + timedelta(hours=1))
        bot.command("incident resolve INC-001 Fixed", user="alice", channel="payments")
        bot.command("incident resolve INC-002 Fixed too", user="alice", channel="payments")
    _break(bot, 1, resolved_at=None)
    slack.reset_calls()

    sweep_incidents(bot.services, now=T0 + timedelta(days=9))

    assert [len(dms(slack, "UDAVE"))] == [1] and "INC-002" in dms(slack, "UDAVE")[0]["text"]
    assert incident(bot, 3).level == 3 and incident(bot, 1).review_reminded_at is None


def test_the_escalation_sweep_is_a_minutely_clock_job_with_its_own_heartbeat(bot):
    from storage import runtime

    jobs = {job.id: job for job in clock.JOBS}
    sweep_incidents(bot.services, now=T0)

    assert jobs["incidents.escalate"].every == timedelta(minutes=1)
    with bot.db.transaction() as session:
        beats = {beat.job_id: beat.last_run_at for beat in runtime.heartbeats(session)}
    assert beats["incidents.escalate"] == T0 and beats["incidents.review_reminders"] == T0


def _incident_channels(bot, team):
    with bot.db.transaction() as session:
        team = session.merge(team)
        team.incident_channels = True
        session.add(team)
    return team


def _events(bot):
    found = incident(bot)
    with bot.db.transaction() as session:
        return store.events(session, found)


def sweep_incidents(services, *, now):
    """A clock sweep of the incident jobs only: other domains (the daily digest, say) also post in
    the team's channel, and these tests count what lands there."""
    clock.sweep(services, now=now, jobs=[job for job in clock.JOBS if job.id.startswith("incidents.")])
