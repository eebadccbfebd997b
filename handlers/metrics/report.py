"""`/qms metrics [day|week|month]`: what needs someone today in the team's figures, in at most 12 lines,
to the asker alone; "Show all metrics" replaces it with the full table of figures against targets."""

from __future__ import annotations

from datetime import timedelta

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import digests, metrics
from bot.core import render
from bot.core.timeutil import utcnow
from handlers.core.commands import Command, Subcommands
from handlers.core.deps import Services
from bot.core.errors import Refusal
from handlers.core import remembered
from handlers.core.payload import MalformedPayload, row_id
from handlers.core.press import Press
from handlers.core.routing import team_or_refusal

PERIODS = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}
PERIOD_WORDS = {"": "week", "day": "day", "today": "day", "daily": "day", "24h": "day", "week": "week",
                "weekly": "week", "7d": "week", "month": "month", "monthly": "month", "30d": "month"}


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    subcommands.add("metrics", lambda command: show_metrics(services, command))

    @app.action("metrics_show_all")
    def show_all(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        press = Press.of(body)
        state = press.state()
        team_id, period = row_id(state.get("team")), state.get("period")
        if period not in PERIODS:
            raise MalformedPayload("metrics_show_all value has no period")
        ack()
        try:
            with services.transaction() as session:
                team = team_or_refusal(session, press.workspace_id, team_id)
                report, sections = digests.figures(session, team, metrics.recent_bounds(utcnow(), PERIODS[period]))
        except Refusal as refusal:
            press.refuse(respond, client, refusal, title="Metrics")
            return
        respond(replace_original=True, **render.message("metrics/report.json.j2", report=report, sections=sections,
                                                        period=period))


def show_metrics(services: Services, command: Command) -> None:
    word = command.args.strip().lower()
    period = PERIOD_WORDS.get(word)
    if period is None:
        return command.ack(response_type="ephemeral", text=render.phrase("metrics.metrics_usage", word=word))
    now = utcnow()

    def compute(session):
        team = command.team(session)
        report, sections = digests.figures(session, team, metrics.recent_bounds(now, PERIODS[period]))
        actions = [render.phrase(p.key, **p.params) for p in digests.today_items(team, report, sections)]
        return render.message("metrics/summary.json.j2", report=report, sections=sections, period=period,
                              actions=actions, team_id=team.id)

    key = ("metrics", command.workspace_id, command.channel_id, command.user_id, command.chosen_team_id, period)
    command.ack(**remembered.answer(services, key, now=now, compute=compute))
