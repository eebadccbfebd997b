"""App Home: what a person sees when they open the bot in Slack — their teams' quality figures
against targets, with buttons into the flows."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import digests, metrics, render
from bot.timeutil import utcnow
from handlers import metrics as metric_handlers
from handlers.forms import MalformedPayload, field
from storage import teams as team_store

TEAMS_SHOWN = 5


def register(app: App, services) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        publish(services, client, workspace_id=field(body, "team_id"), user_id=field(event, "user"))

    # Buttons read their payload before ack(): a malformed one is then answered 400 (after an ack,
    # Bolt could no longer change the answer).
    @app.action("metrics_open_check")
    def open_check(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        kind, _, team_id = field(body, "actions", 0, "value").partition(":")
        if kind not in metrics.KINDS:
            raise MalformedPayload(f"unknown check kind {kind!r}")
        team = _team(services, body, team_id)
        ack()
        if team is not None:
            client.views_open(trigger_id=field(body, "trigger_id"),
                              view=metric_handlers.check_form(kind, team, channel_id=None))

    @app.action("metrics_open_report")
    def open_report(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        now = utcnow()
        with services.db.transaction() as session:
            team = _team_in(session, body, field(body, "actions", 0, "value"))
            found = digests.figures(session, team, metrics.recent_bounds(now, metric_handlers.RECENT)) if team else None
        ack()
        if found is not None:
            report, sections = found
            client.views_open(trigger_id=field(body, "trigger_id"),
                              view=render.view("metrics/report_modal.json.j2", report=report, sections=sections))


def publish(services, client: WebClient, *, workspace_id: str, user_id: str) -> None:
    """Render the user's Home tab with fresh figures and publish it."""
    now = utcnow()
    with services.db.transaction() as session:
        mine = team_store.teams_of_user(session, workspace_id, user_id)
        every = mine or team_store.teams(session, workspace_id)
        reports = [digests.figures(session, team, metrics.recent_bounds(now, metric_handlers.RECENT))[0]
                   for team in every[:TEAMS_SHOWN]]
    view = render.view("home/home.json.j2", reports=reports, own=bool(mine), more=max(len(every) - TEAMS_SHOWN, 0),
                       any_team=bool(every))
    client.views_publish(user_id=user_id, view=view)


def _team(services, body: dict[str, Any], team_id: str):
    with services.db.transaction() as session:
        return _team_in(session, body, team_id)


def _team_in(session, body: dict[str, Any], team_id: str):
    """The team a Home button names, in the workspace of the person who pressed it (None if gone)."""
    if not str(team_id).isdigit():
        raise MalformedPayload(f"team id {team_id!r} is not a number")
    return team_store.get_team(session, field(body, "team", "id"), int(team_id))
