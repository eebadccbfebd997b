"""The guide's KPIs, their default targets (sections 2.1–2.3 and 7.2), and each team's own targets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.core.errors import Problems
from storage import audit
from storage import teams as store
from storage.teams import Team

TARGET_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:%|h|min|/10)?\s*$")


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    comparator: str  # ">": higher is better; "<": lower is better
    default: float
    unit: str  # "%", "min", "h", "/10"
    lowest: float = 0
    highest: float = 100

    def meets(self, target: float, actual: float) -> bool:
        return actual > target if self.comparator == ">" else actual < target

    def number(self, value: float) -> str:
        """A target as people write it: 90, 4.5, and review quality with one decimal (8.0)."""
        if self.unit == "/10":
            return f"{value:.1f}"
        return f"{value:g}"

    def shown(self, value: float) -> str:
        """A target with its direction and unit, as the guide writes it: "> 90 %", "< 6 h", "> 8.0/10"."""
        unit = self.unit if self.unit == "/10" else " " + self.unit
        return f"{self.comparator} {self.number(value)}{unit}"


KPIS: tuple[Kpi, ...] = (
    Kpi("dor_pass_rate", "DoR pass rate", ">", 90, "%"),
    Kpi("dor_validation_minutes", "DoR validation time", "<", 20, "min", highest=600),
    Kpi("unit_tests", "Unit tests", ">", 95, "%"),
    Kpi("integration_tests", "Integration tests", ">", 90, "%"),
    Kpi("security_scans", "Security scans", ">", 95, "%"),
    Kpi("performance_tests", "Performance tests", ">", 85, "%"),
    Kpi("coverage", "Code coverage", ">", 80, "%"),
    Kpi("review_time_hours", "Review time", "<", 6, "h", highest=168),
    Kpi("review_quality", "Review quality", ">", 8.0, "/10", highest=10),
    Kpi("dod_success", "DoD success", ">", 95, "%"),
    Kpi("defect_escape_rate", "Defect escape rate", "<", 3, "%"),
    Kpi("cycle_time_hours", "Cycle time", "<", 24, "h", highest=720),
)
BY_KEY = {kpi.key: kpi for kpi in KPIS}


@dataclass(frozen=True)
class TargetRow:
    """One KPI's target for a team, beside the guide's default."""

    kpi: Kpi
    value: float

    @property
    def changed(self) -> bool:
        return self.value != self.kpi.default


def target_values(session: Session, team: Team) -> dict[str, float]:
    """Each KPI's target for this team: its own where set, else the guide's default."""
    own = store.targets(session, team)
    return {kpi.key: own[kpi.key].value if kpi.key in own else kpi.default for kpi in KPIS}


def target_values_by_team(session: Session, teams: list[Team]) -> dict[int, dict[str, float]]:
    """`target_values` of several teams of one workspace, in one query."""
    if not teams:
        return {}
    own = store.targets_by_team(session, teams[0].workspace_id, [team.id for team in teams])
    return {team.id: {kpi.key: own[team.id][kpi.key].value if kpi.key in own[team.id] else kpi.default
                      for kpi in KPIS} for team in teams}


def target_rows(session: Session, team: Team) -> list[TargetRow]:
    values = target_values(session, team)
    return [TargetRow(kpi, values[kpi.key]) for kpi in KPIS]


def parse_targets(values: dict[str, str | float | None]) -> dict[str, float]:
    """Read targets ("92", "92 %", "4h", 8.5) by KPI key, or raise Invalid naming each wrong one."""
    problems = Problems()
    parsed: dict[str, float] = {}
    for key, raw in values.items():
        kpi = BY_KEY.get(key)
        if kpi is None:
            problems.add(key, "teams.unknown_kpi", kpi=key)
            continue
        match = TARGET_NUMBER.match("" if raw is None or isinstance(raw, bool) else str(raw))
        number = float(match.group(1)) if match else None
        if number is None or not kpi.lowest <= number <= kpi.highest:
            problems.add(key, "teams.bad_target", low=kpi.lowest, high=kpi.highest, unit=kpi.unit)
        else:
            parsed[key] = number
    problems.raise_if_any()
    return parsed


def save_targets(session: Session, team: Team, values: dict[str, str | float | None], *, actor_id: str,
                 now: datetime) -> dict[str, float]:
    """Change some of a team's targets (the others stay); audited when anything changed."""
    parsed = parse_targets(values)
    before = target_values(session, team)
    for key, number in parsed.items():
        store.set_target(session, team, key, BY_KEY[key].comparator, number)
    after = {**before, **parsed}
    if after != before:
        audit.record(session, workspace_id=team.workspace_id, actor_id=actor_id, entity_type="team",
                     entity_id=team.id, action="targets_changed", before=before, after=after, at=now)
    return after


def reset_targets(session: Session, team: Team, *, actor_id: str, now: datetime) -> dict[str, float]:
    """Every target back to the guide's default."""
    return save_targets(session, team, {kpi.key: kpi.default for kpi in KPIS}, actor_id=actor_id, now=now)
