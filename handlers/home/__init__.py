"""App Home in Slack: the bot's Home tab, and the buttons on it."""

from slack_bolt import App

from handlers.core.commands import Subcommands
from handlers.core.deps import Services
from handlers.home import tab


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    tab.register(app, services)
