"""The guide's KPIs and their default targets (sections 2.1–2.3 and 7.2)."""

from __future__ import annotations

from dataclasses import dataclass


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
