"""A button press (or a ticked box, or a picked option), read once into plain values.

Every button of ours carries a value we wrote: a row id ("42"), ids joined by colons ("42:2"), or
a JSON object ({"team": 3, "page": 1}). `Press.of(body)` reads who pressed what in which workspace;
its methods read the value, and anything that is not what we wrote is a MalformedPayload (a 400,
before anything is acknowledged or changed).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from slack_bolt import Respond
from slack_sdk import WebClient
from sqlmodel import Session

from bot.core.errors import Refusal
from bot.core.timeutil import utcnow
from handlers.core.deps import Services
from handlers.core.payload import MalformedPayload, field, row_id
from handlers.core.replies import refuse_press

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Press:
    workspace_id: str
    user_id: str
    value: str  # the pressed element's value; "" for a checkbox, whose state is elsewhere in the body
    body: dict[str, Any]

    @classmethod
    def of(cls, body: dict[str, Any]) -> Press:
        return cls(workspace_id=field(body, "team", "id"), user_id=field(body, "user", "id"),
                   value=field(body, "actions", 0, "value", default=""), body=body)

    @property
    def row_id(self) -> int:
        """The one row id the value is."""
        return row_id(self.value)

    def row_ids(self, count: int) -> tuple[int, ...]:
        """`count` row ids joined by colons ("42:2": an incident and the level it was seen at)."""
        parts = self.value.split(":")
        if len(parts) != count:
            raise MalformedPayload(f"button value {self.value[:40]!r} is not {count} ids")
        return tuple(row_id(part) for part in parts)

    def state(self) -> dict[str, Any]:
        """The JSON object the value is ({} when the button has no value)."""
        if not self.value:
            return {}
        try:
            state = json.loads(self.value)
        except (ValueError, RecursionError):  # not JSON, a 4,300-digit number, deep nesting
            raise MalformedPayload("button value is not JSON we wrote") from None
        if not isinstance(state, dict):
            raise MalformedPayload("button value is not an object")
        return state

    @property
    def trigger_id(self) -> str:
        """To open a modal; a press that must open one and has none is malformed."""
        return field(self.body, "trigger_id")

    def refuse(self, respond: Respond, client: WebClient, refusal: Refusal, *, title: str = "QMS Bot") -> None:
        refuse_press(self.body, respond, client, refusal, title=title)


Change = Callable[[Session, datetime], Any]


def change(services: Services, press: Press, respond: Respond, client: WebClient, domain_change: Change, *,
           title: str = "QMS Bot") -> bool:
    """Run the change a press asks for in one transaction (what it queues goes out after the commit);
    a refusal is answered to the presser alone and changes nothing. Returns whether it was made."""
    try:
        with services.transaction() as session:
            domain_change(session, utcnow())
    except Refusal as refusal:
        press.refuse(respond, client, refusal, title=title)
        return False
    return True
