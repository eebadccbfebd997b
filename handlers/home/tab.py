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

from bot import digests, home, incidents, metrics, reviews
from bot.core import render
from bot.core.errors import Refusal
from bot.core.timeutil import utcnow
from handlers.core.deps import Services
from handlers.core.payload import MalformedPayload, field, row_id
from handlers.core.press import Press, change
from handlers.core.routing import team_or_refusal
from handlers.metrics import checks


def register(app: App, services: Services) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        publish(services, client, workspace_id=field(body, "team_id"), user_id=field(event, "user"))

    # Buttons read their payload before ack(): a malformed one is then answered 400 (after an ack,
    # Bolt could no longer change the answer). Everything slower comes after the ack.
    @app.action("metrics_open_check")
    def open_check(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        press = Press.of(body)
        kind, _, team_id = press.value.partition(":")
        if kind not in metrics.KINDS:
            raise MalformedPayload(f"unknown check kind {kind!r}")
        team_id, trigger_id = row_id(team_id), press.trigger_id
        ack()
        try:
            with services.transaction() as session:
                team = team_or_refusal(session, press.workspace_id, team_id)
        except Refusal as refusal:
            return press.refuse(respond, client, refusal, title=render.phrase("home.title_check"))
        client.views_open(trigger_id=trigger_id,
                          view=checks.check_form(kind, team, channel_id=None, callback_id="home_metrics_check"))

    @app.view("home_metrics_check")
    def check_recorded(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        """A check recorded from App Home: said in the modal, and the Home tab's figures refreshed."""
        saved = checks.record(services, ack, body, view)
        if saved is None:
            return
        ack(response_action="update", view=render.view("common/notice_modal.json.j2", title="Quality check",
                                                      text=saved.answer()["blocks"][0]["text"]["text"]))
        publish(services, client, workspace_id=field(body, "team", "id"), user_id=saved.user_id)

    @app.action("metrics_open_report")
    def open_report(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        press = Press.of(body)
        team_id, trigger_id = press.row_id, press.trigger_id
        ack()  # the trigger_id lives 3 s; the figures of a busy team take a moment
        now = utcnow()
        try:
            with services.transaction() as session:
                team = team_or_refusal(session, press.workspace_id, team_id)
                report, sections = digests.figures(session, team, metrics.recent_bounds(now, home.RECENT))
        except Refusal as refusal:
            return press.refuse(respond, client, refusal, title=render.phrase("home.title_report"))
        client.views_open(trigger_id=trigger_id,
                          view=render.view("metrics/report_modal.json.j2", report=report, sections=sections))

    @app.action("home_review_accept")
    def accept(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        change_and_refresh(services, ack, body, respond, client, "home.title_accept", reviews.accept)

    @app.action("home_review_done")
    def done(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        change_and_refresh(services, ack, body, respond, client, "home.title_done", reviews.finish)

    @app.action("home_incident_ack")
    def acknowledge(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        change_and_refresh(services, ack, body, respond, client, "home.title_acknowledge", _acknowledge)


def publish(services: Services, client: WebClient, *, workspace_id: str, user_id: str) -> None:
    """Render the user's Home tab with fresh figures and publish it."""
    with services.transaction() as session:
        page = home.home_page(session, workspace_id, user_id, now=utcnow())
    client.views_publish(user_id=user_id, view=render.view("home/home.json.j2", page=page))


def change_and_refresh(services: Services, ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient,
                       title_key: str, domain_change: Callable[..., Any]) -> None:
    """A Home button that changes one thing at once (its value names it), then the Home tab
    refreshed. A refusal (someone else got there first, say) is shown in a modal."""
    press = Press.of(body)
    target = press.row_id
    press.trigger_id  # a refusal is answered in a modal, which needs it
    ack()
    change(services, press, respond, client, lambda session, now: domain_change(
        session, press.workspace_id, target, press.user_id, now=now), title=render.phrase(title_key))
    publish(services, client, workspace_id=press.workspace_id, user_id=press.user_id)


def _acknowledge(session, workspace_id: str, incident_id: int, user_id: str, *, now) -> None:
    incidents.acknowledge(session, workspace_id, incident_id, actor_id=user_id, now=now)
