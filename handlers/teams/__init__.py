"""Teams in Slack: `/qms setup`, the reviewer matrix (`/qms setup reviewers`) and the KPI targets
(`/qms setup targets`)."""

from slack_bolt import App

from handlers.core.commands import Subcommands
from handlers.core.deps import Services
from handlers.teams import reminders, reviewers, setup, targets


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    setup.register(app, services, subcommands)  # /qms setup, /qms setup help
    reviewers.register(app, services, subcommands)  # /qms setup reviewers, and its buttons and forms
    targets.register(app, services, subcommands)  # /qms setup targets, and its buttons and form
    reminders.register(app, services, subcommands)  # /qms settings, and "Remind me later"
