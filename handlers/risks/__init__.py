"""The risk register in Slack: `/qms risk` and its forms, and the buttons of risk cards."""

from slack_bolt import App

from handlers.core.commands import Subcommands
from handlers.core.deps import Services
from handlers.risks import buttons, commands


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    commands.register(app, services, subcommands)  # /qms risk, the risk and bands forms
    buttons.register(app, services)  # Edit, Re-score, Close, the checklist, a list's pages
