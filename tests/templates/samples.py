"""Sample data for every template: realistic and extreme (long texts, unicode, 200 items).

Every template in templates/ must have an entry here; test_limits renders each sample and checks
the result against Slack's limits. A new template without samples fails that test.
"""

from __future__ import annotations

LONG = "Ünïcødé 🚨 <b>&amp; text " * 400  # ~10,000 characters, with characters mrkdwn must escape
WORD = "x" * 400

# name → (kind, [context, ...]); kind is "message" or "view"
SAMPLES: dict[str, tuple[str, list[dict]]] = {
    "help/usage.json.j2": ("message", [{"unknown": None}, {"unknown": "frobnicate"}, {"unknown": LONG}]),
    "home/home.json.j2": ("view", [{}]),
}
