"""Slack's way in: every listener of the bot, registered here, in one place.

Each package registers its own commands, buttons and forms (`register(app, services, subcommands)`),
as Bolt's starter template does; `/qms <subcommand>` is routed by handlers/core/commands.py. A handler
reads Slack's payload into plain values once (handlers/core: payload, press, routing), acknowledges
within Slack's 3 seconds, calls the domain (bot/) and renders its answer from templates/.
"""

from slack_bolt import App

from handlers import dashboard, digests, home, incidents, metrics, pull_requests, reviews, risks, teams
from handlers.core import commands
from handlers.core.deps import Services


def register(app: App, services: Services) -> None:
    subcommands = commands.Subcommands()
    # /qms first: Bolt tries listeners in order, and a command is most of what Slack sends.
    commands.register(app, services, subcommands)  # /qms, /qms help, and the table filled below
    home.register(app, services, subcommands)  # the App Home tab and its buttons
    teams.register(app, services, subcommands)  # /qms setup, setup reviewers, setup targets
    incidents.register(app, services, subcommands)  # /qms incident, /qms setup escalation
    risks.register(app, services, subcommands)  # /qms risk
    reviews.register(app, services, subcommands)  # /qms review
    metrics.register(app, services, subcommands)  # /qms dor, dod, metrics, setup token
    digests.register(app, services, subcommands)  # /qms setup digest
    pull_requests.register(app, services, subcommands)  # /qms setup github, setup gitlab, /qms link
    dashboard.register(app, services, subcommands)  # /qms dashboard: a sign-in link to the web pages
