"""/qms link github|gitlab <login> [@person], through signed requests over HTTP."""

from sqlmodel import select

from storage.pull_requests import LoginLink
from tests.harness.bot import blocks_text
from tests.harness.databases import count_rows
from tests.harness.teams import make_team


def test_people_link_themselves_and_a_lead_links_others(bot):
    make_team(bot.db)  # alice leads, bob manages

    mine = bot.command("link github Octocat", user="dave").json["text"]
    theirs = bot.command("link gitlab jsmith <@UEVE|eve>", user="alice").json["text"]
    refused = bot.command("link github hubot <@UEVE|eve>", user="dave").json["text"]
    stolen = bot.command("link github octocat", user="frank").json["text"]
    listed = blocks_text(bot.command("link", user="dave").json)

    assert "`octocat` on GitHub is you now" in mine
    assert "`jsmith` on GitLab is <@UEVE> now" in theirs
    assert "Only a team lead or engineering manager of <@UEVE>'s team" in refused
    assert "Only a team lead or engineering manager of <@UDAVE>'s team" in stolen
    assert "`octocat` on GitHub" in listed
    with bot.db.transaction() as session:
        assert sorted((l.provider, l.login, l.user_id) for l in session.exec(select(LoginLink))) == [
            ("github", "octocat", "UDAVE"), ("gitlab", "jsmith", "UEVE")]
    gone = bot.command("link github remove octocat", user="dave").json["text"]
    assert "no longer linked to <@UDAVE>" in gone and count_rows(bot.db, LoginLink) == 1


def test_a_login_that_is_no_login_or_a_bot_is_refused(bot):
    make_team(bot.db)

    assert "is not a GitHub login" in bot.command("link github not/a/login", user="dave").json["text"]
    assert "is a bot" in bot.command("link github robo <@UROBOT|robot>", user="alice").json["text"]
    assert "neither `github` nor `gitlab`" in blocks_text(bot.command("link bitbucket me", user="dave").json)
    assert count_rows(bot.db, LoginLink) == 0
