"""The clock only triggers: explicit job ids, coalescing, one instance, a grace, a timezone."""

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger
from freezegun import freeze_time

from bot import clock
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
