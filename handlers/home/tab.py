"""App Home: what a person sees when they open the bot in Slack — their open reviews, the risks they
own, the incidents they command or that are open in their teams, and their teams' quality figures
against targets, with buttons into the flows.

Buttons that open another domain's modal use that domain's own action ids (`review_decline`,
`risk_rescore`, `risk_edit`, `risk_close`, `incident_update`, `incident_resolve`). Buttons that change
something at once have Home's own ids (`home_review_accept`, `home_review_done`, `home_incident_ack`):
they call the same domain functions, then refresh the Home tab, and answer a refusal in a small
modal — a Home tab has no conversation to answer in.
"""

from __future__ import annotations

from typing import Any, Callable

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import digests
from bot import home
from bot import incidents
from bot import metrics
from bot.core import render
from bot import reviews
from bot.core.errors import Refusal
from bot.core.timeutil import utcnow
from handlers.metrics import commands as metric_handlers
from handlers.core.forms import MalformedPayload, field, refuse_press
from storage import teams as team_store


def register(app: App, services) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        publish(services, client, workspace_id=field(body, "team_id"), user_id=field(event, "user"))

    # Buttons read their payload before ack(): a malformed one is then answered 400 (after an ack,
    # Bolt could no longer change the answer). Everything slower comes after the ack.
    @app.action("metrics_open_check")
    def open_check(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        kind, _, team_id = field(body, "actions", 0, "value").partition(":")
        if kind not in metrics.KINDS:
            raise MalformedPayload(f"unknown check kind {kind!r}")
        workspace_id, team_id, trigger_id = field(body, "team", "id"), _number(team_id), field(body, "trigger_id")
        ack()
        with services.db.transaction() as session:
            team = team_store.get_team(session, workspace_id, team_id)
        if team is None:
            return refuse_press(body, respond, client, Refusal("home.team_gone"),
                                title=render.phrase("home.title_check"))
        client.views_open(trigger_id=trigger_id, view=metric_handlers.check_form(kind, team, channel_id=None))

    @app.action("metrics_open_report")
    def open_report(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        workspace_id, trigger_id = field(body, "team", "id"), field(body, "trigger_id")
        team_id = _number(field(body, "actions", 0, "value"))
        ack()  # the trigger_id lives 3 s; the figures of a busy team take a moment
        now = utcnow()
        with services.db.transaction() as session:
            team = team_store.get_team(session, workspace_id, team_id)
            found = digests.figures(session, team, metrics.recent_bounds(now, home.RECENT)) if team else None
        if found is None:
            return refuse_press(body, respond, client, Refusal("home.team_gone"),
                                title=render.phrase("home.title_report"))
        report, sections = found
        client.views_open(trigger_id=trigger_id,
                          view=render.view("metrics/report_modal.json.j2", report=report, sections=sections))

    @app.action("home_review_accept")
    def accept(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        change(services, ack, body, respond, client, "home.title_accept", reviews.accept)

    @app.action("home_review_done")
    def done(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        change(services, ack, body, respond, client, "home.title_done", reviews.finish)

    @app.action("home_incident_ack")
    def acknowledge(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        change(services, ack, body, respond, client, "home.title_acknowledge", _acknowledge)


def publish(services, client: WebClient, *, workspace_id: str, user_id: str) -> None:
    """Render the user's Home tab with fresh figures and publish it."""
    with services.db.transaction() as session:
        page = home.home_page(session, workspace_id, user_id, now=utcnow())
    client.views_publish(user_id=user_id, view=render.view("home/home.json.j2", page=page))


def change(services, ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, title_key: str,
           domain_change: Callable[..., Any]) -> None:
    """A Home button that changes one thing at once (its value names it): the change in one
    transaction, what it queued delivered, the Home tab refreshed. A refusal (someone else got
    there first, say) is shown in a modal and changes nothing."""
    workspace_id, user_id = field(body, "team", "id"), field(body, "user", "id")
    target = _number(field(body, "actions", 0, "value"))
    field(body, "trigger_id")  # a refusal is answered in a modal, which needs it
    ack()
    try:
        with services.db.transaction() as session:
            domain_change(session, workspace_id, target, user_id, now=utcnow())
    except Refusal as refusal:
        refuse_press(body, respond, client, refusal, title=render.phrase(title_key))
    else:
        services.deliver_outbox()
    publish(services, client, workspace_id=workspace_id, user_id=user_id)


def _acknowledge(session, workspace_id: str, incident_id: int, user_id: str, *, now) -> None:
    incidents.acknowledge(session, workspace_id, incident_id, actor_id=user_id, now=now)


def _number(value: Any) -> int:
    """The id a button's value carries: ASCII digits only ("²".isdigit() is true, int("²") fails),
    and at most 9 of them (ids stay far below 10⁹; a longer one would overflow the database's integer)."""
    if not isinstance(value, str) or not (value.isascii() and value.isdecimal()) or len(value) > 9:
        raise MalformedPayload(f"button value {value[:40] if isinstance(value, str) else value!r} is not an id")
    return int(value)
