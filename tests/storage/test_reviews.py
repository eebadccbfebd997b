"""review_figures: the numbers the digests, the KPIs and /qms review stats read, computed in SQL,
checked against a week worked out by hand — on SQLite and PostgreSQL."""

from datetime import UTC, datetime

import pytest

from bot import reviews
from storage import reviews_figures
from tests.conftest import both_databases
from tests.harness.teams import add_reviewer, make_team

HOUR = 3600


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def file(db, team, url, *, author="UDAVE", now):
    with db.transaction() as session:
        form = reviews.RequestForm(url=url, specialization="Backend/API")
        filed = reviews.file_request(session, session.merge(team), form, author_id=author, channel_id="CPAYMENTS",
                                     now=at(now))
        return {a.reviewer_id: a.id for a in filed.assignments}


def done(db, assignment_id, reviewer, *, now, rating=None):
    with db.transaction() as session:
        request = reviews.finish(session, "T0TEST", assignment_id, reviewer, now=at(now))
    if rating is not None:
        with db.transaction() as session:
            reviews.rate(session, "T0TEST", assignment_id, request.author_id, rating, now=at(now))


@pytest.fixture
def week(database):
    """A working week of Payments (UTC, Mon–Fri 09:00–17:00), worked out by hand:

    CR-001 Mon 10:00: eve primary (done Mon 13:00, 3 h, rated 9), frank secondary (done Mon 14:00,
           4 h, rated 7) → done Mon 14:00 in 4 h.
    CR-002 Tue 09:00: eve primary (done Tue 15:00, 6 h, rated 8), ivy secondary (done Wed 10:00,
           8 h + 1 h = 9 h, not rated) → done Wed 10:00 in 9 h.
    CR-003 Thu 09:00: frank primary, eve secondary; stalls Thu 15:00 (6 working hours); still open.
    CR-004 Fri 16:00 by eve: frank primary, ivy secondary; still open.
    """
    team = make_team(database)
    add_reviewer(database, team, "eve", "gold", ["Backend/API"], capacity=3)
    add_reviewer(database, team, "frank", "silver", ["Backend/API"], capacity=2)
    add_reviewer(database, team, "ivy", "bronze", ["Backend/API"], capacity=2)
    other = make_team(database, "Elsewhere", workspace_id="T0OTHER")  # another workspace: never counted
    add_reviewer(database, other, "eve", "gold", ["Backend/API"])

    first = file(database, team, "https://git.example.com/1", now="2026-03-02 10:00:00")
    done(database, first["UEVE"], "UEVE", now="2026-03-02 13:00:00", rating=9)
    done(database, first["UFRANK"], "UFRANK", now="2026-03-02 14:00:00", rating=7)
    second = file(database, team, "https://git.example.com/2", now="2026-03-03 09:00:00")
    done(database, second["UEVE"], "UEVE", now="2026-03-03 15:00:00", rating=8)
    done(database, second["UIVY"], "UIVY", now="2026-03-04 10:00:00")
    third = file(database, team, "https://git.example.com/3", now="2026-03-05 09:00:00")
    reviews.sweep(database, now=at("2026-03-05 15:00:00"))
    fourth = file(database, team, "https://git.example.com/4", author="UEVE", now="2026-03-06 16:00:00")
    with database.transaction() as session:
        elsewhere = reviews.file_request(session, session.merge(other),
                                         reviews.RequestForm(url="https://x.example.com", specialization="Backend/API"),
                                         author_id="UDAVE", channel_id="CPAYMENTS", now=at("2026-03-02 10:00:00"))
        reviews.finish(session, "T0OTHER", elsewhere.assignments[0].id, "UEVE", now=at("2026-03-02 11:00:00"))
    assert (sorted(third), sorted(fourth)) == (["UEVE", "UFRANK"], ["UFRANK", "UIVY"])  # as worked out above
    return database, team


@both_databases
def test_a_weeks_figures_match_the_hand_computed_ones(week):
    database, team = week

    with database.transaction() as session:
        figures = reviews_figures.review_figures(session, "T0TEST", team.id, start=at("2026-03-02 00:00:00"),
                                       end=at("2026-03-07 00:00:00"))

    assert (figures.requested, figures.done, figures.stalled, figures.still_stalled) == (4, 2, 1, 1)
    assert figures.mean_turnaround_hours == pytest.approx(6.5)  # (4 + 9) / 2
    assert figures.median_turnaround_hours == pytest.approx(6.5)
    assert (figures.mean_rating, figures.ratings) == (pytest.approx(8.0), 3)  # 9, 7, 8
    # Wall-clock hours open inside the 120-hour period ÷ (capacity × 120):
    # eve 3 + 6 + 39 = 48 of 360; frank 4 + 39 + 8 = 51 of 240; ivy 25 + 8 = 33 of 240; team 132 of 840.
    assert figures.utilization == pytest.approx(132 / 840)
    eve, frank, ivy = (figures.reviewers[u] for u in ("UEVE", "UFRANK", "UIVY"))
    assert (eve.done, eve.median_turnaround_seconds, eve.mean_rating, eve.open_now) == (2, 4.5 * HOUR, 8.5, 1)
    assert (frank.done, frank.median_turnaround_seconds, frank.mean_rating, frank.open_now) == (1, 4 * HOUR, 7, 2)
    assert (ivy.done, ivy.median_turnaround_seconds, ivy.mean_rating, ivy.open_now) == (1, 9 * HOUR, None, 1)
    assert (eve.utilization, frank.utilization, ivy.utilization) == (
        pytest.approx(48 / 360), pytest.approx(51 / 240), pytest.approx(33 / 240))


@both_databases
def test_a_period_counts_only_what_happened_inside_it(week):
    database, team = week

    with database.transaction() as session:
        wednesday = reviews_figures.review_figures(session, "T0TEST", team.id, start=at("2026-03-04 00:00:00"),
                                         end=at("2026-03-05 00:00:00"))
        before = reviews_figures.review_figures(session, "T0TEST", team.id, start=at("2026-02-01 00:00:00"),
                                      end=at("2026-03-01 00:00:00"))

    assert (wednesday.requested, wednesday.done, wednesday.stalled) == (0, 1, 0)
    assert wednesday.mean_turnaround_hours == pytest.approx(9)
    assert (wednesday.mean_rating, wednesday.ratings) == (None, 0)  # ivy's review was not rated
    assert wednesday.utilization == pytest.approx(10 / (7 * 24))  # ivy's CR-002, 00:00–10:00
    assert (before.requested, before.done, before.mean_turnaround_seconds, before.median_turnaround_seconds,
            before.utilization) == (0, 0, None, None, 0)


@both_databases
def test_the_median_of_an_odd_count_is_the_middle_value(database):
    team = make_team(database)
    add_reviewer(database, team, "eve", "gold", ["Backend/API"], capacity=5)
    for hour, finished in ((9, "10:00"), (10, "13:00"), (11, "12:00")):  # 1 h, 3 h, 1 h: median 1 h
        ids = file(database, team, f"https://git.example.com/{hour}", now=f"2026-03-02 {hour:02d}:00:00")
        done(database, ids["UEVE"], "UEVE", now=f"2026-03-02 {finished}:00")

    with database.transaction() as session:
        figures = reviews_figures.review_figures(session, "T0TEST", team.id, start=at("2026-03-02 00:00:00"),
                                       end=at("2026-03-03 00:00:00"))

    assert figures.median_turnaround_hours == pytest.approx(1)
    assert figures.mean_turnaround_hours == pytest.approx(5 / 3)


@both_databases
def test_one_open_review_of_three_for_the_whole_period_is_a_third_utilization(database):
    team = make_team(database)
    add_reviewer(database, team, "eve", "gold", ["Backend/API"], capacity=3)
    add_reviewer(database, team, "frank", "silver", ["Backend/API"], capacity=2)
    add_reviewer(database, team, "ivy", "bronze", ["Backend/API"], capacity=1)
    file(database, team, "https://git.example.com/1", now="2026-01-05 10:00:00")  # eve primary, frank secondary

    with database.transaction() as session:
        figures = reviews_figures.review_figures(session, "T0TEST", team.id, start=at("2026-02-01 00:00:00"),
                                       end=at("2026-03-03 00:00:00"))
        half = reviews_figures.review_figures(session, "T0TEST", team.id, start=at("2026-01-04 10:00:00"),
                                    end=at("2026-01-06 10:00:00"))

    eve, frank, ivy = (figures.reviewers[u] for u in ("UEVE", "UFRANK", "UIVY"))
    assert (eve.utilization, frank.utilization, ivy.utilization) == (pytest.approx(1 / 3), pytest.approx(1 / 2), 0)
    assert figures.utilization == pytest.approx(2 / 6)  # two slots of six, all along
    assert half.reviewers["UEVE"].utilization == pytest.approx(1 / 6)  # open for the second of two days
