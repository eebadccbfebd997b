"""The console's `dashboard` (`make run`, then `dashboard`), run as the real command: it serves the web
pages on loopback and prints a single-use sign-in link, which an HTTP client follows to the overview."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from storage.db import Database
from tests.harness import processes
from tests.harness.browser_http import Client
from tests.harness.teams import make_team

CONSOLE_WORKSPACE = "T0LOCAL"  # app/console.py: TEAM_ID, the console's Slack workspace


def test_the_console_serves_the_dashboard_and_prints_a_link_that_signs_in_once(tmp_path):
    url = f"sqlite:///{tmp_path}/qms.db"
    db = Database(url)
    db.migrate()
    make_team(db, "Payments", workspace_id=CONSOLE_WORKSPACE)
    make_team(db, "Elsewhere", workspace_id="T0OTHER")  # another workspace's team: never on this overview
    db.dispose()
    port = processes.free_port()
    env = processes.environment(DATABASE_URL=url, PORT=str(port), LOG_LEVEL="WARNING")
    console = processes.start("shell", "--as", "alice", env=env, cwd=tmp_path, stdin=True)
    try:
        console.stdin.write("dashboard\n")
        console.stdin.flush()
        line = processes.wait_for_line(console.stdout, "Open the dashboard")
        link = re.search(r"https?://\S+/dashboard/signin\?token=[\w-]+", line)
        assert link, line
        parts = urlsplit(link.group(0))
        assert parts.netloc == f"localhost:{port}"  # PUBLIC_URL unset: localhost and PORT

        client = Client(f"http://127.0.0.1:{port}")
        signin = client.get(f"{parts.path}?{parts.query}")
        assert signin.status == 303 and signin.header("Location").endswith("/dashboard")
        cookie = signin.set_cookies[0]
        assert cookie.startswith("qms_dashboard=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        overview = client.get("/dashboard")
        assert overview.status == 200, overview.body
        assert "Payments" in overview.body and "Elsewhere" not in overview.body
        assert "Reviewer utilization" in overview.body

        again = Client(f"http://127.0.0.1:{port}").get(f"{parts.path}?{parts.query}")
        assert again.status == 403 and not again.set_cookies  # the link works once
        assert Client(f"http://127.0.0.1:{port}").get("/dashboard").status == 303  # no cookie, no page

        console.stdin.write("quit\n")
        console.stdin.flush()
        assert console.wait(timeout=20) == 0
    finally:
        if console.poll() is None:  # never leave a console serving, even when the test fails
            console.kill()
            console.wait()
