"""`/qms dashboard`: a short-lived, single-use sign-in link to the web dashboard, for the person who
typed it (an ephemeral answer, seen by them alone)."""

from __future__ import annotations

from slack_bolt import App

from bot import dashboard
from bot.core.timeutil import utcnow
from handlers.core import people
from handlers.core.commands import Command, Subcommands
from handlers.core.deps import Services


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    subcommands.add("dashboard", lambda command: dashboard_link(services, command))
    app.action("dashboard_open")(lambda ack: ack())  # the link button opens the browser; Slack tells us too


def dashboard_link(services: Services, command: Command) -> None:
    person = people.lookup(command.client, command.user_id)
    with services.transaction() as session:
        url = dashboard.issue_link(session, command.workspace_id, command.user_id,
                                   workspace_admin=person.is_workspace_admin, base_url=services.settings.webhook_url,
                                   now=utcnow())
    command.reply("dashboard/link.json.j2", url=url,
                  minutes=int(dashboard.LINK_LIFETIME.total_seconds() // 60))
