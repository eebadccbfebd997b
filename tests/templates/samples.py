"""Sample data for every template: realistic and extreme (long texts, unicode, 200 items).

Every template in templates/ must have samples; test_limits renders each one and checks the result
against Slack's limits, so a new template without samples fails that test. Each domain keeps its
samples in `samples_<domain>.py` beside this file, as a dict named SAMPLES:

    SAMPLES = {"risks/card.json.j2": ("message", [realistic_context, extreme_context, ...])}
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

LONG = "Ünïcødé 🚨 <b>&amp; text " * 400  # ~10,000 characters, with characters mrkdwn must escape
WORD = "x" * 400
MANY = 200


def many_users(n: int = MANY) -> list[str]:
    return [f"U{index:08d}" for index in range(n)]


def collect() -> dict[str, tuple[str, list[dict]]]:
    samples: dict[str, tuple[str, list[dict]]] = {}
    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if module.name.startswith("samples_"):
            found = importlib.import_module(f"tests.templates.{module.name}").SAMPLES
            assert not set(found) & set(samples), f"{module.name} repeats samples of another module"
            samples.update(found)
    return samples
