"""The clock only triggers: explicit job ids, coalescing, one instance, a grace, a timezone."""

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger
from freezegun import freeze_time

from app import clock
from storage import outbox, runtime


def test_every_job_is_registered_with_an_id_coalescing_one_instance_a_grace_and_a_timezone(bot):
    scheduler = clock.build_scheduler(bot.services)

    jobs = {job.id: job for job in scheduler.get_jobs()}

    assert set(jobs) == {job.id for job in clock.JOBS}
    for job in jobs.values():
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time and job.misfire_grace_time > 0
        assert isinstance(job.trigger, IntervalTrigger)
        assert str(job.trigger.timezone) == "UTC"


def test_the_first_sweep_runs_at_start_up_to_catch_up(bot):
    with freeze_time("2026-03-02 09:00:00"):
        scheduler = clock.build_scheduler(bot.services)
        starts = {job.next_run_time for job in scheduler.get_jobs()}

    assert starts == {datetime(2026, 3, 2, 9, 0, tzinfo=UTC)}


def test_a_sweep_delivers_queued_messages_and_records_a_heartbeat(bot, slack):
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with bot.db.transaction() as session:
        outbox.enqueue(session, workspace_id="T0TEST", key="k", method="chat.postMessage",
                       payload={"channel": "CGENERAL", "text": "queued while down"}, now=now - timedelta(hours=3))

    clock.sweep(bot.services, now=now)

    assert [m["text"] for m in slack.posted("CGENERAL")] == ["queued while down"]
    with bot.db.transaction() as session:
        assert runtime.last_beat(session) == now


def test_healthz_clock_is_503_until_a_sweep_has_run_then_200_with_its_age(bot):
    assert bot.get("/healthz/clock").status == 503

    with freeze_time("2026-03-02 09:00:00"):
        clock.sweep(bot.services, now=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    with freeze_time("2026-03-02 09:02:00"):
        fresh = bot.get("/healthz/clock")
    with freeze_time("2026-03-02 09:05:01"):
        stale = bot.get("/healthz/clock")

    assert (fresh.status, fresh.json["age_seconds"]) == (200, 120)
    assert (stale.status, stale.json["status"]) == (503, "stale")


def test_a_job_that_fails_every_time_makes_the_clock_unhealthy_though_others_run(bot):
    from storage import runtime

    with freeze_time("2026-03-02 09:00:00"):
        clock.sweep(bot.services, now=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    # From then on every job but the escalation sweep keeps running (it fails every time).
    with bot.db.transaction() as session:
        for job in clock.JOBS:
            if job.id != "incidents.escalate":
                runtime.beat(session, job.id, now=datetime(2026, 3, 2, 9, 10, tzinfo=UTC), worker="w")

    with freeze_time("2026-03-02 09:10:30"):
        reply = bot.get("/healthz/clock")

    assert reply.status == 503
    assert reply.json["stale_jobs"] == ["incidents.escalate"]
    assert reply.json["age_seconds"] == 30


def test_slow_jobs_are_allowed_three_of_their_intervals():
    hourly = clock.Job("events.forget", lambda services, now: None, timedelta(hours=1))
    ran = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    assert clock.stale_jobs({"events.forget": ran}, now=ran + timedelta(hours=2, minutes=59), jobs=[hourly]) == []
    assert clock.stale_jobs({"events.forget": ran}, now=ran + timedelta(hours=3, minutes=1), jobs=[hourly]) \
        == ["events.forget"]


def test_the_digest_job_ticks_half_a_minute_after_the_escalation_sweep_so_escalations_are_seen_every_30_s(bot):
    with freeze_time("2026-03-02 09:00:00"):
        scheduler = clock.build_scheduler(bot.services)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    jobs = {job.id: job for job in scheduler.get_jobs()}

    def ticks(job_id, count=3):
        found, previous = [], start  # after the start-up run
        for _ in range(count):
            previous = jobs[job_id].trigger.get_next_fire_time(previous, start)
            found.append(previous)
        return found

    assert ticks("incidents.escalate") == [start + timedelta(seconds=s) for s in (60, 120, 180)]
    assert ticks("digests.post") == [start + timedelta(seconds=s) for s in (30, 90, 150)]
    assert ticks("outbox.deliver") == [start + timedelta(seconds=s) for s in (5, 10, 15)]
