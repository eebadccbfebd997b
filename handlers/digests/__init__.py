"""Digests in Slack: `/qms setup digest` (the digests themselves are posted by the clock)."""

from slack_bolt import App

from handlers.core.commands import Subcommands
from handlers.core.deps import Services
from handlers.digests import schedule


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    schedule.register(app, services, subcommands)  # /qms setup digest
