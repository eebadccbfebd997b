"""Code reviews in Slack: `/qms review` and its form, and the buttons of requests and reviewers' DMs."""

from slack_bolt import App

from handlers.core.commands import Subcommands
from handlers.core.deps import Services
from handlers.reviews import buttons, commands


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    commands.register(app, services, subcommands)  # /qms review, the request form
    buttons.register(app, services)  # Accept, Decline, Done, ratings, Withdraw
