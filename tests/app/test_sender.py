"""The outbox sender: every queued message reaches Slack once, through rate limits, outages and crashes."""

import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from app.sender import MAX_ATTEMPTS_UNKNOWN, OutboxSender
from storage import outbox
from tests.conftest import both_databases
from tests.harness.bot import BOT_TOKEN

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def sender_for(database, slack, worker="sender-a", **options) -> OutboxSender:
    """A sender; unpaced unless the test asks (channel_rate=...), so that tests of other things run fast."""
    client = WebClient(token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=[])
    return OutboxSender(database, client, worker=worker, **{"channel_rate": 0, **options})


def queue(database, key, *, channel="CGENERAL", text="hello", method="chat.postMessage", ref=None, now=T0, **extra):
    with database.transaction() as session:
        return outbox.enqueue(session, workspace_id="T0TEST", key=key, method=method,
                              payload={"channel": channel, "text": text, **extra}, now=now, ref=ref)


def status_of(database, key):
    with database.transaction() as session:
        return next(m for m in outbox.messages(session, "T0TEST") if m.key == key)


@both_databases
def test_a_queued_message_is_posted_once_and_marked_sent(database, slack):
    queue(database, "greeting:1")
    sender = sender_for(database, slack)

    first = sender.deliver_due(now=T0)
    second = sender.deliver_due(now=T0 + timedelta(minutes=5))

    assert (first.sent, second.sent) == (1, 0)
    assert [m["text"] for m in slack.posted("CGENERAL")] == ["hello"]
    assert status_of(database, "greeting:1").status == "sent"


@both_databases
def test_a_key_is_queued_only_once(database, slack):
    assert queue(database, "escalation:7:2") is True
    assert queue(database, "escalation:7:2", text="a second ping") is False

    sender_for(database, slack).deliver_due(now=T0)

    assert [m["text"] for m in slack.posted("CGENERAL")] == ["hello"]


@both_databases
def test_rate_limited_delivery_waits_for_retry_after_then_succeeds(database, slack):
    queue(database, "digest:payments:daily:2026-03-02")
    slack.rate_limit("chat.postMessage", retry_after=30)
    sender = sender_for(database, slack)

    assert sender.deliver_due(now=T0).retry == 1
    assert sender.deliver_due(now=T0 + timedelta(seconds=29)).sent == 0
    assert sender.deliver_due(now=T0 + timedelta(seconds=30)).sent == 1

    assert len(slack.calls_to("chat.postMessage")) == 1
    message = status_of(database, "digest:payments:daily:2026-03-02")
    assert (message.status, message.attempts) == ("sent", 1)  # a rate limit is not a failed attempt


@both_databases
def test_server_errors_and_network_failures_back_off_exponentially(database, slack):
    queue(database, "nudge:1")
    slack.server_error("chat.postMessage", status=503, times=2)
    sender = sender_for(database, slack)

    sender.deliver_due(now=T0)  # attempt 1 fails → retry in 2 s
    assert sender.deliver_due(now=T0 + timedelta(seconds=1)).sent == 0
    sender.deliver_due(now=T0 + timedelta(seconds=2))  # attempt 2 fails → retry in 4 s
    assert sender.deliver_due(now=T0 + timedelta(seconds=5)).sent == 0
    assert sender.deliver_due(now=T0 + timedelta(seconds=6)).sent == 1


@both_databases
def test_a_slack_refusal_that_retrying_cannot_fix_is_marked_dead_not_retried(database, slack):
    queue(database, "card:1", channel="CNOSUCHCHANNEL")
    sender = sender_for(database, slack)

    assert sender.deliver_due(now=T0).dead == 1
    assert sender.deliver_due(now=T0 + timedelta(hours=1)).sent == 0
    message = status_of(database, "card:1")
    assert message.status == "dead" and "channel_not_found" in message.last_error


@both_databases
def test_a_message_committed_before_a_crash_is_sent_by_the_next_process(database, slack):
    # The escalation committed its outbox row; the process died before its sender ran.
    queue(database, "escalation:3:2")

    restarted = sender_for(database, slack, worker="after-restart")
    restarted.deliver_due(now=T0 + timedelta(minutes=1))

    assert len(slack.calls_to("chat.postMessage")) == 1


@both_databases
def test_a_claim_held_by_a_dead_process_is_taken_over_when_its_lease_runs_out(database, slack):
    queue(database, "escalation:4:2")
    with database.transaction() as session:  # a sender claimed the row, then died before sending
        outbox.claim_due(session, now=T0, worker="died", lease=timedelta(minutes=2))
    survivor = sender_for(database, slack, worker="survivor")

    assert survivor.deliver_due(now=T0 + timedelta(minutes=1)).sent == 0  # still leased
    assert survivor.deliver_due(now=T0 + timedelta(minutes=3)).sent == 1
    assert len(slack.calls_to("chat.postMessage")) == 1


@both_databases
def test_an_update_waits_until_the_message_it_updates_has_been_posted(database, slack):
    queue(database, "risk:1:card", ref="risk:1:card", text="QR-001 (open)")
    with database.transaction() as session:
        outbox.enqueue(session, workspace_id="T0TEST", key="risk:1:card:update:1", method="chat.update",
                       payload={"update_ref": "risk:1:card", "text": "QR-001 (closed)"}, now=T0)

    sender_for(database, slack).deliver_due(now=T0)

    assert [m["text"] for m in slack.posted("CGENERAL")] == ["QR-001 (closed)"]
    assert len(slack.calls_to("chat.update")) == 1


@both_databases
def test_a_reply_in_thread_goes_under_the_message_it_names(database, slack):
    queue(database, "incident:1:card", ref="incident:1:card", text="INC-001")
    with database.transaction() as session:
        outbox.enqueue(session, workspace_id="T0TEST", key="incident:1:checklist", method="chat.postMessage",
                       payload={"thread_ref": "incident:1:card", "text": "checklist"}, now=T0)

    sender_for(database, slack).deliver_due(now=T0)

    card, checklist = slack.posted("CGENERAL")
    assert checklist["thread_ts"] == card["ts"]


@both_databases
def test_files_are_uploaded_with_the_external_upload_api(database, slack):
    with database.transaction() as session:
        outbox.enqueue_file(session, workspace_id="T0TEST", key="chart:1", channel="CGENERAL",
                            filename="kpis.png", title="KPIs", content=b"\x89PNG fake", now=T0)

    assert sender_for(database, slack).deliver_due(now=T0).sent == 1

    methods = [c.method for c in slack.calls]
    assert methods == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    assert "files.upload" not in methods


@both_databases
def test_two_senders_racing_over_one_outbox_send_every_message_exactly_once(database, slack):
    keys = [f"ping:{n}" for n in range(40)]
    for key in keys:
        queue(database, key, text=key)
    senders = [sender_for(database, slack, worker=f"sender-{n}") for n in range(2)]
    start = threading.Barrier(len(senders))

    def run(sender):
        start.wait()
        for _ in range(5):
            sender.deliver_due(now=T0, limit=7)

    threads = [threading.Thread(target=run, args=(s,)) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    posted = sorted(m["text"] for m in slack.posted("CGENERAL"))
    assert posted == sorted(keys)


def test_a_file_for_a_person_is_uploaded_into_their_direct_messages(database, slack):
    with database.transaction() as session:
        outbox.enqueue_file(session, workspace_id="T0TEST", key="export:1", channel="UBOB",
                            filename="risks.csv", title="Risk register", content=b"id,title\n", now=T0)

    assert sender_for(database, slack).deliver_due(now=T0).sent == 1

    complete = slack.calls_to("files.completeUploadExternal")[0]
    assert complete.args["channel_id"] == "DUBOB"
    assert slack.posted("UBOB")[0]["files"][0]["name"] == "risks.csv"


class ElapsedTime:
    """Real elapsed time as a sender sees it, moved on by hand; once past `when`, `then` runs once
    (another process acting meanwhile)."""

    def __init__(self, when: float, then):
        self.seconds, self.when, self.then = 0.0, when, then

    def __call__(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds
        if self.then and self.seconds > self.when:
            self.then, then = None, self.then
            then()


class SlowSlackClient(WebClient):
    """Slack's own client, on which every call takes `seconds` of elapsed time."""

    def __init__(self, elapsed: ElapsedTime, seconds: float, **kwargs):
        super().__init__(**kwargs)
        self.elapsed, self.seconds = elapsed, seconds

    def api_call(self, *args, **kwargs):
        self.elapsed.advance(self.seconds)
        return super().api_call(*args, **kwargs)


@both_databases
def test_a_slow_sender_renews_its_lease_so_nothing_is_sent_twice(database, slack):
    for n in range(1, 4):
        queue(database, f"escalation:{n}:2", text=f"escalation {n}")
    fresh = sender_for(database, slack, worker="fresh")
    lease = fresh.lease.total_seconds()
    after_the_lease = T0 + fresh.lease + timedelta(seconds=1)
    # Each call of the slow sender takes 0.4 of its lease; once the lease is over, another sender
    # takes over whatever the slow one still holds.
    elapsed = ElapsedTime(when=lease, then=lambda: fresh.deliver_due(now=after_the_lease))
    slow_client = SlowSlackClient(elapsed, lease * 0.4, token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=[])
    slow = OutboxSender(database, slow_client, worker="slow", monotonic=elapsed, channel_rate=0)

    slow.deliver_due(now=T0)
    fresh.deliver_due(now=after_the_lease)

    assert sorted(m["text"] for m in slack.posted("CGENERAL")) == ["escalation 1", "escalation 2", "escalation 3"]


@both_databases
def test_waiting_for_the_message_a_reply_threads_under_uses_up_no_attempts(database, slack):
    queue(database, "incident:1:card", ref="incident:1:card", text="INC-001")
    with database.transaction() as session:
        outbox.enqueue(session, workspace_id="T0TEST", key="incident:1:checklist", method="chat.postMessage",
                       payload={"thread_ref": "incident:1:card", "text": "checklist"}, now=T0)
    slack.server_error("chat.postMessage", times=6)  # the card fails for two minutes; its reply waits
    sender = sender_for(database, slack)

    for second in range(0, 300, 5):
        sender.deliver_due(now=T0 + timedelta(seconds=second))

    assert [m["text"] for m in slack.posted("CGENERAL")] == ["INC-001", "checklist"]
    assert status_of(database, "incident:1:checklist").status == "sent"


@both_databases
def test_a_reply_to_a_message_that_was_given_up_on_is_given_up_too(database, slack):
    queue(database, "risk:1:card", ref="risk:1:card", channel="CNOSUCHCHANNEL")
    with database.transaction() as session:
        outbox.enqueue(session, workspace_id="T0TEST", key="risk:1:card:v2", method="chat.update",
                       payload={"update_ref": "risk:1:card", "text": "v2"}, now=T0)
    sender = sender_for(database, slack)

    sender.deliver_due(now=T0)
    sender.deliver_due(now=T0 + timedelta(minutes=1))

    assert status_of(database, "risk:1:card").status == "dead"
    assert status_of(database, "risk:1:card:v2").status == "dead"


@both_databases
def test_an_older_update_retried_after_a_newer_one_went_out_is_dropped(database, slack):
    queue(database, "card", ref="card", text="v1")
    sender = sender_for(database, slack)
    sender.deliver_due(now=T0)
    with database.transaction() as session:
        for version in (2, 3):
            outbox.enqueue(session, workspace_id="T0TEST", key=f"card:v{version}", method="chat.update",
                           payload={"update_ref": "card", "text": f"v{version}"}, now=T0)
    slack.server_error("chat.update")  # v2 fails and is retried in 2 s; v3 goes out now

    sender.deliver_due(now=T0)
    sender.deliver_due(now=T0 + timedelta(seconds=5))

    assert [m["text"] for m in slack.posted("CGENERAL")] == ["v3"]
    assert status_of(database, "card:v2").status == "sent"  # dropped as superseded, not left pending


def test_an_unexpected_error_on_one_message_does_not_stop_the_others(database, slack):
    with database.transaction() as session:
        outbox.enqueue(session, workspace_id="T0TEST", key="broken", method="files.upload_v2", now=T0,
                       payload={"channel": "CGENERAL", "filename": "x.png", "content_base64": "%%% not base64"})
    queue(database, "fine", text="still sent")

    report = sender_for(database, slack).deliver_due(now=T0)

    assert (report.sent, report.retry) == (1, 1)
    assert [m["text"] for m in slack.posted("CGENERAL")] == ["still sent"]


# --- reliability under fire: outages, rate limits, pacing, fairness, crashes --------------------------
class FakeClock:
    """Monotonic time for a sender, moved on by its own sleeps (and by each call it makes)."""

    def __init__(self):
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds

    def sleep(self, seconds: float) -> None:
        self.seconds += seconds


class ClockedClient(WebClient):
    """Slack's client, noting the fake time of every call."""

    def __init__(self, clock: FakeClock, **kwargs):
        super().__init__(**kwargs)
        self.clock, self.times = clock, []

    def api_call(self, method, *args, **kwargs):
        self.times.append((self.clock(), (kwargs.get("json") or {}).get("channel")))
        self.clock.sleep(0.01)
        return super().api_call(method, *args, **kwargs)


def paced_sender(database, slack, clock, **options):
    client = ClockedClient(clock, token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=[])
    return OutboxSender(database, client, worker="paced", monotonic=clock, clock=clock, sleep=clock.sleep,
                        **options), client


@both_databases
def test_a_ten_minute_slack_outage_gives_up_nothing_and_everything_goes_out_within_a_minute_after(database, slack):
    queue(database, "incident:1:card", ref="incident:1:card", text="INC-001")
    with database.transaction() as session:
        outbox.enqueue(session, workspace_id="T0TEST", key="incident:1:checklist", method="chat.postMessage",
                       payload={"thread_ref": "incident:1:card", "text": "checklist"}, now=T0)
        outbox.enqueue(session, workspace_id="T0TEST", key="incident:1:card:v2", method="chat.update",
                       payload={"update_ref": "incident:1:card", "text": "INC-001 (L2)"}, now=T0)
    for n in range(5):
        queue(database, f"risk:{n}:card", ref=f"risk:{n}:card", channel="CPAYMENTS", text=f"risk {n}")
    queue(database, "escalation:1:1", channel="UBOB", text="Level 1")
    sender = sender_for(database, slack)

    slack.down = True
    for second in range(0, 600, 5):  # the clock's ticks through ten minutes of Slack failing
        sender.deliver_due(now=T0 + timedelta(seconds=second))
    with database.transaction() as session:
        states = {m.key: (m.status, m.attempts) for m in outbox.messages(session, "T0TEST")}
    assert {status for status, _ in states.values()} == {"pending"}, states
    assert states["incident:1:checklist"][1] == 0  # waiting on its card uses up nothing

    slack.down = False
    for second in range(600, 660, 5):
        sender.deliver_due(now=T0 + timedelta(seconds=second))

    with database.transaction() as session:
        assert {m.status for m in outbox.messages(session, "T0TEST")} == {"sent"}
    texts = [m["text"] for m in slack.posted("CGENERAL")]
    assert texts == ["INC-001 (L2)", "checklist"]  # the card, updated in place, and its reply under it
    assert sorted(m["text"] for m in slack.posted("CPAYMENTS")) == [f"risk {n}" for n in range(5)]
    assert len(slack.calls_to("chat.postMessage")) == 8  # each once


@both_databases
def test_a_message_slack_keeps_failing_is_given_up_after_a_day_not_after_ten_tries(database, slack):
    queue(database, "nudge:1")
    sender = sender_for(database, slack)
    slack.down = True

    for minute in range(0, 60 * 24, 30):
        sender.deliver_due(now=T0 + timedelta(minutes=minute))
    assert status_of(database, "nudge:1").status == "pending"
    sender.deliver_due(now=T0 + timedelta(hours=24, minutes=1))
    assert status_of(database, "nudge:1").status == "dead"


@both_databases
def test_rate_limits_on_a_busy_channel_kill_nothing_and_count_no_attempt(database, slack):
    for n in range(30):
        queue(database, f"ping:{n}", channel="CBUSY", text=f"ping {n}")
    slack.add_channel("CBUSY", "busy")
    slack.rate_limit("chat.postMessage", retry_after=2, times=5)
    clock = FakeClock()
    sender, _ = paced_sender(database, slack, clock)

    for second in range(0, 120, 5):
        sender.deliver_due(now=T0 + timedelta(seconds=second))
        clock.seconds = max(clock.seconds, second + 5.0)

    with database.transaction() as session:
        rows = outbox.messages(session, "T0TEST")
    assert {(m.status, m.attempts) for m in rows} == {("sent", 1)}
    assert sorted(m["text"] for m in slack.posted("CBUSY")) == sorted(f"ping {n}" for n in range(30))


@both_databases
def test_each_channel_is_paced_to_about_one_message_a_second_with_short_bursts(database, slack):
    slack.add_channel("CBUSY", "busy")
    for n in range(12):
        queue(database, f"ping:{n}", channel="CBUSY", text=f"ping {n}")
    clock = FakeClock()
    sender, client = paced_sender(database, slack, clock, channel_rate=1.0, channel_burst=3)

    report = sender.deliver_due(now=T0, max_seconds=60)

    assert report.sent == 12
    times = [t for t, _ in client.times]
    for i, start in enumerate(times):  # in any window of w seconds: at most 3 + w messages
        for end in times[i:]:
            assert sum(start <= t <= end for t in times) <= 3 + (end - start) + 0.05
    assert times[-1] <= 10.5  # and not slower than the pace: 3 at once, then one a second


@both_databases
def test_one_busy_channel_never_holds_up_another_and_escalations_go_first(database, slack):
    slack.add_channel("CBUSY", "busy")
    for n in range(200):
        queue(database, f"digest:{n}", channel="CBUSY", text=f"digest {n}")
    queue(database, "risk:1:card", channel="CPAYMENTS", text="a card")
    queue(database, "escalation:9:2", channel="CBUSY", text="Level 2")
    clock = FakeClock()
    sender, client = paced_sender(database, slack, clock, channel_rate=1.0, channel_burst=3)

    sender.deliver_due(now=T0, max_seconds=5)

    sent = {channel: t for t, channel in reversed(client.times)}  # each channel's first call
    assert sent["CPAYMENTS"] < 1.0
    first_busy = [m["text"] for m in slack.posted("CBUSY")][0]
    assert first_busy == "Level 2"  # the escalation overtakes the two hundred digests queued before it


@both_databases
def test_a_crashed_senders_claims_come_back_within_thirty_seconds(database, slack):
    for n in range(12):
        slack.add_channel(f"C{n:03d}", f"team-{n}")
    for n in range(36):
        queue(database, f"escalation:{n}:2", channel=f"C{n % 12:03d}", text=f"ping {n}")
    with database.transaction() as session:  # a sender claimed a round and was killed (kill -9)
        claimed = outbox.claim_due(session, now=T0, worker="killed", lease=sender_for(database, slack).lease,
                                   limit=100, per_channel=3)
    assert len(claimed) == 36
    survivor = sender_for(database, slack, worker="survivor")

    assert survivor.deliver_due(now=T0 + timedelta(seconds=10)).sent == 0  # still leased
    assert survivor.deliver_due(now=T0 + timedelta(seconds=16)).sent == 36


# --- what Slack's answer says about retrying ----------------------------------------------------------
AUTH_ERRORS = ["invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "no_permission",
               "missing_scope", "ekm_access_denied", "team_access_not_granted", "org_login_required"]
TRANSIENT_ERRORS = ["ratelimited", "service_unavailable", "internal_error", "fatal_error", "request_timeout"]


def retry_until_settled(database, sender, key, *, minutes=30):
    """The clock's ticks (every 5 s) for a while: the row's state once they are done."""
    for second in range(0, minutes * 60, 5):
        sender.deliver_due(now=T0 + timedelta(seconds=second))
        if status_of(database, key).status != "pending":
            break
    return status_of(database, key)


@pytest.mark.parametrize("error", AUTH_ERRORS)
def test_an_auth_error_is_dead_at_once_with_its_reason(database, slack, error):
    queue(database, "card:1")
    slack.fail("chat.postMessage", error, times=100)
    sender = sender_for(database, slack)

    assert sender.deliver_due(now=T0).dead == 1
    sender.deliver_due(now=T0 + timedelta(hours=1))

    message = status_of(database, "card:1")
    assert (message.status, message.attempts) == ("dead", 1)
    assert error in message.last_error
    assert len([c for c in slack.calls if c.method == "chat.postMessage"]) == 1  # never retried


@pytest.mark.parametrize("error", TRANSIENT_ERRORS)
def test_slacks_own_trouble_is_retried_however_many_times_it_takes(database, slack, error):
    queue(database, "card:1")
    slack.fail("chat.postMessage", error, times=8)  # more than the tries an unknown error gets
    sender = sender_for(database, slack)

    message = retry_until_settled(database, sender, "card:1")

    assert (message.status, message.attempts) == ("sent", 9 if error != "ratelimited" else 1)
    assert [m["text"] for m in slack.posted("CGENERAL")] == ["hello"]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_however_many_times_it_takes(database, slack, status):
    queue(database, "card:1")
    slack.server_error("chat.postMessage", status=status, times=8)

    message = retry_until_settled(database, sender_for(database, slack), "card:1")

    assert (message.status, message.attempts) == ("sent", 9)


def test_network_errors_are_retried_until_slack_answers(database, slack):
    queue(database, "card:1")
    unreachable = socket.socket()
    unreachable.bind(("127.0.0.1", 0))  # a port nobody listens on: connection refused
    port = unreachable.getsockname()[1]
    offline = OutboxSender(database, WebClient(token=BOT_TOKEN, base_url=f"http://127.0.0.1:{port}/api/",
                                               retry_handlers=[], timeout=2), worker="offline", channel_rate=0)
    for second in range(0, 300, 5):
        offline.deliver_due(now=T0 + timedelta(seconds=second))
    unreachable.close()
    assert status_of(database, "card:1").status == "pending"
    assert "network" in status_of(database, "card:1").last_error

    online = sender_for(database, slack, worker="offline")
    assert retry_until_settled(database, online, "card:1").status == "sent"


def test_an_unknown_error_is_retried_a_few_times_then_given_up_with_its_code(database, slack):
    queue(database, "card:1")
    slack.fail("chat.postMessage", "something_slack_added_later", times=100)

    message = retry_until_settled(database, sender_for(database, slack), "card:1")

    assert (message.status, message.attempts) == ("dead", MAX_ATTEMPTS_UNKNOWN)
    assert "something_slack_added_later" in message.last_error


def test_an_unknown_error_that_passes_before_the_last_try_is_sent(database, slack):
    queue(database, "card:1")
    slack.fail("chat.postMessage", "something_slack_added_later", times=MAX_ATTEMPTS_UNKNOWN - 1)

    message = retry_until_settled(database, sender_for(database, slack), "card:1")

    assert (message.status, message.attempts) == ("sent", MAX_ATTEMPTS_UNKNOWN)
