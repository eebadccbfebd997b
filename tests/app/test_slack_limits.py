"""Every message and reply stays within Slack's limits, echoed user text included.

Through the real app (signed HTTP, the Slack stand-in): commands with 40,000 characters of nasty
unicode after them, every modal the bot opens submitted with 40,000 characters in each text field
(then, where refused, as long as it is allowed), every button on what the bot posted pressed and the
modal it opens submitted the same way, App Home opened, and the clock's sweep a week later (digests,
reminders, escalations). Then every recorded Web API call, response_url body and HTTP answer is
parsed with slack_sdk's models and measured (tests/harness/slack_limits.py)."""

from __future__ import annotations

import copy
import logging
from datetime import timedelta
from typing import Any

import pytest

from app import clock
from bot.core import render
from bot.core.timeutil import utcnow
from tests.harness import slack_limits
from tests.harness.bot import BotUnderTest, _element_state
from tests.harness.teams import add_reviewer, make_team

NASTY = ("Zalgo Z̷̢̛͚a̶l̸g̵o 𝕌𝕟𝕚𝕔𝕠𝕕𝕖 👩🏽‍🚀🇺🇳 ‮RTL‬ \u200b\ufeff <!channel> <@UALICE> <#CPAYMENTS> "
         "&amp; &lt; *b* _i_ ~s~ `c` ```pre``` \"quoted\" \\ ‹›«» ñ ﷽ ⸻ 🦆\n")
HUGE = (NASTY * (40_000 // len(NASTY) + 1))[:40_000]
SHORTER = [40_000, 3000, 2000, 500, 150, 80, 40, 20, 5]  # what a refused field is tried with next


def nasty(length: int) -> str:
    return HUGE[:length].strip() or "x"


def link(length: int) -> str:
    """A link as long as asked, unicode in its query (what a person may paste)."""
    start = "https://git.example.com/acme/payments/pull/7?q="
    return start + ("Ünïcødé🦆%20" * (length // 10 + 1))[:max(length - len(start), 1)]


class Explorer:
    """Drives the app as a person who types far too much would, keeping every HTTP answer."""

    def __init__(self, bot: BotUnderTest):
        self.bot, self.answers = bot, []
        self.submitted: set[str] = set()

    def command(self, text: str, **who: Any) -> None:
        self.answers.append(self.bot.command(text, **who).json)

    def submit(self, view: dict[str, Any], *, user: str = "alice") -> None:
        """Every field filled in; text fields with 40,000 characters, shorter each time one is refused."""
        lengths = {b["block_id"]: 0 for b in view.get("blocks", []) if b.get("type") == "input"}
        for _ in range(len(SHORTER)):
            values = {block_id: self._value(view, block_id, SHORTER[step]) for block_id, step in lengths.items()}
            reply = self.bot.submit(view, values, user=user)
            answer = reply.json
            self.answers.append(answer)
            errors = answer.get("errors") if isinstance(answer, dict) else None
            if answer.get("response_action") != "errors" or not errors:
                return
            shortened = False
            for block_id in errors:
                if block_id in lengths and lengths[block_id] < len(SHORTER) - 1:
                    lengths[block_id] += 1
                    shortened = True
            if not shortened:
                return

    def _value(self, view: dict[str, Any], block_id: str, length: int) -> Any:
        block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
        element = block["element"]
        kind = element["type"]
        if kind == "plain_text_input":
            if block_id == "minutes":
                return "15"
            return link(length) if block_id in ("link", "url") else nasty(length)
        if kind in ("static_select", "radio_buttons"):
            options = element.get("options") or [o for g in element.get("option_groups", []) for o in g["options"]]
            return options[0]["value"] if options else None
        if kind in ("multi_static_select", "checkboxes"):
            return [element["options"][0]["value"]] if element.get("options") else []
        if kind == "users_select":
            return "alice"
        if kind == "multi_users_select":
            return ["alice", "bob"]
        if kind in ("conversations_select", "channels_select"):
            return "platform"  # a channel no team has yet
        if kind == "datepicker":
            return (utcnow() + timedelta(days=10)).date().isoformat()
        if kind == "timepicker":
            return "09:00"
        return None

    def new_views(self, since: int) -> list[dict[str, Any]]:
        return [c.response["view"] for c in self.bot.slack.calls[since:]
                if c.method in ("views.open", "views.push") and c.response.get("ok")]

    def submit_opened(self, since: int, *, user: str = "alice") -> None:
        for view in self.new_views(since):
            self.submit(view, user=user)

    def press_everything(self, channel: str = "payments", *, user: str = "alice") -> None:
        """Every button on every message posted so far, once per kind of button, and the modal it
        opens submitted."""
        for message in list(self.bot.slack.posted()):
            for block in message.get("blocks") or []:
                elements = list(block.get("elements") or []) + ([block["accessory"]] if block.get("accessory") else [])
                for element in elements:
                    if not isinstance(element, dict) or element.get("type") != "button" or element.get("url"):
                        continue
                    if element["action_id"] in self.submitted:
                        continue
                    self.submitted.add(element["action_id"])
                    since = len(self.bot.slack.calls)
                    self.answers.append(self.bot.press(
                        element["action_id"], value=element.get("value", ""), user=user,
                        message=copy.deepcopy(message), channel=message.get("channel") or channel,
                        block_id=block.get("block_id")).json)
                    self.submit_opened(since, user=user)


def risks(explorer: Explorer) -> None:
    since = len(explorer.bot.slack.calls)
    explorer.command("risk", channel="payments")
    explorer.submit_opened(since)
    explorer.command(f'risk "{HUGE}" p3 i4', channel="payments")
    explorer.command(f'risk "{nasty(150)}" p5 i5', channel="payments")
    explorer.command("risk list", channel="payments")
    explorer.command("risk QR-001", channel="payments")
    explorer.command("risk bands", channel="payments")
    explorer.press_everything()
    explorer.command("risk list all", channel="payments")
    explorer.command("risk QR-001", channel="payments")


def incidents(explorer: Explorer) -> None:
    since = len(explorer.bot.slack.calls)
    explorer.command(f"incident {HUGE}", channel="payments")  # the title is filled into the form
    explorer.submit_opened(since)
    since = len(explorer.bot.slack.calls)
    explorer.command(f"incident {nasty(150)}", user="dave", channel="payments")
    explorer.submit_opened(since, user="dave")
    explorer.command("incident list", channel="payments")
    explorer.command(f"incident INC-001 update {HUGE}", channel="payments")
    explorer.press_everything()
    explorer.command("incident INC-001", channel="payments")
    explorer.command(f"incident INC-002 resolve {HUGE}", user="dave", channel="payments")
    since = len(explorer.bot.slack.calls)
    explorer.command("setup escalation", channel="payments")
    explorer.submit_opened(since)


def reviews(explorer: Explorer) -> None:
    team = make_team(explorer.bot.db, "Platform", channel="platform")
    for person in ("eve", "frank"):
        add_reviewer(explorer.bot.db, team, person)
    explorer.command(f"review {link(40_000)}", channel="platform")
    explorer.command(f"review {link(1990)} backend M", channel="platform")
    since = len(explorer.bot.slack.calls)
    explorer.command("review", channel="platform")
    explorer.submit_opened(since)
    explorer.command("review list", channel="platform")
    explorer.press_everything("platform", user="eve")


def teams(explorer: Explorer) -> None:
    since = len(explorer.bot.slack.calls)
    explorer.command("setup", channel="general")
    explorer.submit_opened(since)
    since = len(explorer.bot.slack.calls)
    explorer.command("setup reviewers", channel="payments")
    explorer.command("setup targets", channel="payments")
    explorer.press_everything()
    explorer.submit_opened(since)
    explorer.command(f"setup digest {HUGE}", channel="payments")
    explorer.command(f"link {HUGE}", channel="payments")
    explorer.command(f"setup github {HUGE}", channel="payments")


def commands(explorer: Explorer) -> None:
    for command in ("", "help", "risk", "risk list", "incident", "review", "setup", "setup reviewers", "metrics",
                    "dor", "dod", "link", "dashboard", "setup digest", "setup escalation", "setup token",
                    "risk bands", "risk export", "incident list", "review list"):
        explorer.command(f"{command} {HUGE}".strip(), channel="payments")
        explorer.command(f"{command} {HUGE}".strip(), channel="general", user="UNEWCOMER")
    explorer.command(HUGE, channel="payments")
    since = len(explorer.bot.slack.calls)
    for check in ("dor", "dod"):
        explorer.command(check, channel="payments")
    explorer.submit_opened(since)
    explorer.command(f"metrics {nasty(300)}", channel="payments")


def home_and_clock(explorer: Explorer) -> None:
    for part in (risks, incidents, reviews):
        part(explorer)
    explorer.answers.append(explorer.bot.event({"type": "app_home_opened", "user": "UALICE", "tab": "home"}).json)
    explorer.answers.append(explorer.bot.event({"type": "app_home_opened", "user": "UEVE", "tab": "home"}).json)
    explorer.bot.wait()
    later = utcnow().replace(hour=9, minute=30, second=0, microsecond=0) + timedelta(days=8)
    for day in range(2):
        clock.sweep(explorer.bot.services, now=later + timedelta(days=day))
    explorer.bot.wait()
    remind_later(explorer)
    explorer.answers.append(explorer.bot.event({"type": "app_home_opened", "user": "UALICE", "tab": "home"}).json)


def remind_later(explorer: Explorer) -> None:
    """Every "Remind me later" control under the reminders the sweeps sent, pressed by whom it was sent
    to, and "Pick a time…"'s modal submitted."""
    pressed = set()
    for person in ("alice", "bob", "carol", "dave", "eve", "frank"):
        for message in explorer.bot.slack.posted("U" + person.upper()):
            for block in message.get("blocks") or []:
                for element in block.get("elements") or []:
                    action_id = element.get("action_id", "") if isinstance(element, dict) else ""
                    if not action_id.startswith("remind_later_") or action_id in pressed:
                        continue
                    pressed.add(action_id)
                    since = len(explorer.bot.slack.calls)
                    explorer.answers.append(explorer.bot.press(
                        action_id, value=element.get("value", ""), user=person, message=copy.deepcopy(message),
                        channel=message.get("channel"), block_id=block.get("block_id")).json)
                    explorer.submit_opened(since, user=person)
    assert "remind_later_pick" in pressed  # the sweeps sent reminders, and each control was tried
    assert any(view.get("callback_id") == "remind_later_pick" for view in explorer.new_views(0))


@pytest.mark.parametrize("part", [commands, risks, incidents, reviews, teams, home_and_clock],
                         ids=lambda part: part.__name__)
def test_everything_the_bot_sends_stays_within_slacks_limits(bot, slack, part, caplog):
    caplog.set_level(logging.WARNING)
    make_team(bot.db, executives=("carol",), digest="digest")
    explorer = Explorer(bot)

    part(explorer)
    bot.services.deliver_outbox()
    bot.wait()

    found = slack_limits.problems(slack, explorer.answers)
    assert found == [], "\n".join(found)
    assert len(slack.calls) + len([a for a in explorer.answers if a]) > 3  # it did talk to Slack
    crashes = [r for r in caplog.records if r.levelno >= logging.ERROR]  # a polite answer can hide a crash
    assert not crashes, "\n".join(r.getMessage()[:300] + " " + repr(r.exc_info and r.exc_info[1])[:300]
                                   for r in crashes[:10])


def test_a_40000_character_command_is_answered_with_what_fits_and_says_it_was_clipped(bot):
    make_team(bot.db)

    for text in (f"metrics {HUGE}", f"setup digest {HUGE}"):
        answer = bot.command(text, channel="payments")

        assert slack_limits.answer_problems(answer.json) == []
        assert "…(clipped)" in answer.text and len(answer.text) < 1000


def test_clip_says_so_where_it_fits_and_keeps_short_labels_to_an_ellipsis():
    assert render.clip("x" * 100, 100) == "x" * 100
    assert render.clip("x" * 3001, 3000) == "x" * 2990 + "…(clipped)"
    assert render.clip("Declare an incident now please", 24) == "Declare an incident now…"
    assert render.phrase("metrics.metrics_usage", word=HUGE).count("…(clipped)") == 1
    assert len(render.phrase("teams.config_warning", text=HUGE)) == render.PHRASE_MAX
