"""Samples of the digest templates, with and without the other domains' sections."""

from datetime import UTC, datetime
from types import SimpleNamespace

from bot.digests import Digest, IncidentSection, ReviewSection, RiskLine, RiskSection
from tests.templates.samples import LONG, MANY, many_users
from tests.templates.samples_metrics import empty_report, extreme_report, realistic_report

REVIEWS = ReviewSection(done=42, mean_hours=4.2, median_hours=3.5, quality=8.7, stalled=2,
                        utilization=[("UBOB", 78.0), ("UEVE", 92.0), ("UHENRY", 55.0)], previous_mean_hours=5.0,
                        previous_quality=8.5)
INCIDENTS = IncidentSection(open_by_level={1: 2, 2: 1}, declared=4, resolved=3, mean_hours_to_resolve=19.5)
RISKS = RiskSection(opened=2, closed=1, top=[RiskLine("QR-001", "Security vulnerability in authentication system", 12,
                                                      "high", "UCAROL"),
                                             RiskLine("QR-002", "Code review bottleneck during peak development", 12,
                                                      "high", None)])
LONG_REVIEWS = ReviewSection(done=10**9, mean_hours=1e9, median_hours=1e9, quality=10.0, stalled=10**9,
                             utilization=[(user, 999.9) for user in many_users()])
LONG_INCIDENTS = IncidentSection(open_by_level={1: 10**9, 2: 10**9, 3: 10**9}, declared=10**9, resolved=10**9,
                                 mean_hours_to_resolve=1e9)
LONG_RISKS = RiskSection(opened=10**9, closed=10**9, top=[RiskLine(LONG, LONG, 25, LONG, user)
                                                          for user in many_users()])
GUIDE_ACTIONS = ["Schedule a requirements writing workshop: DoR pass rate is 85% against >90%, mostly for incomplete "
                 "requirements.", "Investigate the security scans failures (flaky or real?): 92% against >95%."]


def digest(kind, report, **sections):
    return Digest(kind=kind, period="2026-W10" if kind == "weekly" else "2026-03-09", team_id=1,
                  team_name=report.team_name, timezone=report.timezone, report=report, **sections)


def contexts(kind):
    return [
        {"digest": digest(kind, realistic_report()), "actions": GUIDE_ACTIONS},
        {"digest": digest(kind, realistic_report(), reviews=REVIEWS, incidents=INCIDENTS, risks=RISKS),
         "actions": GUIDE_ACTIONS},
        {"digest": digest(kind, empty_report()), "actions": ["No quality data yet."]},
        {"digest": digest(kind, extreme_report(), reviews=LONG_REVIEWS, incidents=LONG_INCIDENTS, risks=LONG_RISKS),
         "actions": [LONG] * MANY},
    ]


TEAM = SimpleNamespace(name="Payments", digest_time="09:00", timezone="Europe/Berlin")
NEXT = {"daily": datetime(2026, 3, 10, 8, tzinfo=UTC), "weekly": datetime(2026, 3, 16, 8, tzinfo=UTC)}

SAMPLES = {
    "digests/daily.json.j2": ("message", contexts("daily")),
    "digests/weekly.json.j2": ("message", contexts("weekly")),
    "digests/schedule.json.j2": ("message", [
        {"team": TEAM, "channel": "CDIGEST", "upcoming": NEXT, "changed": False},
        {"team": SimpleNamespace(name=LONG, digest_time="23:59", timezone=LONG), "channel": None, "upcoming": {},
         "changed": True},
    ]),
}
