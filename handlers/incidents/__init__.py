"""Incidents in Slack: `/qms incident` and `/qms setup escalation`, and the cards' buttons and forms."""

from slack_bolt import App

from handlers.core.commands import Subcommands
from handlers.core.deps import Services
from handlers.incidents import actions, commands


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    commands.register(app, services, subcommands)  # /qms incident, /qms setup escalation
    actions.register(app, services)  # the card's buttons and checklist, the declare/update/resolve forms
