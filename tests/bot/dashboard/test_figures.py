"""The dashboard's overview counts every team at once (grouped by team and week): its figures equal a
recount of the rows, the digests' own per-period queries (storage/reviews_figures.py), and each team's
figures counted alone — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot import dashboard
from bot.dashboard import views
from storage import metrics as metric_store
from storage import reviews as review_store
from storage import reviews_figures
from storage.metrics import ItemCheck
from tests.conftest import both_databases
from tests.harness.metrics import a_fortnight, add_checks, at, file_review, finish_review
from tests.harness.teams import add_reviewer, make_team

# Uneven periods on purpose: one starts mid-day, while reviews assigned before it are still open.
BOUNDS = [at("2026-02-23 00:00"), at("2026-03-02 00:00"), at("2026-03-03 12:00"), at("2026-03-09 00:00"),
          at("2026-03-11 09:00")]
NOW = at("2026-03-10 15:00")  # inside the last period: utilization counts up to now


@pytest.fixture
def two_teams(database):
    payments = make_team(database)
    a_fortnight(database, payments)
    platform = make_team(database, "Platform", channel="platform", leads=("dave",))
    add_reviewer(database, platform, "grace", "gold", capacity=4)
    add_reviewer(database, platform, "henry", "silver", capacity=2)
    filed = file_review(database, platform, "https://git.example.com/plat/1", now="2026-02-27 10:00")
    finish_review(database, platform, filed["primary"], now="2026-03-04 11:00", rating=6)
    file_review(database, platform, "https://git.example.com/plat/2", now="2026-03-09 09:30")
    for team, shift in ((payments, 0), (platform, 5)):
        add_checks(database, team, "dor", *[(at("2026-02-24 09:00") + timedelta(hours=13 * n + shift), n % 3 != 0,
                                            None if n % 3 else "requirements", 10 + n if n % 2 else None,
                                            f"PROJ-{n}") for n in range(30)])
        add_checks(database, team, "dod", *[(at("2026-02-25 10:00") + timedelta(hours=17 * n + shift), n % 4 != 0,
                                            None if n % 4 else "tests", 20, f"PROJ-{n}") for n in range(20)])
    return database, payments, platform


@both_databases
def test_checks_counted_for_every_team_at_once_equal_a_recount(two_teams):
    db, payments, platform = two_teams
    with db.transaction() as session:
        grouped = metric_store.buckets_by_team(session, payments.workspace_id, [payments.id, platform.id], BOUNDS)
        rows = list(session.exec(select(ItemCheck)))
    for team in (payments, platform):
        for index, (start, end) in enumerate(zip(BOUNDS, BOUNDS[1:])):
            for kind in ("dor", "dod"):
                mine = [r for r in rows if r.team_id == team.id and r.kind == kind and start <= r.checked_at < end]
                counts = getattr(grouped[team.id][index], kind)
                assert (counts.checks, counts.passed, counts.timed, counts.minutes_total) == (
                    len(mine), sum(r.passed for r in mine), sum(r.minutes is not None for r in mine),
                    sum(r.minutes or 0 for r in mine)), (team.name, index, kind)
    assert sum(w.dor.checks + w.dod.checks for w in grouped[platform.id]) > 20


@both_databases
def test_reviews_and_utilization_counted_at_once_equal_the_digests_figures(two_teams):
    db, payments, platform = two_teams
    teams = [payments, platform]
    with db.transaction() as session:
        grouped = review_store.review_buckets_by_team(session, payments.workspace_id, [t.id for t in teams], BOUNDS)
        usage = views.utilization_weeks(session, teams, BOUNDS, now=NOW)
        for team in teams:
            for index, (start, end) in enumerate(zip(BOUNDS, BOUNDS[1:])):
                end = min(end, NOW)
                figures = reviews_figures.review_figures(session, team.workspace_id, team.id, start=start, end=end)
                week = grouped[team.id][index]
                assert (week.done, week.mean_turnaround_hours, week.mean_rating, week.ratings) == (
                    figures.done, pytest.approx(figures.mean_turnaround_hours),
                    pytest.approx(figures.mean_rating), figures.ratings), (team.name, index)
                assert usage[team.id].team[index] == pytest.approx(100 * figures.utilization), (team.name, index)
                if index == len(BOUNDS) - 2:  # this week, per reviewer
                    assert usage[team.id].reviewers == {
                        user: pytest.approx(100 * f.utilization) for user, f in figures.reviewers.items()}
    assert usage[payments.id].team[-1] > 0 and usage[platform.id].team[-1] > 0  # open reviews span the periods


@both_databases
def test_the_overview_of_two_teams_equals_each_team_counted_alone(two_teams):
    db, payments, platform = two_teams
    with db.transaction() as session:
        together = dashboard.summaries(session, [payments, platform], now=NOW)
        alone = [dashboard.summary(session, team, now=NOW) for team in (payments, platform)]
    for both, one in zip(together, alone):
        assert both.panels == one.panels and both.missed == one.missed
        assert (both.open_risks, both.open_incidents) == (one.open_risks, one.open_incidents)
    kpis = {k.key: k for p in together[0].panels for k in p.kpis}
    assert kpis["reviewer_utilization"].trend[-1] == kpis["reviewer_utilization"].value is not None
    assert any(v is not None for v in kpis["dor_pass_rate"].trend)
