"""The `/qms` router: `/qms <subcommand> <args>` goes to the domain handler that registered it.

Slack gives a command 3 seconds to be acknowledged. Each subcommand handler acks first (with its
answer, when that is quick, or after opening its modal) and does slow work after.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import render
from bot.errors import Refusal
from handlers.forms import field

log = logging.getLogger(__name__)


@dataclass
class Command:
    """One `/qms <name> <args>` as plain values, with Bolt's ack and respond."""

    name: str
    args: str
    workspace_id: str
    user_id: str
    channel_id: str
    trigger_id: str
    ack: Ack
    respond: Respond
    client: WebClient

    def reply(self, template: str, **context: Any) -> None:
        """Acknowledge with an ephemeral message rendered from a template."""
        self.ack(**render.message(template, **context))

    def refuse(self, refusal: Refusal) -> None:
        self.ack(response_type="ephemeral", text=render.phrase(refusal.phrase.key, **refusal.phrase.params))


Handler = Callable[[Command], None]


class Subcommands:
    """The table of `/qms` subcommands; each domain's `register` adds its own."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def add(self, name: str, handler: Handler) -> None:
        if name in self._handlers or name in ("", "help"):
            raise ValueError(f"/qms {name} is registered twice")
        self._handlers[name] = handler

    def get(self, name: str) -> Handler | None:
        return self._handlers.get(name)


def parse(body: dict[str, Any], ack: Ack, respond: Respond, client: WebClient) -> Command:
    text = field(body, "text", default="").strip()
    name, _, args = text.partition(" ")
    return Command(
        name=name.lower(),
        args=args.strip(),
        workspace_id=field(body, "team_id"),
        user_id=field(body, "user_id"),
        channel_id=field(body, "channel_id", default=""),
        trigger_id=field(body, "trigger_id", default=""),
        ack=ack,
        respond=respond,
        client=client,
    )


def register(app: App, services, subcommands: Subcommands) -> None:
    @app.command("/qms")
    def qms(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        command = parse(body, ack, respond, client)
        if command.name in ("", "help"):
            return command.reply("help/usage.json.j2", unknown=None)
        handler = subcommands.get(command.name)
        if handler is None:
            return command.reply("help/usage.json.j2", unknown=command.name)
        try:
            handler(command)
        except Refusal as refusal:
            if not command.ack.response:
                command.refuse(refusal)
            else:
                respond(response_type="ephemeral", text=render.phrase(refusal.phrase.key, **refusal.phrase.params))
