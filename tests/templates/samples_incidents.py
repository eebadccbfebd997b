from datetime import UTC, datetime, timedelta

from bot.incidents import CHECKLIST, CHECKLIST_KEYS, IncidentForm, Thresholds
from storage.incidents import Incident, IncidentEvent
from tests.templates.samples import LONG, many_users

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LIMITS = Thresholds(24, 48)
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
MIXED = {"SEV1": Thresholds(4, 8), "SEV2": Thresholds(12, 24), "SEV3": LIMITS, "SEV4": LIMITS}
ODD = {"SEV1": Thresholds(0.25, 1.5), "SEV2": Thresholds(4.5, 8), "SEV3": Thresholds(36, 72),
       "SEV4": Thresholds(719.75, 720)}
PEOPLE = {1: ["UALICE"], 2: ["UBOB"], 3: ["UCAROL"]}
CROWD = {level: many_users() for level in (1, 2, 3)}


def incident(**changes) -> Incident:
    values = dict(id=7, workspace_id="T0TEST", team_id=1, number=7, title="Checkout fails for card payments",
                  severity="SEV1", affected_systems="payments-api, checkout web", description="Since 08:40 UTC.",
                  commander_id="UALICE", declared_by="UDAVE", declared_at=T0, level=1, level_changed_at=T0,
                  channel_id="CPAYMENTS", responders=[], checklist_done=["1.1", "1.2"])
    return Incident(**{**values, **changes})


OPEN = incident()
BUSY = incident(level=2, acknowledged_by="UBOB", acknowledged_at=T0 + timedelta(minutes=5),
                latest_update="Rolled back release 4.2; error rate falling.", latest_update_by="UBOB",
                latest_update_at=T0 + timedelta(hours=2), own_channel=True, channel_id="C00000042")
RESOLVED = incident(status="resolved", level=2, resolved_by="UALICE", resolved_at=T0 + timedelta(hours=26),
                    summary="Expired TLS certificate on the card gateway; renewed and monitored.",
                    review_due_at=T0 + timedelta(days=6), checklist_done=list(CHECKLIST_KEYS[:21]))
EXTREME = incident(number=123456, title=LONG[:150], severity="SEV4", affected_systems=LONG, description=LONG,
                   level=3, acknowledged_by="UBOB", latest_update=LONG, latest_update_by="UBOB",
                   latest_update_at=T0, checklist_done=list(CHECKLIST_KEYS))
EXTREME_RESOLVED = incident(**{**EXTREME.model_dump(), "status": "resolved", "resolved_by": "UALICE",
                               "resolved_at": T0 + timedelta(days=40), "summary": LONG,
                               "review_due_at": T0 + timedelta(days=45), "checklist_done": []})
NEVER_PLACED = incident(channel_id=None)


def event(kind, actor="UBOB", text=None, **data) -> IncidentEvent:
    return IncidentEvent(id=1, workspace_id="T0TEST", incident_id=7, at=T0, actor_id=actor, kind=kind, level=1,
                         text=text, data=data or None)


EVENTS = [
    event("declared", actor="UDAVE", severity="SEV1", commander="UALICE"),
    event("channel", actor="qms-bot", channel="C00000042"),
    event("acknowledged"),
    event("update", text="Rolled back release 4.2."),
    event("escalated", actor="qms-bot", **{"from": 1, "to": 2, "automatic": True}),
    event("escalated", **{"from": 2, "to": 3, "automatic": False}),
    event("severity", **{"from": "SEV2", "to": "SEV1"}),
    event("commander", **{"from": "UALICE", "to": "UBOB"}),
    event("checklist", item="1.1", done=True),
    event("checklist", item="1.1", done=False),
    event("resolved", actor="UALICE", text="Certificate renewed."),
    event("review_reminder", actor="qms-bot", to="UALICE"),
    event("something_new"),
]
LONG_EVENTS = [event("update", text=LONG) for _ in range(40)]


def card(item, people=PEOPLE, next_escalation=(2, T0 + timedelta(hours=24))):
    return {"incident": item, "team_name": "Payments", "level_people": people, "thresholds": LIMITS,
            "next_escalation": next_escalation}


def ping(item, levels, automatic=True, people=("UBOB",), level_people=PEOPLE, actor="qms-bot"):
    return {"incident": item, "levels": levels, "people": list(people), "automatic": automatic, "actor_id": actor,
            "team_name": "Payments", "level_people": level_people, "thresholds": LIMITS,
            "next_escalation": (3, T0 + timedelta(hours=48)) if max(levels) < 3 else None}


SAMPLES = {
    "incidents/commander_dm.json.j2": ("message", [
        {"incident": OPEN, "actor_id": "UDAVE"}, {"incident": EXTREME, "actor_id": "W" + "9" * 20},
        {"incident": incident(channel_id=None), "actor_id": "UBOB"},
    ]),
    "incidents/card.json.j2": ("message", [
        card(OPEN), card(BUSY, next_escalation=(3, T0 + timedelta(hours=48))), card(RESOLVED, next_escalation=None),
        card(EXTREME, people=CROWD, next_escalation=None), card(EXTREME_RESOLVED, people=CROWD, next_escalation=None),
        card(incident(level=2), people={1: [], 2: [], 3: []}),
    ]),
    "incidents/checklist.json.j2": ("message", [
        {"incident": OPEN, "steps": CHECKLIST}, {"incident": EXTREME, "steps": CHECKLIST},
    ]),
    "incidents/announce.json.j2": ("message", [
        {"incident": BUSY, "team_name": "Payments"}, {"incident": EXTREME, "team_name": LONG},
    ]),
    "incidents/note.json.j2": ("message", [
        {"incident": RESOLVED, "event": event("resolved", actor="UALICE", text=RESOLVED.summary)},
        {"incident": BUSY, "event": event("update", text="Error rate back to normal.")},
        {"incident": BUSY, "event": event("acknowledged")},
        {"incident": EXTREME_RESOLVED, "event": event("resolved", text=LONG)},
        {"incident": EXTREME, "event": event("update", text=LONG)},
        {"incident": EXTREME, "event": event("severity", **{"from": "SEV2", "to": "SEV1"})},
    ]),
    "incidents/ping.json.j2": ("message", [
        ping(OPEN, [1], automatic=False, people=["UALICE"], actor="UDAVE"),
        ping(incident(level=2), [2]),
        ping(incident(level=3), [2, 3], people=["UBOB", "UCAROL"]),
        ping(incident(level=3), [3], automatic=False, people=["UCAROL"], actor="UDAVE"),
        ping(incident(level=2), [2], people=[], level_people={1: [], 2: [], 3: []}),
        ping(EXTREME, [2, 3], people=many_users(), level_people=CROWD),
        ping(EXTREME, [1, 2, 3], people=[], level_people={1: [], 2: [], 3: []}),
    ]),
    "incidents/ping_dm.json.j2": ("message", [
        ping(OPEN, [1], automatic=False, people=["UALICE"], actor="UDAVE"),
        ping(incident(level=2, level_changed_at=T0 + timedelta(hours=24)), [2]),
        ping(incident(level=3, acknowledged_by="UBOB"), [3], automatic=False, people=["UCAROL"], actor="UDAVE"),
        ping(EXTREME, [2, 3], people=many_users(), level_people=CROWD),
    ]),
    "incidents/review_reminder.json.j2": ("message", [
        {"incident": RESOLVED, "team_name": "Payments", "steps": CHECKLIST},
        {"incident": EXTREME_RESOLVED, "team_name": LONG, "steps": CHECKLIST},
        {"incident": incident(**{**RESOLVED.model_dump(), "checklist_done": list(CHECKLIST_KEYS)}),
         "team_name": "Payments", "steps": CHECKLIST},
    ]),
    "incidents/declare_modal.json.j2": ("view", [
        {"form": IncidentForm(title="", severity=None, commander_id="UDAVE"), "metadata": '{"team_id": 1}',
         "duplicate": None, "thresholds": {s: LIMITS for s in SEVERITIES}, "now": T0},
        {"form": IncidentForm(title="checkout failing", severity="SEV2", commander_id="UDAVE",
                              affected_systems="checkout", description="Cards declined"),
         "metadata": '{"team_id": 1}', "duplicate": OPEN, "thresholds": MIXED, "now": T0 + timedelta(minutes=12)},
        {"form": IncidentForm(title=LONG, severity="SEV1", commander_id="UDAVE", affected_systems=LONG,
                              description=LONG),
         "metadata": '{"team_id": 1, "channel_id": "CPAYMENTS"}', "duplicate": EXTREME, "thresholds": ODD,
         "now": T0},
        {"form": IncidentForm(title="x", severity=None, commander_id="UDAVE"), "metadata": "{}",
         "duplicate": NEVER_PLACED, "thresholds": None, "now": T0},
    ]),
    "incidents/update_modal.json.j2": ("view", [
        {"incident": BUSY, "metadata": '{"incident_id": 7}'}, {"incident": EXTREME_RESOLVED, "metadata": "{}"},
    ]),
    "incidents/resolve_modal.json.j2": ("view", [
        {"incident": OPEN, "metadata": '{"incident_id": 7}', "review_days": 5},
        {"incident": EXTREME, "metadata": "{}", "review_days": 30},
    ]),
    "incidents/escalation_modal.json.j2": ("view", [
        {"team_name": "Payments", "current": {s: LIMITS for s in ("SEV1", "SEV2", "SEV3", "SEV4")},
         "metadata": '{"team_id": 1}'},
        {"team_name": LONG, "current": {"SEV1": Thresholds(0.25, 1.5), "SEV2": Thresholds(4, 8),
                                        "SEV3": LIMITS, "SEV4": Thresholds(719.75, 720)}, "metadata": "{}"},
    ]),
    "incidents/escalation_saved.json.j2": ("message", [
        {"team_name": "Payments", "current": {s: LIMITS for s in ("SEV1", "SEV2", "SEV3", "SEV4")}},
        {"team_name": LONG, "current": {"SEV1": Thresholds(0.25, 1.5), "SEV4": Thresholds(719.75, 720)}},
    ]),
    "incidents/declared.json.j2": ("message", [
        {"incident": OPEN, "leads": ["UALICE"], "next_escalation": (2, T0 + timedelta(hours=24))},
        {"incident": NEVER_PLACED, "leads": [], "next_escalation": None},
        {"incident": EXTREME, "leads": many_users(), "next_escalation": (3, T0)},
    ]),
    "incidents/timeline.json.j2": ("message", [
        {"incident": BUSY, "team_name": "Payments", "events": EVENTS, "page": 1, "pages": 1, "total": len(EVENTS),
         "now": T0 + timedelta(hours=30)},
        {"incident": RESOLVED, "team_name": "Payments", "events": EVENTS[:1], "page": 1, "pages": 1, "total": 1,
         "now": T0},
        {"incident": EXTREME_RESOLVED, "team_name": LONG, "events": LONG_EVENTS, "page": 2, "pages": 5,
         "total": 200, "now": T0},
    ]),
    "incidents/list.json.j2": ("message", [
        {"incidents": [], "team_names": {}, "scope": "Payments", "now": T0},
        {"incidents": [], "team_names": {}, "scope": None, "now": T0},
        {"incidents": [OPEN, BUSY], "team_names": {1: "Payments"}, "scope": None, "now": T0 + timedelta(hours=3)},
        {"incidents": [EXTREME] * 250, "team_names": {1: LONG}, "scope": LONG, "now": T0 + timedelta(days=9)},
        {"incidents": [EXTREME] * 200, "team_names": {1: LONG}, "scope": None, "now": T0 + timedelta(days=9)},
    ]),
}
