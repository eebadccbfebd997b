"""Digests: the daily and weekly metric digests of each team, against its targets, with trends.

- rules.py     when a team's digests are due (its local digest_time) and which period each covers
- service.py   what a digest says: figures, sections, action items, the chart; the team's digest time
- sections.py  the reviews, incidents and risks sections, from those domains' figures
- charts.py    the weekly chart (PNG)
- clock.py     posting each digest once, when it came due
"""

from bot.digests.clock import (
    post_due,
)
from bot.digests.rules import (
    DAILY,
    WEEKLY,
    latest_due,
    next_occurrences,
)
from bot.digests.sections import (
    IncidentLine,
    IncidentSection,
    ReviewSection,
    RiskLine,
    RiskSection,
    StalledReview,
    optional_sections,
)
from bot.digests.service import (
    CHART_WEEKS,
    Digest,
    action_items,
    build,
    chart,
    chart_panels,
    figures,
    message,
    review_kpis,
    set_digest_time,
    today_items,
)

__all__ = [
    "action_items", "build", "chart", "chart_panels", "CHART_WEEKS", "DAILY", "Digest", "figures", "IncidentLine",
    "IncidentSection", "latest_due", "message", "next_occurrences", "optional_sections", "post_due", "review_kpis",
    "ReviewSection", "RiskLine", "RiskSection", "set_digest_time", "StalledReview", "today_items", "WEEKLY",
]
