"""The dashboard in a real headless browser (Debian's chromium and chromium-driver, through Selenium):
sign in with a link, look at each page at 1280 px and at 390 px, follow a team, filter the audit log.
No page may log a browser console error or need sideways scrolling at 390 px. A screenshot of each page
at each width is saved in test-artifacts/dashboard/ for people to look at.

Skipped, with the reason, when chromium or chromedriver is not installed (`.ci/run` installs them)."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from app.local_slack import LocalSlack
from bot import dashboard
from bot.core.timeutil import utcnow
from tests.harness.bot import TEAM_ID, BotUnderTest, seed_workspace, user_id
from tests.harness.metrics import add_checks, add_gates, declare_incident, log_risk
from tests.harness.teams import add_reviewer, make_team

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="the browser tests need Debian's chromium and chromium-driver "
                                       "(apt-get install chromium chromium-driver; .ci/run does)")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
WIDTHS = (1280, 390)


@pytest.fixture(scope="module")
def served(tmp_path_factory, sqlite_template):
    db = sqlite_template.fresh(tmp_path_factory.mktemp("dashboard-browser"))
    with LocalSlack(team_id=TEAM_ID) as slack:
        seed_workspace(slack)
        bot = BotUnderTest(db, slack)
        try:
            seed(bot.db)
            yield bot
        finally:
            bot.close()
            db.dispose()


def seed(db) -> None:
    now = utcnow()
    payments = make_team(db)
    make_team(db, "Platform", channel="platform", leads=("dave",), managers=(), executives=())
    for person, capacity in (("eve", 3), ("frank", 4)):
        add_reviewer(db, payments, person, capacity=capacity)
    for n, (p, i) in enumerate(((5, 5), (5, 4), (4, 4), (3, 3), (2, 4), (1, 2), (5, 4))):
        log_risk(db, payments, f"Risk number {n} with a fairly long title to wrap", p, i, owner="UALICE",
                 now=(now - timedelta(days=n)).strftime("%Y-%m-%d %H:%M"))
    declare_incident(db, payments, "Checkout errors", now=(now - timedelta(hours=5)).strftime("%Y-%m-%d %H:%M"))
    for week in range(8):
        moment = now - timedelta(weeks=week, minutes=5)
        add_gates(db, payments, "unit", moment, runs=20, passed=17 + week % 4)
        add_gates(db, payments, "coverage", moment, runs=1, passed=1, values=(78 + week,))
        add_checks(db, payments, "dor", *[(moment, n < 8 + week % 3, None if n < 8 + week % 3 else "requirements", 15)
                                          for n in range(10)])


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--disable-extensions", "--no-first-run"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def look(driver, name: str, *, refused: bool = False) -> None:
    """At each width: no console error, no sideways scrolling, and a screenshot of the whole page.
    `refused`: the page itself is an error page (403), which the console reports; nothing else may."""
    for width in WIDTHS:
        driver.set_window_size(width, 900)
        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")
                  and not (refused and e["source"] == "network" and e["message"].startswith(driver.current_url))]
        assert not errors, f"{name}: {errors}"
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{name} at {width} px scrolls sideways by {overflow} px"
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(max(height, 600), 6000))
        driver.save_screenshot(str(SHOTS / f"{name}-{width}.png"))
    driver.set_window_size(1280, 900)


def test_a_person_signs_in_reads_each_page_and_filters_the_audit_log(served, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(served.url + "/dashboard")
    assert browser.current_url.endswith("/dashboard/signin")
    assert "/qms dashboard" in browser.find_element(By.TAG_NAME, "main").text
    look(browser, "signin")

    with served.db.transaction() as session:
        link = dashboard.issue_link(session, TEAM_ID, user_id("carol"), workspace_admin=False, base_url=served.url,
                                    now=utcnow())
    browser.get(link)
    assert browser.current_url.endswith("/dashboard")
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "Payments" in text and "Platform" in text and "Not tracked by the bot" in text
    assert browser.find_elements(By.CSS_SELECTOR, "svg.spark polyline")  # the 8-week trends
    look(browser, "overview")

    browser.find_element(By.LINK_TEXT, "Payments").click()
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("/dashboard/teams/"))
    heat = browser.find_element(By.CSS_SELECTOR, "table.heat")
    assert "QR-001" in heat.text and len(heat.find_elements(By.CSS_SELECTOR, "td")) == 25
    look(browser, "team")

    browser.find_element(By.LINK_TEXT, "Audit log").click()
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("/dashboard/audit"))
    browser.find_element(By.NAME, "person").send_keys("UALICE")
    browser.find_element(By.CSS_SELECTOR, "form.filters button").click()
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("person=UALICE"))
    rows = browser.find_elements(By.CSS_SELECTOR, "main table tr")
    assert len(rows) > 2 and all("UALICE" in r.text for r in rows[1:])
    look(browser, "audit")

    browser.get(link)  # the same link again: used
    assert "cannot be used" in browser.find_element(By.TAG_NAME, "main").text
    look(browser, "used-link", refused=True)
