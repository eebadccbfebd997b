"""Samples of the metrics templates: realistic figures, and extreme ones (10,000-character unicode, 200 items)."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from bot.core import render
from bot.digests import IncidentLine, IncidentSection, ReviewSection, RiskLine, RiskSection, StalledReview
from bot.metrics import CheckForm, Figure, GateFigure, ReasonShare, Report
from bot.teams import BY_KEY, KPIS
from tests.templates.samples import LONG, MANY, WORD, many_users

START = datetime(2026, 3, 2, tzinfo=UTC)
END = START + timedelta(days=7)


def realistic_report(name: str = "Payments") -> Report:
    """The guide's own dashboard figures (sections 2.1 and 2.3)."""
    values = {"dor_pass_rate": (85, 80), "dor_validation_minutes": (15, 17), "unit_tests": (98, 97),
              "integration_tests": (94, 95), "security_scans": (92, 87), "performance_tests": (89, 91),
              "coverage": (87, 87), "dod_success": (96, 93), "defect_escape_rate": (2.3, 2.9),
              "cycle_time_hours": (18, None)}
    figures = [Figure(kpi=k, value=values.get(k.key, (None, None))[0], target=k.default,
                      previous=values.get(k.key, (None, None))[1], samples=20) for k in KPIS]
    gates = [GateFigure("unit", 412, 404, 97.0, BY_KEY["unit_tests"], 95, 312.0, None),
             GateFigure("integration", 120, 113, 95.0, BY_KEY["integration_tests"], 90, 840.0, None),
             GateFigure("security", 50, 46, 87.0, BY_KEY["security_scans"], 95, None, None),
             GateFigure("coverage", 60, 60, 100.0, None, None, 30.0, 87.2),
             GateFigure("lint", 80, 78, None, None, None, 12.0, None)]
    return Report(team_id=1, team_name=name, timezone="Europe/Berlin", start=START, end=END,
                  previous_start=START - timedelta(days=7), figures=figures, gates=gates,
                  dor_reasons=[ReasonShare("requirements", 9, 45.0), ReasonShare("acceptance_criteria", 6, 30.0),
                               ReasonShare("technical_design", 5, 25.0)],
                  dod_reasons=[ReasonShare("tests", 2, 100.0)],
                  counts={"dor_checks": 133, "dod_checks": 50, "gate_runs": 722, "defects": 43, "escaped": 1},
                  extras={"gate_success": 94.0, "gate_minutes": 12.0, "dod_validation_minutes": 45.0})


def extreme_report() -> Report:
    figures = [Figure(kpi=k, value=123456789.123, target=k.default, previous=-987654.3, samples=10**9) for k in KPIS]
    gates = [GateFigure(f"{LONG[:30]}-{n}", 10**9, 10**9 - n, 0.0, None, None, 10**7, 10**6) for n in range(MANY)]
    reasons = [ReasonShare(LONG if n % 2 else "requirements", 10**6, 0.5) for n in range(MANY)]
    return Report(team_id=999999, team_name=LONG, timezone="Pacific/Chatham", start=START, end=END,
                  previous_start=START - timedelta(days=7), figures=figures, gates=gates, dor_reasons=reasons,
                  dod_reasons=reasons, counts={"dor_checks": 10**9, "dod_checks": 10**9, "gate_runs": 10**12,
                                               "defects": 10**9, "escaped": 10**9},
                  extras={"gate_success": 99.99, "gate_minutes": 10**6, "dod_validation_minutes": 10**6})


def empty_report() -> Report:
    return Report(team_id=1, team_name="Platform", timezone="UTC", start=START, end=END,
                  previous_start=START - timedelta(days=7),
                  figures=[Figure(kpi=k, value=None, target=k.default) for k in KPIS], gates=[], dor_reasons=[],
                  dod_reasons=[],
                  counts=dict.fromkeys(["dor_checks", "dod_checks", "gate_runs", "defects", "escaped"], 0))


def reviews_only_report() -> Report:
    """A team that records no checks or gates yet, but whose reviews are measured."""
    report = empty_report()
    report.figures = [Figure(kpi=f.kpi, value={"review_time_hours": 7.5, "review_quality": 8.2}.get(f.kpi.key),
                             target=f.target, previous={"review_time_hours": 5.0}.get(f.kpi.key), samples=12)
                      for f in report.figures]
    return report


CHECK = SimpleNamespace(kind="dor", work_item="PROJ-123", passed=False, reason="acceptance_criteria", minutes=15,
                        note="No acceptance criteria for partial refunds")
LONG_CHECK = SimpleNamespace(kind="dod", work_item=LONG, passed=False, reason=LONG, minutes=600, note=LONG)
PASS_RATE = Figure(kpi=BY_KEY["dor_pass_rate"], value=85.0, target=90, previous=80.0)
TOKEN = "qms_hY4FrQ5wRQZKMsZiedx1wYldXdudzbPjxBgpUVWccYc"


def tokens(n):
    return [SimpleNamespace(prefix=f"qms_{index:08d}", created_by=user, created_at=START,
                            last_used_at=END if index % 2 else None) for index, user in enumerate(many_users(n))]


# The other domains' sections, as bot.digests.figures passes them: the guide's figures, quiet ones, extreme ones.
REVIEWS = ReviewSection(done=42, mean_hours=4.2, median_hours=3.5, quality=8.7, stalled=2,
                        utilization=[("UEVE", 92.0), ("UBOB", 78.0), ("UHENRY", 55.0)], previous_mean_hours=5.0,
                        previous_quality=8.5, requested=45, ratings=38, went_stalled=3, team_utilization=78.0,
                        stalled_list=[StalledReview("CR-041", "https://github.com/acme/pay/pull/812", "Backend/API",
                                                    ["UEVE", "UFRANK"], 9.5),
                                      StalledReview("CR-044", "https://github.com/acme/pay/pull/820",
                                                    "Database/Performance", [], 7.25)])
INCIDENTS = IncidentSection(open_by_level={1: 2, 2: 1, 3: 0}, declared=4, resolved=3, mean_hours_to_resolve=19.5,
                            escalated=1,
                            open_list=[IncidentLine("INC-007", "Checkout is down for EU cards", "SEV1", 2, 30.5,
                                                    "UALICE", "CINC007"),
                                       IncidentLine("INC-008", "Refund emails delayed", "SEV3", 1, 4.0, "UBOB")],
                            resolved_list=[IncidentLine("INC-004", "Payment gateway timeouts", "SEV2", 1, 5.5),
                                           IncidentLine("INC-005", "Expired certificate on api.acme.com", "SEV1", 2,
                                                        26.0)])
RISKS = RiskSection(opened=2, closed=1, open_total=5, by_band={"low": 1, "medium": 2, "high": 2, "critical": 0},
                    top=[RiskLine("QR-001", "Security vulnerability in authentication system", 12, "high", "UCAROL"),
                         RiskLine("QR-002", "Code review bottleneck during peak development", 12, "high", None)])
QUIET_REVIEWS = ReviewSection(done=0, mean_hours=None, median_hours=None, quality=None, stalled=0, utilization=[])
QUIET_INCIDENTS = IncidentSection(open_by_level={1: 0, 2: 0, 3: 0}, declared=0, resolved=0, mean_hours_to_resolve=None)
QUIET_RISKS = RiskSection(opened=0, closed=0, top=[], by_band=dict.fromkeys(("low", "medium", "high", "critical"), 0))
LONG_REVIEWS = ReviewSection(done=10**9, mean_hours=1e9, median_hours=1e9, quality=10.0, stalled=10**9,
                             utilization=[(user, 999.9) for user in many_users()], requested=10**9, ratings=10**9,
                             went_stalled=10**9, team_utilization=1e9,
                             stalled_list=[StalledReview(LONG, LONG, LONG, many_users(), 1e9) for _ in range(MANY)])
LONG_INCIDENTS = IncidentSection(open_by_level={1: 10**9, 2: 10**9, 3: 10**9}, declared=10**9, resolved=10**9,
                                 mean_hours_to_resolve=1e9, escalated=10**9,
                                 open_list=[IncidentLine(LONG, LONG, LONG, 3, 1e9, user, user.replace("U", "C"))
                                            for user in many_users()],
                                 resolved_list=[IncidentLine(LONG, LONG, LONG, 3, 1e9) for _ in range(MANY)])
LONG_RISKS = RiskSection(opened=10**9, closed=10**9, open_total=10**9,
                         by_band={"low": 10**9, "medium": 10**9, "high": 10**9, "critical": 10**9},
                         top=[RiskLine(LONG, LONG, 25, LONG, user) for user in many_users()])


def _sections(extreme=False, quiet=False):
    if extreme:
        return {"reviews": LONG_REVIEWS, "incidents": LONG_INCIDENTS, "risks": LONG_RISKS}
    if quiet:
        return {"reviews": QUIET_REVIEWS, "incidents": QUIET_INCIDENTS, "risks": QUIET_RISKS}
    return {"reviews": REVIEWS, "incidents": INCIDENTS, "risks": RISKS}


SAMPLES = {
    "metrics/check_modal.json.j2": ("view", [
        {"kind": "dor", "team_name": "Payments", "metadata": '{"kind": "dor", "team_id": 1, "channel_id": "CPAY"}',
         "form": CheckForm(kind="dor", work_item=None, result=None)},
        {"kind": "dod", "team_name": LONG, "metadata": "{}",
         "form": CheckForm(kind="dod", work_item=LONG, result="fail", reason="tests", minutes=LONG, note=LONG)},
    ]),
    "metrics/check_saved.json.j2": ("message", [
        {"check": CHECK, "team_name": "Payments", "figure": PASS_RATE},
        {"check": SimpleNamespace(**{**vars(CHECK), "passed": True, "reason": None, "note": None, "minutes": None}),
         "team_name": "Payments", "figure": None},
        {"check": LONG_CHECK, "team_name": LONG, "figure": Figure(kpi=BY_KEY["dod_success"], value=1e12, target=95)},
    ]),
    "metrics/report.json.j2": ("message", [
        {"report": realistic_report(), "sections": {}, "period": "week"},
        {"report": empty_report(), "sections": {}, "period": "day"},
        {"report": realistic_report(), "sections": _sections(), "period": "week"},
        {"report": empty_report(), "sections": _sections(quiet=True), "period": "week"},
        {"report": reviews_only_report(), "sections": _sections(), "period": "day"},
        {"report": extreme_report(), "sections": _sections(extreme=True), "period": "month"},
    ]),
    "metrics/summary.json.j2": ("message", [
        {"report": realistic_report(), "sections": {}, "period": "week", "actions": [], "team_id": 1},
        {"report": realistic_report(), "sections": _sections(), "period": "day", "team_id": 1,
         "actions": ["Fix the DoR checklist: 3 of 4 failed on acceptance criteria."] * 3},
        {"report": extreme_report(), "sections": _sections(extreme=True), "period": "month", "team_id": 10**9,
         "actions": [render.escape(LONG)] * 20},
    ]),
    "metrics/report_modal.json.j2": ("view", [
        {"report": realistic_report(), "sections": {}}, {"report": empty_report(), "sections": {}},
        {"report": realistic_report(), "sections": _sections()},
        {"report": empty_report(), "sections": _sections(quiet=True)},
        {"report": reviews_only_report(), "sections": _sections()},
        {"report": extreme_report(), "sections": _sections(extreme=True)},
    ]),
    "metrics/token_created.json.j2": ("message", [
        {"token": TOKEN, "team_name": "Payments"}, {"token": TOKEN + WORD, "team_name": LONG},
    ]),
    "metrics/tokens.json.j2": ("message", [
        {"team_name": "Payments", "tokens": tokens(2), "revoked": []},
        {"team_name": "Payments", "tokens": [], "revoked": tokens(1)},
        {"team_name": LONG, "tokens": tokens(MANY), "revoked": tokens(MANY)},
    ]),
}
