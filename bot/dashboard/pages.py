"""The dashboard's HTML: templates/dashboard/*.html.j2 rendered with autoescape on (every value from
a person, a team name or a risk title, is escaped). Charts are inline SVG computed here as points,
so a page needs no script, no CDN and no build step."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2

from bot.core.render import TEMPLATES

SPARK_WIDTH, SPARK_HEIGHT = 96, 26


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["number"] = number
    env.globals["spark"] = spark
    return env


def page(name: str, **context: Any) -> str:
    return environment().get_template(f"dashboard/{name}.html.j2").render(**context)


def number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    text = f"{value:.1f}" if unit in ("/10", "h", "min") or abs(value) < 10 else f"{value:.0f}"
    return text + ({"%": " %", "h": " h", "min": " min"}.get(unit, unit))


def spark(values: list[float | None]) -> dict[str, Any]:
    """An SVG polyline's points for a trend (None: no point that week), scaled to its own range."""
    known = [v for v in values if v is not None]
    if not known:
        return {"points": "", "dots": [], "width": SPARK_WIDTH, "height": SPARK_HEIGHT}
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    step = SPARK_WIDTH / max(len(values) - 1, 1)
    dots = [(round(i * step, 1), round(SPARK_HEIGHT - 3 - (v - low) / span * (SPARK_HEIGHT - 6), 1))
            for i, v in enumerate(values) if v is not None]
    return {"points": " ".join(f"{x},{y}" for x, y in dots), "dots": dots, "width": SPARK_WIDTH,
            "height": SPARK_HEIGHT}
