"""The `/qms` router: `/qms <subcommand> <args>` goes to the domain handler that registered it.

Slack gives a command 3 seconds to be acknowledged. Each subcommand handler acks first (with its
answer, when that is quick, or after opening its modal) and does slow work after.
"""

from __future__ import annotations

import difflib
import json
import logging
from dataclasses import dataclass
from typing import Any, Callable

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core import render
from bot.core.errors import Refusal
from handlers.core import routing
from handlers.core.deps import Services
from handlers.core.payload import MalformedPayload, field, row_id
from handlers.core.press import Press

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
    text: str = ""  # the whole text after /qms, to run it again once a team is picked
    chosen_team_id: int | None = None  # the team the person picked, when the channel named none

    def team(self, session):
        """The team this command is about (see handlers.core.routing.require_team): the one picked, the
        channel's, the workspace's only one, or the person's only one; else a refusal that
        offers the teams to pick from."""
        return routing.require_team(session, self.workspace_id, self.channel_id, user_id=self.user_id,
                                  chosen=self.chosen_team_id)

    def reply(self, template: str, **context: Any) -> None:
        """Acknowledge with an ephemeral message rendered from a template."""
        self.ack(**render.message(template, **context))



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

    def closest(self, word: str) -> str | None:
        """The subcommand a typo was most likely meant to be (`rsik` → `risk`), if one is close."""
        names = sorted({name.split()[0] for name in self._handlers} | {"help"})
        close = difflib.get_close_matches(word.lower(), names, n=1, cutoff=0.6)
        return close[0] if close else None


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
        text=unescape(field(body, "text", default="")),
    )


def unescape(text: str) -> str:
    """Slack escapes &, < and > in a command's text (the manifest's should_escape); mentions and
    links stay <@U…|name>, <https://…>. Undone once, here: every answer escapes again on the way out.
    &lt; and &gt; first, so that a typed "&lt;" (sent as "&amp;lt;") stays what it was."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    @app.command("/qms")
    def qms(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        name, args, handler = subcommands.match(unescape(field(body, "text", default="")))
        run(parse(body, name, args, ack, respond, client), handler, subcommands)

    @app.action("qms_pick_team")
    def team_picked(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        """A team picked from the buttons offered when a command's channel named none: the same
        command runs again, for that team."""
        press = Press.of(body)
        picked = press.state()
        team_id, text = row_id(picked.get("team")), picked.get("text")
        if not isinstance(text, str):
            raise MalformedPayload("qms_pick_team value is not a team and a command")
        name, args, handler = subcommands.match(text)
        command = Command(
            name=name, args=args, workspace_id=press.workspace_id, user_id=press.user_id,
            channel_id=field(body, "channel", "id", default=""), trigger_id=press.trigger_id,
            ack=_AckByResponding(ack, respond), respond=respond, client=client, text=text, chosen_team_id=team_id)
        run(command, handler, subcommands)


def run(command: Command, handler: Handler | None, subcommands: Subcommands | None = None) -> None:
    if command.name in ("", "help"):
        return command.reply("help/usage.json.j2", unknown=None)
    if handler is None:
        meant = subcommands.closest(command.name) if subcommands else None
        if meant:  # a typo: the one line for what was meant, not the whole help
            return command.ack(response_type="ephemeral",
                               text=render.phrase("help.did_you_mean", typed=command.name, name=meant))
        return command.reply("help/usage.json.j2", unknown=command.name)
    try:
        handler(command)
    except Refusal as refusal:
        answer = _refusal_answer(command, refusal)
        if not command.ack.response:
            command.ack(**answer)
        else:
            command.respond(**answer)


def _refusal_answer(command: Command, refusal: Refusal) -> dict[str, Any]:
    if refusal.phrase.key == "teams.which_team" and command.chosen_team_id is None:
        choices = [(team_id, name, json.dumps({"team": team_id, "text": command.text}))
                   for team_id, name in refusal.phrase.params.get("teams", [])]
        if all(len(value) <= 2000 for _, _, value in choices):  # Slack's limit on a button's value
            return render.message("teams/pick_team.json.j2", choices=choices,
                                  channels=refusal.phrase.params.get("channels", []))
    return {"response_type": "ephemeral", "text": render.phrase(refusal.phrase.key, **refusal.phrase.params)}


class _AckByResponding:
    """A button's ack cannot carry a message the way a command's can: acknowledge, then send any
    answer through response_url, so a command run from a button answers as it would when typed."""

    def __init__(self, ack: Ack, respond: Respond):
        self._ack, self._respond = ack, respond
        self.response = None

    def __call__(self, **answer: Any) -> None:
        if self.response is None:
            self._ack()
            self.response = True
        if answer:
            self._respond(**{"response_type": "ephemeral", "replace_original": False, **answer})
