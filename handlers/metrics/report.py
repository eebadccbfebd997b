"""`/qms metrics [day|week|month]`: the team's figures against its targets, to the asker alone."""

from __future__ import annotations

from datetime import timedelta

from slack_bolt import App

from bot import digests, metrics
from bot.core import render
from bot.core.timeutil import utcnow
from handlers.core.commands import Command, Subcommands
from handlers.core.deps import Services
from handlers.core import remembered

PERIODS = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}
PERIOD_WORDS = {"": "week", "day": "day", "today": "day", "daily": "day", "24h": "day", "week": "week",
                "weekly": "week", "7d": "week", "month": "month", "monthly": "month", "30d": "month"}


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    subcommands.add("metrics", lambda command: show_metrics(services, command))


def show_metrics(services: Services, command: Command) -> None:
    word = command.args.strip().lower()
    period = PERIOD_WORDS.get(word)
    if period is None:
        return command.ack(response_type="ephemeral", text=render.phrase("metrics.metrics_usage", word=word))
    now = utcnow()

    def compute(session):
        team = command.team(session)
        report, sections = digests.figures(session, team, metrics.recent_bounds(now, PERIODS[period]))
        return render.message("metrics/report.json.j2", report=report, sections=sections, period=period)

    key = ("metrics", command.workspace_id, command.channel_id, command.user_id, command.chosen_team_id, period)
    command.ack(**remembered.answer(services, key, now=now, compute=compute))
