"""The web dashboard over real HTTP: `/qms dashboard` gives a single-use link, the link opens a session
scoped to the workspace and the person, and the pages show what the domains hold."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from bot import dashboard
from bot.core.timeutil import utcnow
from tests.harness.bot import TEAM_ID, user_id
from tests.harness.browser_http import Client
from tests.harness.metrics import add_gates, file_review, log_risk
from tests.harness.teams import add_reviewer, make_team


def link_for(bot, person: str) -> str:
    """`/qms dashboard` typed by `person`: the path (and token) of the link it answered with."""
    reply = bot.command("dashboard", user=person)
    assert reply.status == 200
    urls = re.findall(r"https?://[^\s\"]+/dashboard/signin\?token=[\w-]+", reply.body)
    assert urls, reply.body
    parts = urlsplit(urls[0])
    assert parts.netloc == f"localhost:{bot.settings.port}"  # PUBLIC_URL unset: localhost and the port
    return f"{parts.path}?{parts.query}"


def signed_in(bot, person: str) -> Client:
    client = Client(bot.url)
    answer = client.get(link_for(bot, person))
    assert answer.status == 303 and answer.header("Location").endswith("/dashboard")
    return client


def test_a_link_signs_in_once_with_a_safe_cookie(bot):
    make_team(bot.db)
    path = link_for(bot, "carol")
    client = Client(bot.url)
    answer = client.get(path)
    assert answer.status == 303
    cookie = answer.set_cookies[0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # loopback: http://localhost works
    page = client.get("/dashboard")
    assert page.status == 200 and "Payments" in page.body
    assert "Customer satisfaction" in page.body and "Not tracked by the bot" in page.body
    assert "default-src 'none'" in page.header("Content-Security-Policy")

    again = Client(bot.url).get(path)
    assert again.status == 403 and "cannot be used" in again.body and not again.set_cookies


def test_outside_loopback_the_cookie_is_secure(bot):
    answer = Client(bot.url).get(link_for(bot, "carol"), host="qms.example.com")
    assert answer.status == 303 and "Secure" in answer.set_cookies[0]


def test_expired_and_forged_links_open_no_session(bot):
    with bot.db.transaction() as session:
        url = dashboard.issue_link(session, TEAM_ID, user_id("carol"), workspace_admin=False, base_url=bot.url,
                                   now=utcnow() - dashboard.LINK_LIFETIME - timedelta(seconds=1))
    client = Client(bot.url)
    expired = client.get(urlsplit(url).path + "?" + urlsplit(url).query)
    forged = client.get("/dashboard/signin?token=" + "A" * 43)
    for answer in (expired, forged):
        assert answer.status == 403 and "cannot be used" in answer.body and not answer.set_cookies
    assert client.get("/dashboard").status == 303


def test_without_a_session_pages_redirect_to_how_to_get_a_link(bot):
    client = Client(bot.url)
    for path in ("/dashboard", "/dashboard/teams/1"):
        answer = client.get(path)
        assert answer.status == 303 and answer.header("Location").endswith("/dashboard/signin")
    help_page = client.get("/dashboard/signin")
    assert help_page.status == 200 and "/qms dashboard" in help_page.body
    client.cookies["qms_dashboard"] = "forged-session"
    assert client.get("/dashboard").status == 303


def test_people_see_their_own_teams_and_leaders_every_team(bot):
    payments = make_team(bot.db)
    platform = make_team(bot.db, "Platform", channel="platform", leads=("dave",), managers=(), executives=())
    add_reviewer(bot.db, payments, "eve")
    eve = signed_in(bot, "eve")  # reviews for Payments; no role anywhere
    overview = eve.get("/dashboard").body
    assert "Payments" in overview and "Platform" not in overview
    assert eve.get(f"/dashboard/teams/{payments.id}").status == 200
    assert eve.get(f"/dashboard/teams/{platform.id}").status == 404
    carol = signed_in(bot, "carol")  # an executive of Payments sees every team
    overview = carol.get("/dashboard").body
    assert "Payments" in overview and "Platform" in overview
    assert carol.get(f"/dashboard/teams/{platform.id}").status == 200


def test_another_workspaces_team_is_not_found(bot):
    make_team(bot.db)
    other = make_team(bot.db, "Theirs", channel="general", workspace_id="T0OTHER")
    carol = signed_in(bot, "carol")
    answer = carol.get(f"/dashboard/teams/{other.id}")
    assert answer.status == 404 and "Theirs" not in answer.body and "Theirs" not in carol.get("/dashboard").body
    assert carol.get("/dashboard/teams/99999999999999999999").status == 404


def test_signing_out_needs_the_csrf_token(bot):
    make_team(bot.db)
    carol = signed_in(bot, "carol")
    page = carol.get("/dashboard").body
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert carol.post("/dashboard/signout", {}).status == 403
    assert carol.post("/dashboard/signout", {"csrf_token": "x" + token}).status == 403
    assert carol.get("/dashboard").status == 200  # still signed in
    cookie = carol.cookies["qms_dashboard"]
    assert carol.post("/dashboard/signout", {"csrf_token": token}).status == 200
    replay = Client(bot.url, {"qms_dashboard": cookie})
    assert replay.get("/dashboard").status == 303  # the session is gone on the server too


def test_the_team_page_shows_risks_gates_and_reviewers(bot):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "eve", capacity=4)
    now = utcnow()
    log_risk(bot.db, team, "Card vault <script>alert(1)</script>", 5, 4, owner="UALICE",
             now=now.strftime("%Y-%m-%d %H:%M"))
    add_gates(bot.db, team, "unit", now - timedelta(minutes=5), runs=10, passed=9)
    page = signed_in(bot, "carol").get(f"/dashboard/teams/{team.id}")
    assert page.status == 200
    body = page.body
    assert "QR-001" in body and "&lt;script&gt;" in body and "<script>" not in body
    cell = re.search(r'<td class="band-(\w+)" title="[^"]*score 20"><span class="count">1</span>', body)
    assert cell and cell.group(1) == "critical"
    assert "90 %" in body and "9 / 10" in body  # the unit gate's pass rate and runs
    assert "UEVE" in body and "0 / 4" in body


def test_utilization_is_the_weeks_average_of_open_reviews_over_capacity(bot):
    """A review open all week so far, for a reviewer of capacity 4: 25 % this week (the guide's 70–85 % is
    missed), however many are open this instant."""
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "eve", capacity=4)
    now = utcnow()
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0)  # the team's week (UTC)
    file_review(bot.db, team, "https://git.example.com/pay/1", now=monday.strftime("%Y-%m-%d %H:%M"))
    carol = signed_in(bot, "carol")
    page = carol.get(f"/dashboard/teams/{team.id}").body
    row = re.search(r"<tr><td>UEVE<br>.*?</tr>", page).group(0)
    assert "<td>1 / 4</td>" in row and "<td>25 %</td>" in row
    overview = carol.get("/dashboard").body
    assert re.search(r"Reviewer utilization</td>\s*<td><span class=\"missed\">25 % ✗ missed", overview)
