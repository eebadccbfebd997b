"""Pull requests in Slack: connecting a team's repositories, and linking GitHub and GitLab logins.
The webhooks themselves come in over HTTP, not from Slack: app/webhooks.py."""

from slack_bolt import App

from handlers.core.commands import Subcommands
from handlers.core.deps import Services
from handlers.pull_requests import links, setup


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    setup.register(app, services, subcommands)  # /qms setup github, /qms setup gitlab
    links.register(app, services, subcommands)  # /qms link
