"""0 × 5xx: every signed request, whatever its body, is answered 2xx or 4xx, and nothing is logged as a
crash. The seeds are harvested from the app's own modals and buttons; each is mutated at random
(values swapped for nulls, lists, objects, huge or nasty text; keys dropped; shapes wrapped), signed
and sent. QMS_FUZZ_REQUESTS sets how many (default: a few hundred, so CI stays fast)."""

from __future__ import annotations

import copy
import json
import logging
import os
import random
from urllib.parse import urlencode

import pytest

from app import slack_requests
from tests.harness.bot import TEAM_ID, _element_state, channel_id, user_id
from tests.harness.teams import make_team

REQUESTS = int(os.environ.get("QMS_FUZZ_REQUESTS", "300"))
NASTY = [None, [], {}, "", 0, -1, 2**63, 1e308, True, "null", "\u0000", "\ud7ff\ufeff\u202e", "🦆" * 50,
         "x" * 40_000, "<!channel> *bold* `code`", "INC-999999999999", "QR-0", "' OR 1=1 --", [[[[[]]]]],
         {"type": "plain_text_input", "value": None}, "{}", "U" * 80, {"values": []}, [{"a": None}]]
COMMANDS = ["help", "risk", "risk list", "incident", "incident list", "review", "setup", "risk new",
            "incident declare", "risk bands", "metrics", "dor", "review list", "setup digest"]


def harvest(bot) -> list[tuple[str, object]]:
    """Real bodies: commands, the modals they open (submitted), the buttons on what the bot posted."""
    make_team(bot.db)
    seeds: list[tuple[str, object]] = []
    for text in COMMANDS:
        seeds.append(("command", text))
        bot.command(text, channel="payments")
    for call in [c for c in bot.slack.calls if c.method in ("views.open", "views.push") and c.response.get("ok")]:
        view = call.response["view"]
        values = {}
        for block in view.get("blocks", []):
            if block.get("type") == "input" and block.get("block_id"):
                values[block["block_id"]] = {"value": _element_state(view, block["block_id"], "x")}
        seeds.append(("interaction", slack_requests.view_submission(view=view, values=values,
                                                                    user_id=user_id("alice"), team_id=TEAM_ID)))
    for message in bot.slack.posted()[:20]:
        for block in message.get("blocks") or []:
            for element in block.get("elements") or []:
                if isinstance(element, dict) and element.get("action_id"):
                    seeds.append(("interaction", slack_requests.block_action(
                        action={k: element.get(k) for k in ("action_id", "value", "type")} | {"block_id": "b"},
                        user_id=user_id("alice"), team_id=TEAM_ID, response_url=bot.slack.response_url("a"),
                        channel_id=channel_id("payments"), message=message)))
    seeds.append(("event", {"type": "app_home_opened", "user": user_id("alice"), "tab": "home"}))
    return seeds


def mutate(value, rng: random.Random):
    value = copy.deepcopy(value)
    paths = []

    def walk(node, path):
        paths.append(path)
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, path + [key])
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, path + [index])

    walk(value, [])
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(paths)
        if not path:
            if rng.random() < 0.2:
                return rng.choice([[value], None, "payload", 7])
            continue
        parent = value
        try:
            for step in path[:-1]:
                parent = parent[step]
            if rng.random() < 0.2 and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = copy.deepcopy(rng.choice(NASTY))
        except (KeyError, IndexError, TypeError):
            continue
    return value


def body_of(kind: str, seed, rng: random.Random) -> tuple[str, str]:
    if kind == "command":
        form = {"token": "t", "team_id": TEAM_ID, "channel_id": channel_id("payments"), "user_id": user_id("alice"),
                "command": "/qms", "text": seed, "response_url": "http://127.0.0.1:9/respond",
                "trigger_id": slack_requests.trigger_id()}
        key = rng.choice(list(form))
        form[key] = rng.choice([s for s in NASTY if isinstance(s, str)])
        return urlencode(form), "application/x-www-form-urlencoded"
    if kind == "event":
        body = json.loads(slack_requests.event_callback(event=seed, team_id=TEAM_ID))
        return json.dumps(mutate(body, rng)), "application/json"
    payload = mutate(seed, rng)
    if rng.random() < 0.05:
        return urlencode({"payload": json.dumps(payload)[: rng.randint(0, 50)]}), "application/x-www-form-urlencoded"
    return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"


def test_thousands_of_signed_mutated_requests_get_no_5xx_and_no_traceback(bot, caplog):
    seeds = harvest(bot)
    assert len(seeds) > len(COMMANDS) + 3  # modals and buttons were harvested, not only commands
    rng = random.Random(int(os.environ.get("QMS_FUZZ_SEED", "13")))
    caplog.set_level(logging.WARNING)
    answers: dict[int, int] = {}
    for n in range(REQUESTS):
        kind, seed = rng.choice(seeds)
        body, content_type = body_of(kind, seed, rng)
        reply = bot.signed_post(body, content_type=content_type, wait=False)
        answers[reply.status] = answers.get(reply.status, 0) + 1
        assert reply.status < 500, (reply.status, reply.body, body[:2000])
    bot.wait()
    crashes = [r for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR]
    assert not crashes, "\n".join(r.getMessage() + " " + repr(r.exc_info[1])[:300] for r in crashes[:10])
    assert answers.get(400, 0) > 0 and answers.get(200, 0) > 0


@pytest.mark.parametrize("body, content_type", [
    (urlencode({"payload": json.dumps({"type": "view_submission", "view": None})}), "application/x-www-form-urlencoded"),
    (json.dumps({"type": "event_callback", "event": None, "team_id": TEAM_ID}), "application/json"),
    (urlencode({"payload": json.dumps({"type": "block_actions", "actions": "press"})}), "application/x-www-form-urlencoded"),
    (urlencode({"payload": json.dumps({"type": "view_submission", "view": {"state": {"values": {"b": 1}}}})}),
     "application/x-www-form-urlencoded"),
    (urlencode({"payload": "[1, 2]"}), "application/x-www-form-urlencoded"),
])
def test_bodies_bolt_would_answer_500_are_a_400(bot, body, content_type):
    assert bot.signed_post(body, content_type=content_type).status == 400


def test_when_slacks_api_is_down_a_command_that_needs_it_still_tells_the_person(bot, slack):
    slack.down = True
    reply = bot.command("setup", user="UNEWCOMER")

    assert reply.status == 200
    told = reply.text + " ".join(str(r.get("text", "")) for r in bot.responses())
    assert "Slack is having trouble" in told, (reply.body, bot.responses())


def test_a_forty_thousand_character_command_is_answered_within_slacks_limits(bot):
    reply = bot.command("zz" + "x" * 40_000)

    assert reply.status == 200 and "didn't understand" in reply.text
    assert len(reply.body) < 12_000 and len(reply.json.get("text", "")) <= 4_000
