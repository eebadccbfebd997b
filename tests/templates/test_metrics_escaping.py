"""What people typed (team names, work items, notes, titles) reaches Slack's mrkdwn escaped, in the
blocks and in the notification's fallback text, in every metrics, digest and App Home template."""

import pytest

from bot.core import render
from tests.templates.samples import collect

SAMPLES = collect()
MINE = sorted(name for name in SAMPLES if name.split("/")[0] in ("metrics", "digests", "home"))
# tests.templates.samples.LONG carries "<b>&amp;": escaped, it reads "&lt;b&gt;&amp;amp;".
CASES = [(name, index) for name in MINE for index in range(len(SAMPLES[name][1]))]


def mrkdwn_texts(payload):
    """The top-level fallback text and every mrkdwn text object of a payload."""
    found = [payload["text"]] if isinstance(payload.get("text"), str) else []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(payload.get("blocks", []))
    return found


@pytest.mark.parametrize("name, index", CASES)
def test_typed_text_is_escaped_in_every_mrkdwn_text_and_fallback(name, index):
    kind, contexts = SAMPLES[name]

    payload = (render.view if kind == "view" else render.message)(name, **contexts[index])

    for text in mrkdwn_texts(payload):
        assert "<b>" not in text and "&amp; text" not in text, f"{name}[{index}]: {text[:200]}"
