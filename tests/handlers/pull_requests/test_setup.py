"""/qms setup github|gitlab, through signed requests over HTTP."""

import re

from sqlmodel import select

from bot import pull_requests
from storage.audit import AuditEvent
from storage.pull_requests import Repository, WebhookConnection
from tests.harness.bot import SIGNING_SECRET, blocks_text
from tests.harness.databases import count_rows
from tests.harness.teams import make_team
from tests.harness.webhooks import deliver_github, github_pull

SECRET = re.compile(r"qmswh_[A-Za-z0-9_-]{43}")


def setup(bot, text="", user="alice", channel="payments"):
    reply = bot.command(f"setup {text}".strip(), user=user, channel=channel)
    assert reply.status == 200
    return blocks_text(reply.json) if reply.json.get("blocks") else reply.json["text"]


def repositories(db):
    with db.transaction() as session:
        return sorted((r.provider, r.name) for r in session.exec(select(Repository)))


def test_a_lead_gets_the_webhook_url_events_and_a_secret_shown_once(bot):
    make_team(bot.db)

    first = setup(bot, "github")
    second = setup(bot, "github")

    assert "`http://localhost:3000/webhooks/github`" in first and "application/json" in first
    assert "*Pull requests*, *Pull request reviews*, *Check runs*, *Workflow runs*" in first
    [secret] = SECRET.findall(first)
    assert SECRET.findall(second) == [] and "rotate" in second
    with bot.db.transaction() as session:
        [row] = session.exec(select(WebhookConnection)).all()
    assert secret not in (row.salt, row.secret_hash) and row.secret_hash == pull_requests.hash_secret(secret)
    assert pull_requests.secret_for(SIGNING_SECRET, row.salt) == secret


def test_the_url_is_the_public_one_when_it_is_set(database, slack):
    from tests.harness.bot import BotUnderTest

    public = BotUnderTest(database, slack, env={"PUBLIC_URL": "https://qms.example.com/"})
    try:
        make_team(public.db)
        reply = public.command("setup gitlab", channel="payments")
    finally:
        public.close()

    text = blocks_text(reply.json)
    assert "`https://qms.example.com/webhooks/gitlab`" in text
    assert "*Merge request events*, *Pipeline events*, *Job events*" in text


def test_repositories_are_added_by_name_or_address_and_belong_to_one_team(bot):
    make_team(bot.db)
    make_team(bot.db, "Platform", channel="platform", leads=("carol",))

    added = setup(bot, "github add Acme/Payments-API https://github.com/acme/checkout/pull/7")
    taken = setup(bot, "github add acme/checkout", user="carol", channel="platform")
    bad = setup(bot, "github add not-a-repo")

    assert "Added acme/payments-api, acme/checkout" in added
    assert "`acme/checkout` belongs to Payments" in taken
    assert "is not a GitHub repository" in bad
    assert repositories(bot.db) == [("github", "acme/checkout"), ("github", "acme/payments-api")]
    removed = setup(bot, "github remove acme/checkout")
    assert "Removed acme/checkout" in removed and repositories(bot.db) == [("github", "acme/payments-api")]


def test_rotating_makes_a_new_secret_and_the_old_one_stops_working(bot):
    make_team(bot.db)
    old = SECRET.findall(setup(bot, "github add acme/payments-api"))[0]

    rotated = setup(bot, "github rotate")

    [new] = SECRET.findall(rotated)
    assert new != old and "The old secret no longer works" in rotated
    assert deliver_github(bot, old, github_pull("opened", repo="acme/payments-api")).status == 401
    assert deliver_github(bot, new, github_pull("opened", repo="acme/payments-api")).status == 200


def test_someone_who_is_no_lead_sees_the_setup_but_no_secret_and_may_change_nothing(bot):
    make_team(bot.db)
    setup(bot, "github add acme/payments-api")
    before = count_rows(bot.db, AuditEvent)

    look = setup(bot, "github", user="dave")
    add = setup(bot, "github add acme/other", user="dave")
    rotate = setup(bot, "github rotate", user="dave")

    assert "acme/payments-api" in look and SECRET.findall(look) == []
    assert "Only the team leads and engineering managers of Payments" in add
    assert "Only the team leads" in rotate
    assert count_rows(bot.db, AuditEvent) == before and repositories(bot.db) == [("github", "acme/payments-api")]


def test_an_unknown_setup_word_gets_the_usage(bot):
    make_team(bot.db)

    assert "`sideways` is not a `/qms setup gitlab` command" in setup(bot, "gitlab sideways")
    assert "github" in setup(bot, "help")  # /qms setup help lists it among the setup commands
