"""Quality data for tests: DoR/DoD checks, gate results and defects, stored the way the app stores them;
and reviews, incidents and risks made through their own domains, for the digests' sections."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import incidents, reviews, risks
from bot.risks import RiskForm
from storage import metrics as store
from storage.db import Database
from storage.metrics import ItemCheck
from storage.teams import Team
from tests.harness.teams import add_reviewer


def add_checks(db: Database, team: Team, kind: str, *checks: tuple) -> None:
    """checks: (at, passed, reason, minutes[, work_item]) each."""
    with db.transaction() as session:
        for number, (at, passed, reason, minutes, *item) in enumerate(checks):
            session.add(ItemCheck(workspace_id=team.workspace_id, team_id=team.id, kind=kind,
                                  work_item=item[0] if item else f"PROJ-{number}", passed=passed, reason=reason,
                                  minutes=minutes, checked_by="UALICE", checked_at=at))


def add_gates(db: Database, team: Team, gate: str, at: datetime, *, runs: int, passed: int,
              values: tuple[float, ...] = (), seconds: float | None = None) -> None:
    """`runs` results of one gate at one moment, the first `passed` of them passing."""
    rows = [dict(workspace_id=team.workspace_id, team_id=team.id, gate=gate, passed=n < passed,
                 value=values[n] if n < len(values) else None, duration_seconds=seconds, happened_at=at,
                 received_at=at) for n in range(runs)]
    with db.transaction() as session:
        store.add_gate_results(session, rows)


def add_defects(db: Database, team: Team, at: datetime, *, production: int, before_release: int) -> None:
    rows = [dict(workspace_id=team.workspace_id, team_id=team.id, found_in=found, found_at=at, received_at=at)
            for found in ["production"] * production + ["before_release"] * before_release]
    with db.transaction() as session:
        store.add_defects(session, rows)


# --- reviews, incidents and risks, through their domains (for the digests' sections) -----------------
def at(text: str) -> datetime:
    """"2026-03-02 10:00" as a UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def file_review(db: Database, team: Team, url: str, *, now: str, author: str = "UDAVE",
                specialization: str = "Backend/API") -> dict[str, tuple[str, int]]:
    """A review request filed at `now`: {role: (reviewer, assignment id)} of the reviewers it got."""
    with db.transaction() as session:
        form = reviews.RequestForm(url=url, specialization=specialization)
        filed = reviews.file_request(session, session.merge(team), form, author_id=author, channel_id=None,
                                     now=at(now))
        return {a.role: (a.reviewer_id, a.id) for a in filed.assignments}


def finish_review(db: Database, team: Team, assignment: tuple[str, int], *, now: str,
                  rating: int | None = None) -> None:
    """The reviewer of `assignment` (reviewer, id) presses Done at `now`; the author rates it then, if `rating`."""
    reviewer, assignment_id = assignment
    with db.transaction() as session:
        request = reviews.finish(session, team.workspace_id, assignment_id, reviewer, now=at(now))
    if rating is not None:
        with db.transaction() as session:
            reviews.rate(session, team.workspace_id, assignment_id, request.author_id, rating, now=at(now))


def declare_incident(db: Database, team: Team, title: str, *, now: str, severity: str = "SEV2",
                     commander: str = "UALICE") -> int:
    with db.transaction() as session:
        form = incidents.IncidentForm(title=title, severity=severity, commander_id=commander)
        return incidents.declare(session, session.merge(team), form, actor_id=commander, now=at(now)).id


def escalate_incident(db: Database, team: Team, incident_id: int, *, now: str) -> None:
    with db.transaction() as session:
        incidents.escalate_now(session, team.workspace_id, incident_id, actor_id="UALICE", now=at(now))


def resolve_incident(db: Database, team: Team, incident_id: int, *, now: str) -> None:
    with db.transaction() as session:
        incidents.resolve(session, team.workspace_id, incident_id, summary="Fixed and verified", actor_id="UALICE",
                          workspace_admin=False, now=at(now))


def log_risk(db: Database, team: Team, title: str, probability: int, impact: int, *, owner: str, now: str) -> int:
    with db.transaction() as session:
        form = RiskForm(title=title, probability=probability, impact=impact, owner_id=owner)
        return risks.log_risk(session, session.merge(team), form, actor_id=owner, now=at(now)).risk.id


def close_risk(db: Database, team: Team, risk_id: int, *, now: str) -> None:
    with db.transaction() as session:
        risk, fresh = risks.open_risk(session, team.workspace_id, risk_id)
        risks.close_risk(session, risk, fresh, "mitigated", "Done", actor_id=risk.owner_id, now=at(now))


def a_fortnight(db: Database, team: Team) -> None:
    """Two weeks of Payments (UTC, Mon–Fri 09:00–17:00): week 9 (23 Feb – 1 Mar 2026) and week 10
    (2 – 8 Mar), with reviews, incidents and risks. Tests work their figures out by hand from this
    account (the reviewers each request got are asserted, so the account stays true):

    Reviewers eve (gold, capacity 3), frank (silver, 2), ivy (bronze, 2), all Backend/API; dave asks.
    CR-001 Tue 24 Feb 10:00: eve primary done 12:00 (2 h, rated 10), frank secondary done 13:00 (3 h,
           rated 9) → done in 3 h.
    CR-002 Mon 2 Mar 10:00: eve primary done 13:00 (3 h, rated 9), ivy secondary done 14:00 (4 h,
           rated 7) → done in 4 h.
    CR-003 Tue 3 Mar 09:00: frank primary done 15:00 (6 h, rated 8), eve secondary done Wed 10:00
           (9 h, not rated) → done in 9 h.
    CR-004 Thu 5 Mar 09:00: eve primary, ivy secondary; stalls Thu 15:00 (6 working hours); open.
    CR-005 Fri 6 Mar 16:00, by eve: frank primary, ivy secondary; open.
    INC-001 SEV2 Mon 2 Mar 08:00, resolved 13:30 (5.5 h).
    INC-002 SEV1 Tue 3 Mar 10:00, escalated to Level 2 at 12:00, resolved Wed 4 Mar 12:00 (26 h).
    INC-003 SEV1 Fri 6 Mar 09:00, escalated to Level 2 at 10:00; open.
    INC-004 SEV3 Sun 8 Mar 20:00, commanded by bob; open at Level 1.
    QR-001 12 (3 × 4, high), carol's, logged Mon 23 Feb.   QR-002 12 (4 × 3, high), bob's, Tue 3 Mar.
    QR-003 20 (4 × 5, critical), alice's, Wed 4 Mar.      QR-004 4 (2 × 2, low), dave's, Thu 5 Mar,
           closed Fri 6 Mar.
    """
    add_reviewer(db, team, "eve", "gold", ["Backend/API"], capacity=3)
    add_reviewer(db, team, "frank", "silver", ["Backend/API"], capacity=2)
    add_reviewer(db, team, "ivy", "bronze", ["Backend/API"], capacity=2)

    first = file_review(db, team, "https://git.example.com/pay/1", now="2026-02-24 10:00")
    finish_review(db, team, first["primary"], now="2026-02-24 12:00", rating=10)
    finish_review(db, team, first["secondary"], now="2026-02-24 13:00", rating=9)
    second = file_review(db, team, "https://git.example.com/pay/2", now="2026-03-02 10:00")
    finish_review(db, team, second["primary"], now="2026-03-02 13:00", rating=9)
    finish_review(db, team, second["secondary"], now="2026-03-02 14:00", rating=7)
    third = file_review(db, team, "https://git.example.com/pay/3", now="2026-03-03 09:00")
    finish_review(db, team, third["primary"], now="2026-03-03 15:00", rating=8)
    finish_review(db, team, third["secondary"], now="2026-03-04 10:00")
    fourth = file_review(db, team, "https://git.example.com/pay/4", now="2026-03-05 09:00")
    reviews.sweep(db, now=at("2026-03-05 15:00"))
    fifth = file_review(db, team, "https://git.example.com/pay/5", now="2026-03-06 16:00", author="UEVE")
    got = [{role: who for role, (who, _) in filed.items()} for filed in (first, second, third, fourth, fifth)]
    assert got == [{"primary": "UEVE", "secondary": "UFRANK"}, {"primary": "UEVE", "secondary": "UIVY"},
                   {"primary": "UFRANK", "secondary": "UEVE"}, {"primary": "UEVE", "secondary": "UIVY"},
                   {"primary": "UFRANK", "secondary": "UIVY"}], got  # the account above

    first_incident = declare_incident(db, team, "Payment gateway timeouts", now="2026-03-02 08:00")
    resolve_incident(db, team, first_incident, now="2026-03-02 13:30")
    certificate = declare_incident(db, team, "Expired certificate on api.acme.com", severity="SEV1",
                                   now="2026-03-03 10:00")
    escalate_incident(db, team, certificate, now="2026-03-03 12:00")
    resolve_incident(db, team, certificate, now="2026-03-04 12:00")
    checkout = declare_incident(db, team, "Checkout is down for EU cards", severity="SEV1", now="2026-03-06 09:00")
    escalate_incident(db, team, checkout, now="2026-03-06 10:00")
    declare_incident(db, team, "Refund emails delayed", severity="SEV3", commander="UBOB", now="2026-03-08 20:00")

    log_risk(db, team, "Security vulnerability in authentication system", 3, 4, owner="UCAROL", now="2026-02-23 11:00")
    log_risk(db, team, "Code review bottleneck during peak development", 4, 3, owner="UBOB", now="2026-03-03 11:00")
    log_risk(db, team, "Card data stored in logs", 4, 5, owner="UALICE", now="2026-03-04 11:00")
    flaky = log_risk(db, team, "Flaky end-to-end suite", 2, 2, owner="UDAVE", now="2026-03-05 11:00")
    close_risk(db, team, flaky, now="2026-03-06 11:00")


def full_metrics(bot, text: str = "metrics", *, channel: str = "payments", user: str = "alice"):
    """`/qms <text>`, then "Show all metrics" pressed under its answer: the full table, as the
    response that replaced the short answer ({"json", "text", "short"})."""
    from types import SimpleNamespace

    from tests.harness.bot import blocks_text

    short = bot.command(text, channel=channel, user=user)
    [value] = [element["value"] for block in short.json.get("blocks", []) if block["type"] == "actions"
               for element in block["elements"] if element.get("action_id") == "metrics_show_all"]
    bot.slack.responses.clear()
    bot.press("metrics_show_all", value=value, user=user, channel=channel)  # an ephemeral answer: no message
    [full] = bot.responses()
    return SimpleNamespace(json=full, text=blocks_text(full), short=short)
