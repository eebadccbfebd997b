"""Quality metrics: DoR/DoD checks recorded from Slack, and the KPI figures of a period against the
team's targets (the guide's sections 2.1, 2.3 and 7.2). What CI sends is in bot/metrics/ci.py.

Figures are built from `storage.metrics.buckets`, which the database aggregates; nothing here loads
individual checks or gate results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable

from sqlmodel import Session

from bot.core.errors import Problems, Refusal
from bot.teams import BY_KEY, Kpi, target_values
from storage import audit
from storage import metrics as store
from storage.metrics import DOD, DOR, Bucket, ItemCheck
from storage.teams import Team

KINDS = (DOR, DOD)
# Why a check failed. DoR: the guide's rejection reasons (section 2.1). DoD: what DoD validation checks.
REASONS = {
    DOR: ("requirements", "acceptance_criteria", "technical_design", "other"),
    DOD: ("acceptance_criteria", "tests", "documentation", "other"),
}
# Words the quick form `/qms dor fail PROJ-123 criteria` accepts for each reason.
REASON_WORDS = {
    "requirements": ("requirements", "requirement", "reqs", "req", "incomplete"),
    "acceptance_criteria": ("criteria", "acceptance", "ac", "acceptance-criteria", "acceptance_criteria"),
    "technical_design": ("design", "technical", "tech", "technical-design", "technical_design"),
    "tests": ("tests", "test", "testing"),
    "documentation": ("documentation", "docs", "doc"),
    "other": ("other",),
}
RESULT_WORDS = {"pass": ("pass", "passed", "ok", "ready", "done"), "fail": ("fail", "failed", "rejected", "no")}
WORK_ITEM_MAX = 100
NOTE_MAX = 500
MINUTES_RANGE = (1, 600)
DURATION = re.compile(r"^(?:(?P<h>\d{1,3}(?:\.\d+)?)h)?(?:(?P<m>\d{1,4})(?:m|min|mins)?)?$")
NUMBER_LIKE = re.compile(r"^[-+−.]?\d")  # "15", "15m", "-5m", "99999999999999m", ".5h"
SLACK_LINK = re.compile(r"^<(?P<url>[^|>]+)(?:\|[^>]*)?>$")

# The quality gates the guide names, and the KPI each one's success rate is measured against.
GATE_KPIS = {"unit": "unit_tests", "integration": "integration_tests", "security": "security_scans",
             "performance": "performance_tests"}
STANDARD_GATES = ("unit", "integration", "security", "performance", "coverage")
COVERAGE_GATE = "coverage"



# --- DoR and DoD checks ---------------------------------------------------------------------------
@dataclass
class CheckForm:
    """A DoR or DoD check as typed: from the modal or the quick form."""

    kind: str
    work_item: str | None
    result: str | None  # "pass" | "fail"
    reason: str | None = None
    minutes: str | int | None = None
    note: str | None = None


def parse_minutes(raw: str | int | None) -> int | None:
    """"15", "15m", "15 min", "1h", "1h30m", "1.5h" → minutes; None when it is not a duration."""
    if isinstance(raw, int):
        return raw
    text = (raw or "").strip().lower().replace(" ", "")
    match = DURATION.match(text) if text else None
    if not match or not (match["h"] or match["m"]):
        return None
    return round(float(match["h"] or 0) * 60) + int(match["m"] or 0)


def parse_quick_check(kind: str, args: str) -> CheckForm:
    """`pass PROJ-123 15m` or `fail PROJ-123 criteria 20m some note` → a form; the usage when it isn't."""
    words = args.split()
    result = next((r for r, names in RESULT_WORDS.items() if words and words[0].lower() in names), None)
    if result is None or len(words) < 2:
        raise Refusal("metrics.check_usage", kind=kind)
    form = CheckForm(kind=kind, work_item=_work_item(words[1]), result=result)
    rest: list[str] = []
    for word in words[2:]:
        reason = reason_for_word(kind, word)
        if not rest and form.minutes is None and NUMBER_LIKE.match(word):
            # before the note, a word that starts like a number is the time spent, read as the modal reads it
            minutes = parse_minutes(word)
            if minutes is None or not MINUTES_RANGE[0] <= minutes <= MINUTES_RANGE[1]:
                raise Refusal("metrics.quick_minutes", kind=kind, result=result, word=word,
                              low=MINUTES_RANGE[0], high=MINUTES_RANGE[1])
            form.minutes = word
        elif result == "fail" and form.reason is None and reason is not None:
            form.reason = reason
        else:
            rest.append(word)
    form.note = " ".join(rest) or None
    if result == "fail" and form.reason is None:
        raise Refusal("metrics.reason_missing", kind=kind)
    return form


def reason_for_word(kind: str, word: str) -> str | None:
    word = word.lower().strip(",.;:")
    return next((r for r in REASONS[kind] if word in REASON_WORDS[r]), None)


def _work_item(word: str) -> str:
    link = SLACK_LINK.match(word)  # Slack sends a pasted link as <https://…>
    return link["url"] if link else word


def validate_check(form: CheckForm) -> int | None:
    """Raise Invalid naming each wrong field (by the modal's block_id); return the minutes."""
    problems = Problems()
    item = (form.work_item or "").strip()
    if not item:
        problems.add("work_item", "metrics.work_item_required")
    elif len(item) > WORK_ITEM_MAX:
        problems.add("work_item", "metrics.work_item_too_long", limit=WORK_ITEM_MAX)
    if form.kind not in KINDS:
        problems.add("result", "metrics.unknown_kind")
    if form.result not in ("pass", "fail"):
        problems.add("result", "metrics.result_required")
    elif form.result == "fail" and form.kind in KINDS and form.reason not in REASONS[form.kind]:
        problems.add("reason", "metrics.reason_required", kind=form.kind)
    minutes = None
    if form.minutes not in (None, ""):
        minutes = parse_minutes(form.minutes)
        if minutes is None or not MINUTES_RANGE[0] <= minutes <= MINUTES_RANGE[1]:
            problems.add("minutes", "metrics.bad_minutes", low=MINUTES_RANGE[0], high=MINUTES_RANGE[1])
    if len(form.note or "") > NOTE_MAX:
        problems.add("note", "metrics.note_too_long", limit=NOTE_MAX)
    problems.raise_if_any()
    return minutes


def record_check(session: Session, team: Team, form: CheckForm, *, actor_id: str, now: datetime) -> ItemCheck:
    """Store a check and audit it, in the caller's transaction."""
    minutes = validate_check(form)
    check = store.add_check(session, ItemCheck(
        workspace_id=team.workspace_id, team_id=team.id, kind=form.kind, work_item=form.work_item.strip(),
        passed=form.result == "pass", reason=form.reason if form.result == "fail" else None, minutes=minutes,
        note=(form.note or "").strip() or None, checked_by=actor_id, checked_at=now))
    audit.record(session, workspace_id=team.workspace_id, actor_id=actor_id, entity_type="item_check",
                 entity_id=check.id, action=f"{form.kind}_{'passed' if check.passed else 'failed'}", at=now,
                 after={"team": team.id, "work_item": check.work_item, "reason": check.reason,
                        "minutes": check.minutes, "note": check.note})
    return check


# --- figures --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Figure:
    """One KPI in one period against its target, and how it moved since the period before."""

    kpi: Kpi
    value: float | None
    target: float
    previous: float | None = None
    samples: int = 0  # how many checks, runs or defects the value rests on

    @property
    def met(self) -> bool | None:
        return None if self.value is None else self.kpi.meets(self.target, self.value)

    @property
    def delta(self) -> float | None:
        return None if self.value is None or self.previous is None else self.value - self.previous

    @property
    def trend(self) -> str | None:
        """"up", "down" or "flat" (less than 0.05 of the unit apart); None without two values."""
        if self.delta is None:
            return None
        return "flat" if abs(self.delta) < 0.05 else ("up" if self.delta > 0 else "down")

    @property
    def improved(self) -> bool | None:
        if self.trend in (None, "flat"):
            return None
        return (self.trend == "up") == (self.kpi.comparator == ">")


@dataclass(frozen=True)
class GateFigure:
    """A quality gate's success rate in a period (and the one before), against its KPI when it has one."""

    gate: str
    runs: int
    passed: int
    previous_rate: float | None
    kpi: Kpi | None
    target: float | None
    mean_seconds: float | None
    mean_value: float | None

    @property
    def rate(self) -> float | None:
        return _percent(self.passed, self.runs)

    @property
    def met(self) -> bool | None:
        if self.kpi is None or self.rate is None or self.target is None:
            return None
        return self.kpi.meets(self.target, self.rate)

    @property
    def delta(self) -> float | None:
        return None if self.rate is None or self.previous_rate is None else self.rate - self.previous_rate


@dataclass(frozen=True)
class ReasonShare:
    reason: str
    count: int
    percent: float


@dataclass
class Report:
    """A team's quality figures for one period, compared with the period before."""

    team_id: int
    team_name: str
    timezone: str
    start: datetime
    end: datetime
    previous_start: datetime
    figures: list[Figure]
    gates: list[GateFigure]
    dor_reasons: list[ReasonShare]
    dod_reasons: list[ReasonShare]
    counts: dict[str, int]  # dor_checks, dod_checks, gate_runs, defects, escaped
    extras: dict[str, float | None] = field(default_factory=dict)  # informative, without a target

    def figure(self, key: str) -> Figure | None:
        return next((f for f in self.figures if f.kpi.key == key), None)

    @property
    def has_data(self) -> bool:
        return any(self.counts.values())

    @property
    def missed(self) -> list[Figure]:
        return [f for f in self.figures if f.met is False]


def kpi_values(bucket: Bucket) -> dict[str, tuple[float | None, int]]:
    """Each KPI this domain measures, as (value, how many things it rests on), for one period."""
    gates = bucket.gates
    values = {
        "dor_pass_rate": (_percent(bucket.dor.passed, bucket.dor.checks), bucket.dor.checks),
        "dor_validation_minutes": (_mean(bucket.dor.minutes_total, bucket.dor.timed), bucket.dor.timed),
    }
    for gate, key in GATE_KPIS.items():
        counts = gates.get(gate)
        values[key] = (_percent(counts.passed, counts.runs), counts.runs) if counts else (None, 0)
    coverage = gates.get(COVERAGE_GATE)
    values["coverage"] = (_mean(coverage.value_total, coverage.valued), coverage.valued) if coverage else (None, 0)
    values["dod_success"] = (_percent(bucket.dod.passed, bucket.dod.checks), bucket.dod.checks)
    values["defect_escape_rate"] = (_percent(bucket.defects.production, bucket.defects.found), bucket.defects.found)
    values["cycle_time_hours"] = (_mean(bucket.cycle.hours_total, bucket.cycle.items), bucket.cycle.items)
    return values


def period_bounds(end: datetime, length: timedelta, periods: int = 2) -> list[datetime]:
    """`periods` back-to-back periods of `length` ending at `end`: [t0, t1, …, end]."""
    return [end - length * (periods - index) for index in range(periods + 1)]


def recent_bounds(now: datetime, length: timedelta) -> list[datetime]:
    """The last `length` up to and including `now` (so a check recorded this instant counts), and the
    `length` before it."""
    return period_bounds(now + timedelta(microseconds=1), length)


def report(session: Session, team: Team, bounds: list[datetime], *,
           extra_values: dict[str, tuple[float | None, float | None, int]] | None = None,
           buckets: list[Bucket] | None = None, targets: dict[str, float] | None = None,
           reasons: dict[str, dict[str, int]] | None = None) -> Report:
    """The team's figures for the last period of `bounds`, compared with the one before it.

    `extra_values` carries KPIs that other domains measure (review time and quality, added by the
    digests when the reviews figures are present): {key: (value, previous, samples)}. `buckets`,
    `targets` and `reasons` ({"dor"|"dod": {reason: count}} of the last period): figures the caller
    already has (the dashboard counts every team's at once).
    """
    found = buckets if buckets is not None else store.buckets(session, team.workspace_id, team.id, bounds)
    current, previous = found[-1], (found[-2] if len(found) > 1 else Bucket(bounds[0], bounds[0]))
    targets = targets if targets is not None else target_values(session, team)
    if reasons is None:
        reasons = {kind: store.rejection_reasons(session, team.workspace_id, team.id, kind, start=current.start,
                                                 end=current.end) for kind in KINDS}
    now_values, before_values = kpi_values(current), kpi_values(previous)
    figures = []
    for key, kpi in BY_KEY.items():
        if key in now_values:
            (value, samples), (before, _) = now_values[key], before_values[key]
        elif extra_values and key in extra_values:
            value, before, samples = extra_values[key]
        else:
            continue  # measured by a domain whose figures are not here
        figures.append(Figure(kpi=kpi, value=value, target=targets[key], previous=before, samples=samples))
    return Report(
        team_id=team.id, team_name=team.name, timezone=team.timezone, start=current.start, end=current.end,
        previous_start=previous.start, figures=figures, gates=gate_figures(current, previous, targets),
        dor_reasons=_shares(reasons[DOR]), dod_reasons=_shares(reasons[DOD]),
        counts={"dor_checks": current.dor.checks, "dod_checks": current.dod.checks,
                "gate_runs": sum(g.runs for g in current.gates.values()), "defects": current.defects.found,
                "escaped": current.defects.production},
        extras=_extras(current))


def gate_figures(current: Bucket, previous: Bucket, targets: dict[str, float]) -> list[GateFigure]:
    """Every gate that ran, the guide's gates first, then the team's own by name."""
    names = sorted(current.gates, key=lambda g: (STANDARD_GATES.index(g) if g in STANDARD_GATES else 99, g))
    figures = []
    for name in names:
        now, before = current.gates[name], previous.gates.get(name)
        key = GATE_KPIS.get(name)
        figures.append(GateFigure(
            gate=name, runs=now.runs, passed=now.passed,
            previous_rate=_percent(before.passed, before.runs) if before else None,
            kpi=BY_KEY[key] if key else None, target=targets.get(key) if key else None,
            mean_seconds=_mean(now.seconds_total, now.timed), mean_value=_mean(now.value_total, now.valued)))
    return figures


def _extras(bucket: Bucket) -> dict[str, float | None]:
    runs = sum(g.runs for g in bucket.gates.values())
    timed = sum(g.timed for g in bucket.gates.values())
    return {
        "gate_success": _percent(sum(g.passed for g in bucket.gates.values()), runs),
        "gate_minutes": _mean(sum(g.seconds_total for g in bucket.gates.values()) / 60, timed),
        "dod_validation_minutes": _mean(bucket.dod.minutes_total, bucket.dod.timed),
    }


def _shares(counts: dict[str, int]) -> list[ReasonShare]:
    total = sum(counts.values())
    return [ReasonShare(reason, n, 100 * n / total) for reason, n in counts.items()] if total else []


def _percent(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def _mean(total: float, count: int) -> float | None:
    return total / count if count else None


def figures_by_key(figures: Iterable[Figure]) -> dict[str, Figure]:
    return {f.kpi.key: f for f in figures}
