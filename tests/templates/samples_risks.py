"""Samples of the risks templates: the guide's QR-001 and QR-002, and extremes (10,000-character
unicode texts, 200 mitigation actions, 200 history entries, 200 rows)."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from bot.risks import DEFAULT_BANDS, ActionView, HistoryEntry, RiskForm, RiskView, band_ranges, checkbox_text
from tests.templates.samples import LONG, MANY, WORD

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GUIDE_ACTIONS = ["Conduct security audit and penetration testing", "Implement additional authentication security measures",
                 "Enhanced security code review training", "Regular security monitoring and alerting"]


def actions(texts, done_every=2):
    views = []
    for n, text in enumerate(texts, 1):
        head, tail = checkbox_text(text)
        done = n % done_every == 0
        views.append(ActionView(id=n, text=text, head=head, tail=tail, done=done, done_by="UBOB" if done else None,
                                done_at=NOW if done else None))
    return tuple(views)


QR_001 = RiskView(
    id=1, label="QR-001", team="Payments", title="Security vulnerability in authentication system",
    description="Session tokens are not rotated after a password change.", category="technical", probability=3,
    impact=4, score=12, band="high", owner_id="UBOB", review_by=date(2026, 3, 31), review_due=False, status="open",
    response=None, closing_note=None, closed_by=None, closed_at=None, created_by="UALICE", created_at=NOW,
    updated_at=NOW, actions=actions(GUIDE_ACTIONS))
QR_002 = replace(QR_001, id=2, label="QR-002", title="Code review bottleneck during peak development",
                 category="process", probability=4, impact=3, description="", review_by=None,
                 actions=actions(["Cross-train additional reviewers", "Implement reviewer load balancing"]))
CLOSED = replace(QR_001, status="closed", response="mitigated", closing_note="Penetration test passed on 12 March.\n"
                 "MFA enforced for all admin accounts.", closed_by="UBOB", closed_at=NOW + timedelta(days=10))
DUE = replace(QR_001, review_by=date(2026, 3, 2), review_due=True)
EXTREME = replace(QR_001, label="QR-1000000", team=LONG, title=LONG, description=LONG, owner_id="U" + "9" * 30,
                  actions=actions([LONG[:150]] * MANY + [WORD[:150]], done_every=3))
EXTREME_CLOSED = replace(EXTREME, status="closed", response="transferred", closing_note=LONG, closed_by="UCAROL",
                         closed_at=NOW)
NO_ACTIONS = replace(QR_002, actions=())


def history(count):
    kinds = [
        ("created", {}, {"probability": 3, "impact": 4, "score": 12, "band": "high", "owner": "UBOB"}),
        ("rescored", {"probability": 3, "impact": 4, "score": 12, "band": "high"},
         {"probability": 4, "impact": 4, "score": 16, "band": "critical", "note": LONG}),
        ("action_done", {}, {"action": LONG[:150]}),
        ("action_reopened", {}, {"action": "Cross-train additional reviewers"}),
        ("edited", {"owner": "UBOB", "review_by": None, "title": "a", "actions": []},
         {"owner": "UCAROL", "review_by": "2026-04-01", "title": LONG, "actions": [LONG]}),
        ("closed", {}, {"response": "accepted", "note": LONG, "open_actions": []}),
        ("something_new", {}, {}),
    ]
    return [HistoryEntry(at=NOW + timedelta(minutes=n), actor_id="qms-bot" if n % 5 == 4 else "UALICE",
                         action=kinds[n % len(kinds)][0], before=kinds[n % len(kinds)][1],
                         after=kinds[n % len(kinds)][2]) for n in range(count)]


REALISTIC_HISTORY = [
    HistoryEntry(NOW, "UALICE", "created", {}, {"probability": 3, "impact": 4, "score": 12, "band": "high",
                                                 "owner": "UBOB"}),
    HistoryEntry(NOW, "UBOB", "action_done", {}, {"action": GUIDE_ACTIONS[1]}),
    HistoryEntry(NOW, "UBOB", "rescored", {"probability": 3, "impact": 4, "score": 12, "band": "high"},
                 {"probability": 2, "impact": 4, "score": 8, "band": "medium", "note": "MFA is live"}),
]
RANGES = band_ranges(DEFAULT_BANDS)
TIGHT = band_ranges({"medium": 2, "high": 3, "critical": 25})  # one-score bands: "2 medium", "25 critical"
NEW_FORM = RiskForm(title="", probability=None, impact=None, owner_id="UALICE", category=None)
EDIT_FORM = RiskForm(title=QR_001.title, probability=3, impact=4, owner_id="UBOB", category="technical",
                     description=QR_001.description, actions=GUIDE_ACTIONS, review_by=date(2026, 3, 31))
EXTREME_FORM = RiskForm(title=LONG, probability="9", impact=None, owner_id="UBOB", category="forged",
                        description=LONG, actions=[LONG] * MANY, review_by=date(2026, 3, 31))
CLOSED_ROW = SimpleNamespace(response="avoided", closed_by="UBOB", closing_note="Feature removed.")
EXTREME_CLOSED_ROW = SimpleNamespace(response="accepted", closed_by="UBOB", closing_note=LONG)
META = '{"risk_id": 1}'


def listing(scope, rows, total, page=1, pages=1):
    return {"scope": scope, "team": "Payments" if scope != "mine" else None, "rows": rows, "total": total,
            "page": page, "pages": pages, "previous": '{"page": 1}' if page > 1 else None,
            "next": '{"page": 3}' if page < pages else None}


SAMPLES = {
    "risks/card.json.j2": ("message", [
        {"risk": QR_001}, {"risk": QR_002}, {"risk": NO_ACTIONS}, {"risk": CLOSED}, {"risk": DUE},
        {"risk": EXTREME}, {"risk": EXTREME_CLOSED},
    ]),
    "risks/owner_dm.json.j2": ("message", [
        {"risk": QR_001, "actor_id": "UALICE"}, {"risk": NO_ACTIONS, "actor_id": "UALICE"},
        {"risk": EXTREME, "actor_id": "UALICE"},
    ]),
    "risks/logged.json.j2": ("message", [
        {"risk": QR_001, "channel": "CPAYMENTS"}, {"risk": EXTREME, "channel": "CPAYMENTS"},
    ]),
    "risks/review_reminder.json.j2": ("message", [{"risk": DUE}, {"risk": NO_ACTIONS}, {"risk": EXTREME}]),
    "risks/rescored_note.json.j2": ("message", [
        {"risk_label": "QR-001", "actor_id": "UBOB", "before": {"probability": 3, "impact": 4, "score": 12, "band": "high"},
         "after": {"probability": 4, "impact": 4, "score": 16, "band": "critical", "note": "Exploit published"}},
        {"risk_label": "QR-001", "actor_id": "UBOB", "before": {"probability": 3, "impact": 4, "score": 12, "band": "high"},
         "after": {"probability": 3, "impact": 4, "score": 12, "band": "high", "note": ""}},
        {"risk_label": "QR-1000000", "actor_id": "UBOB", "before": {"probability": 1, "impact": 1, "score": 1,
                                                                    "band": "low"},
         "after": {"probability": 5, "impact": 5, "score": 25, "band": "critical", "note": LONG}},
    ]),
    "risks/closed_note.json.j2": ("message", [
        {"risk_label": "QR-001", "risk": CLOSED_ROW}, {"risk_label": "QR-1000000", "risk": EXTREME_CLOSED_ROW},
    ]),
    "risks/list.json.j2": ("message", [
        listing("open", [QR_001, QR_002], 2), listing("open", [], 0), listing("all", [QR_001, CLOSED], 2),
        listing("mine", [QR_001], 1), listing("mine", [], 0),
        listing("open", [EXTREME] * 10, 250, page=2, pages=25), listing("all", [EXTREME_CLOSED] * MANY, MANY * 5,
                                                                        page=25, pages=25),
    ]),
    "risks/detail.json.j2": ("message", [
        {"risk": QR_001, "history": REALISTIC_HISTORY}, {"risk": CLOSED, "history": history(6)},
        {"risk": NO_ACTIONS, "history": []}, {"risk": EXTREME, "history": history(MANY)},
        {"risk": EXTREME_CLOSED, "history": history(MANY)},
    ]),
    "risks/usage.json.j2": ("message", [
        {"unknown": None, "team": None, "ranges": RANGES}, {"unknown": None, "team": "Payments", "ranges": TIGHT},
        {"unknown": "Login outage", "team": "Payments", "ranges": RANGES},
        {"unknown": LONG, "team": LONG, "ranges": TIGHT},
    ]),
    "risks/bands.json.j2": ("message", [
        {"team": "Payments", "ranges": RANGES, "default": True},
        {"team": "Payments", "ranges": TIGHT, "default": False}, {"team": LONG, "ranges": TIGHT, "default": False},
    ]),
    "risks/bands_saved.json.j2": ("message", [
        {"team": "Payments", "ranges": RANGES, "changed": True, "cards": 3},
        {"team": "Payments", "ranges": RANGES, "changed": False, "cards": 0},
        {"team": LONG, "ranges": band_ranges({"medium": 2, "high": 3, "critical": 25}), "changed": True, "cards": 1},
    ]),
    "risks/form_modal.json.j2": ("view", [
        {"form": NEW_FORM, "editing": None, "team": "Payments", "ranges": RANGES,
         "metadata": '{"team_id": 1, "channel_id": "CPAYMENTS"}'},
        {"form": EDIT_FORM, "editing": QR_001, "team": "Payments", "ranges": RANGES, "metadata": META},
        {"form": EXTREME_FORM, "editing": None, "team": LONG, "ranges": TIGHT, "metadata": META},
        {"form": EXTREME_FORM, "editing": EXTREME, "team": LONG, "ranges": TIGHT, "metadata": META},
    ]),
    "risks/rescore_modal.json.j2": ("view", [{"risk": QR_001, "ranges": RANGES, "metadata": META},
                                             {"risk": EXTREME, "ranges": TIGHT, "metadata": META}]),
    "risks/close_modal.json.j2": ("view", [
        {"risk": QR_001, "metadata": META}, {"risk": NO_ACTIONS, "metadata": META}, {"risk": EXTREME, "metadata": META},
    ]),
    "risks/bands_modal.json.j2": ("view", [
        {"bands": DEFAULT_BANDS, "ranges": RANGES, "team": "Payments", "metadata": META},
        {"bands": {"medium": 2, "high": 3, "critical": 25}, "ranges": band_ranges({"medium": 2, "high": 3,
                                                                                 "critical": 25}),
         "team": LONG, "metadata": META},
    ]),
}
