"""The guide's escalation matrix (section 5.2), and each team's thresholds for it.

Level 1, team resolution (0–24 h): the team lead coordinates the immediate response.
Level 2, management involvement (24–48 h): the engineering manager takes ownership.
Level 3, executive decision (48 h+): the executive team decides the resolution strategy.

An unresolved incident reaches Level 2 and Level 3 a number of hours after it was declared: the
guide's 24 and 48 by default, changeable per team and per severity (`team.escalation_hours`,
`{"SEV1": [4, 8], ...}`; a severity not in it uses the default). Wall-clock hours, not working
hours: an incident does not wait for Monday.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.errors import Problems
from storage.teams import Team

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")  # critical, high, medium, low (wording: templates)
DEFAULT_HOURS = (24.0, 48.0)  # to Level 2, to Level 3
MIN_HOURS, MAX_HOURS = 0.25, 720.0  # a quarter of an hour … thirty days
_HOURS = r"([0-9]{1,6}(?:\.[0-9]{1,6})?)\s*h?"  # ASCII digits: "²" or "٤" are no number of hours
HOURS_PAIR = re.compile(rf"^\s*{_HOURS}\s*(?:[/,;]|\s)\s*{_HOURS}\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Level:
    number: int
    role: str  # the team role pinged at this level (bot.teams.ROLES)


LEVELS = {1: Level(1, "team_lead"), 2: Level(2, "engineering_manager"), 3: Level(3, "executive")}
TOP_LEVEL = 3


@dataclass(frozen=True)
class Thresholds:
    """Hours after declaration at which an unresolved incident reaches Level 2 and Level 3."""

    level2: float
    level3: float

    def at(self, level: int) -> timedelta:
        return timedelta(hours=self.level2 if level == 2 else self.level3)

    def due_level(self, declared_at: datetime, now: datetime) -> int:
        """The level an unresolved incident declared at `declared_at` should be at by `now`."""
        elapsed = now - declared_at
        if elapsed >= self.at(3):
            return 3
        if elapsed >= self.at(2):
            return 2
        return 1

    def next_escalation(self, declared_at: datetime, level: int) -> tuple[int, datetime] | None:
        """(the next level, when it is due), or None at the top."""
        if level >= TOP_LEVEL:
            return None
        return level + 1, declared_at + self.at(level + 1)


def thresholds(team: Team, severity: str) -> Thresholds:
    """The team's thresholds for this severity, or the guide's 24 h / 48 h."""
    stored = (team.escalation_hours or {}).get(severity)
    try:
        level2, level3 = (float(stored[0]), float(stored[1])) if stored else DEFAULT_HOURS
    except (TypeError, ValueError, IndexError, KeyError):
        level2, level3 = DEFAULT_HOURS  # a hand-edited row that makes no sense: fall back to the guide
    return Thresholds(level2, level3)


def all_thresholds(team: Team) -> dict[str, Thresholds]:
    return {severity: thresholds(team, severity) for severity in SEVERITIES}


def escalation_groups(team: Team | None) -> list[tuple[list[str], Thresholds]]:
    """The team's escalation thresholds (a new team: the guide's), severities with the same hours
    together, the largest group last: [(["SEV1"], 4 h / 8 h), (["SEV2", "SEV3", "SEV4"], 24 h / 48 h)]."""
    groups: dict[Thresholds, list[str]] = {}
    for severity in SEVERITIES:
        hours = thresholds(team, severity) if team is not None else Thresholds(
            *DEFAULT_HOURS)
        groups.setdefault(hours, []).append(severity)
    return sorted(((severities, hours) for hours, severities in groups.items()), key=lambda group: len(group[0]))


def parse_hours(text: str | None) -> tuple[float, float] | None:
    """"24 / 48", "24,48", "4h 8h" → (24.0, 48.0); None when it is not two numbers."""
    match = HOURS_PAIR.match(text or "")
    return (float(match.group(1)), float(match.group(2))) if match else None


def validate_thresholds(values: dict[str, str | None]) -> dict[str, Thresholds]:
    """Raise Invalid naming each severity (by its field, e.g. "sev1") whose hours are wrong."""
    problems = Problems()
    parsed: dict[str, Thresholds] = {}
    for severity, raw in values.items():
        name = severity.lower()
        if severity not in SEVERITIES:
            problems.add(name, "incidents.unknown_severity", severity=severity)
            continue
        pair = parse_hours(raw)
        if pair is None:
            problems.add(name, "incidents.hours_format")
        elif not (MIN_HOURS <= pair[0] < pair[1] <= MAX_HOURS):
            problems.add(name, "incidents.hours_order", low=MIN_HOURS, high=MAX_HOURS)
        else:
            parsed[severity] = Thresholds(*pair)
    problems.raise_if_any()
    return parsed
