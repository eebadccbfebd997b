"""The local console's dashboard: the web app served on loopback in a background thread, and a
sign-in link printed for the person typing (`dashboard` in `make run`)."""

from __future__ import annotations

import threading

import waitress

from bot import dashboard
from bot.core.timeutil import utcnow


class Served:
    def __init__(self, server) -> None:
        self.server = server
        self.thread = threading.Thread(target=server.run, name="console-dashboard", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.close()


def start(web, *, port: int) -> Served:
    return Served(waitress.create_server(web, host="127.0.0.1", port=port, threads=4))


def link(services, workspace_id: str, user_id: str, *, admin: bool) -> str:
    with services.transaction() as session:
        url = dashboard.issue_link(session, workspace_id, user_id, workspace_admin=admin,
                                   base_url=services.settings.webhook_url, now=utcnow())
    minutes = int(dashboard.LINK_LIFETIME.total_seconds() // 60)
    return f"Open the dashboard (this link works once, for {minutes} minutes): {url}"
