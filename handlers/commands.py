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
    """The table of `/qms` subcommands; each domain's `register` adds its own.

    A name may have two words ("setup token"): `/qms setup token ...` then goes to that handler,
    and any other `/qms setup ...` to the one registered as "setup".
    """

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def add(self, name: str, handler: Handler) -> None:
        if name in self._handlers or name in ("", "help"):
            raise ValueError(f"/qms {name} is registered twice")
        self._handlers[name] = handler

    def match(self, text: str) -> tuple[str, str, Handler | None]:
        """(name, args, handler) for a command's text; the handler is None when nothing matches."""
        words = text.split(None, 2)
        first = words[0].lower() if words else ""
        if len(words) > 1 and (pair := f"{first} {words[1].lower()}") in self._handlers:
            return pair, (words[2] if len(words) > 2 else "").strip(), self._handlers[pair]
        rest = text.strip()[len(words[0]):].strip() if words else ""
        return first, rest, self._handlers.get(first)


def parse(body: dict[str, Any], name: str, args: str, ack: Ack, respond: Respond, client: WebClient) -> Command:
    return Command(
        name=name,
        args=args,
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
        name, args, handler = subcommands.match(field(body, "text", default=""))
        command = parse(body, name, args, ack, respond, client)
        if command.name in ("", "help"):
            return command.reply("help/usage.json.j2", unknown=None)
        if handler is None:
            return command.reply("help/usage.json.j2", unknown=command.name)
        try:
            handler(command)
        except Refusal as refusal:
            if not command.ack.response:
                command.refuse(refusal)
            else:
                respond(response_type="ephemeral", text=render.phrase(refusal.phrase.key, **refusal.phrase.params))
