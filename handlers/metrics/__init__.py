"""Metrics in Slack: DoR and DoD checks, `/qms metrics`, and the team's CI tokens."""

from slack_bolt import App

from handlers.core.commands import Subcommands
from handlers.core.deps import Services
from handlers.metrics import checks, report, tokens


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    checks.register(app, services, subcommands)  # /qms dor, /qms dod
    report.register(app, services, subcommands)  # /qms metrics
    tokens.register(app, services, subcommands)  # /qms setup token
