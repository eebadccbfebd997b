"""One way to write numbers in the metrics, digest and App Home templates: targets as /qms setup targets
writes them (bot.teams.Kpi.shown), durations in minutes, hours or days and hours, a space before a unit."""

from datetime import UTC, datetime, timedelta

import pytest

from bot import digests, metrics
from bot.core import render
from bot.teams import BY_KEY, KPIS
from tests.harness.bot import blocks_text

FIGURES = render.environment().get_template("metrics/_figures.j2").module


@pytest.mark.parametrize("kpi", KPIS, ids=[k.key for k in KPIS])
@pytest.mark.parametrize("value", [None, 0, 4.5, 92.25, 600])
def test_a_target_reads_as_in_setup_targets(kpi, value):
    value = kpi.default if value is None else value

    assert str(FIGURES.target(kpi.comparator, value, kpi.unit)) == kpi.shown(value)


@pytest.mark.parametrize("hours, shown", [
    (0, "0 min"), (1 / 60, "1 min"), (0.05, "3 min"), (0.1, "6 min"), (59.4 / 60, "59 min"), (59.6 / 60, "1 h"),
    (1, "1 h"), (6.5, "6.5 h"), (23.94, "23.9 h"), (23.96, "1 d"), (24, "1 d"), (26, "1 d 2 h"), (72, "3 d"),
    (77.4, "3 d 5 h"), (24 * 1000 + 1, "1,000 d 1 h"),
])
def test_a_duration_is_minutes_under_an_hour_hours_under_a_day_then_days_and_hours(hours, shown):
    assert str(FIGURES.num(hours, "h")) == shown
    assert str(FIGURES.num(hours * 60, "min")) == shown


@pytest.mark.parametrize("value, unit, shown", [
    (85, "%", "85 %"), (88.94, "%", "88.9 %"), (0.1, "%", "0.1 %"), (8, "/10", "8.0/10"), (20, "pts", "20 pts"),
    (None, "%", "—"),
])
def test_a_value_has_a_space_before_its_unit_but_a_rating_has_none(value, unit, shown):
    assert str(FIGURES.num(value, unit)) == shown


def test_a_digest_writes_every_duration_and_target_the_same_way():
    start = datetime(2026, 3, 2, tzinfo=UTC)
    kpi = BY_KEY["review_time_hours"]
    report = metrics.Report(team_id=1, team_name="Payments", timezone="UTC", start=start,
                            end=start + timedelta(days=7), previous_start=start - timedelta(days=7),
                            figures=[metrics.Figure(kpi=kpi, value=0.5, target=6, previous=0.004, samples=2)],
                            gates=[], dor_reasons=[], dod_reasons=[],
                            counts=dict.fromkeys(("dor_checks", "dod_checks", "gate_runs", "defects", "escaped"), 0))
    digest = digests.Digest(
        kind="weekly", period="2026-W10", team_id=1, team_name="Payments", timezone="UTC", report=report,
        reviews=digests.ReviewSection(done=2, mean_hours=0.05, median_hours=0.004, quality=None, stalled=0,
                                      utilization=[("UBOB", 0.1)], requested=2),
        incidents=digests.IncidentSection(
            open_by_level={1: 0, 2: 0, 3: 0}, declared=1, resolved=1, mean_hours_to_resolve=1 / 60,
            resolved_list=[digests.IncidentLine("INC-009", "Blip", "SEV4", 1, 1 / 60)]))

    text = blocks_text(digests.message(digest))

    assert "*Review time*: 30 min · target < 6 h · ↑ +30 min vs 0 min" in text
    assert "2 done · 3 min mean, 0 min median (working hours)" in text
    assert "<@UBOB> 0.1 % ⚠️" in text and "target 70–85 %" in text
    assert "• *INC-009* Blip — SEV4 · Level 1 · resolved in 1 min" in text
    assert "1 min mean time to resolve" in text
