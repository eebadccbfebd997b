"""Samples of the digest templates, with and without the other domains' sections."""

from datetime import UTC, datetime
from types import SimpleNamespace

from bot.core import render
from bot.digests import Digest
from tests.templates.samples import LONG, MANY
from tests.templates.samples_metrics import (
    INCIDENTS,
    LONG_INCIDENTS,
    LONG_REVIEWS,
    LONG_RISKS,
    QUIET_INCIDENTS,
    QUIET_REVIEWS,
    QUIET_RISKS,
    REVIEWS,
    RISKS,
    empty_report,
    extreme_report,
    realistic_report,
    reviews_only_report,
)

GUIDE_ACTIONS = ["Schedule a requirements writing workshop: DoR pass rate is 85% against >90%, mostly for incomplete "
                 "requirements.", "Investigate the security scans failures (flaky or real?): 92% against >95%."]


# Action items arrive rendered (bot.digests.message): their typed parts are escaped by their phrases.
LONG_ACTION = render.phrase("digests.action_critical_risk", risk=LONG, score=25, owner="UALICE")


def digest(kind, report, **sections):
    return Digest(kind=kind, period="2026-W10" if kind == "weekly" else "2026-03-09", team_id=1,
                  team_name=report.team_name, timezone=report.timezone, report=report, **sections)


def contexts(kind):
    """Each digest, its chart following it (every other one) or not: none drawn, or drawing failed."""
    return [dict(context, with_chart=index % 2 == 0) for index, context in enumerate(_contexts(kind))]


def _contexts(kind):
    return [
        {"digest": digest(kind, realistic_report()), "actions": GUIDE_ACTIONS},
        {"digest": digest(kind, realistic_report(), reviews=REVIEWS, incidents=INCIDENTS, risks=RISKS),
         "actions": GUIDE_ACTIONS},
        {"digest": digest(kind, empty_report()), "actions": ["No quality data yet."]},
        {"digest": digest(kind, empty_report(), reviews=QUIET_REVIEWS, incidents=QUIET_INCIDENTS, risks=QUIET_RISKS),
         "actions": ["No quality data yet."]},
        {"digest": digest(kind, reviews_only_report(), reviews=REVIEWS, incidents=INCIDENTS, risks=RISKS),
         "actions": GUIDE_ACTIONS},
        {"digest": digest(kind, extreme_report(), reviews=LONG_REVIEWS, incidents=LONG_INCIDENTS, risks=LONG_RISKS),
         "actions": [LONG_ACTION] * MANY},
    ]


TEAM = SimpleNamespace(name="Payments", digest_time="09:00", timezone="Europe/Berlin")
NEXT = {"daily": datetime(2026, 3, 10, 8, tzinfo=UTC), "weekly": datetime(2026, 3, 16, 8, tzinfo=UTC)}

SAMPLES = {
    "digests/daily.json.j2": ("message", contexts("daily")),
    "digests/weekly.json.j2": ("message", contexts("weekly")),
    "digests/lead.json.j2": ("message", contexts("daily") + contexts("weekly")),
    "digests/schedule.json.j2": ("message", [
        {"team": TEAM, "channel": "CDIGEST", "upcoming": NEXT, "changed": False},
        {"team": SimpleNamespace(name=LONG, digest_time="23:59", timezone=LONG), "channel": None, "upcoming": {},
         "changed": True},
    ]),
}
