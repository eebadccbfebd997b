"""The read-only queries the digests and App Home add to the reviews and incidents storage: weekly
review buckets, a person's open reviews and requests, the open incidents that are theirs — checked
against tests.harness.metrics.a_fortnight on SQLite and PostgreSQL, and never across workspaces."""

import pytest

from storage import incidents as incident_store
from storage import reviews as review_store
from storage import reviews_figures
from tests.conftest import both_databases
from tests.harness.metrics import a_fortnight, at, declare_incident
from tests.harness.teams import make_team

WEEKS = [at("2026-02-16 00:00"), at("2026-02-23 00:00"), at("2026-03-02 00:00"), at("2026-03-09 00:00")]


@pytest.fixture
def fortnight(database):
    team = make_team(database)
    a_fortnight(database, team)
    other = make_team(database, "Payments", workspace_id="T0OTHER")  # the same names elsewhere: never counted
    declare_incident(database, other, "Elsewhere", commander="UALICE", now="2026-03-06 09:00")
    return database, team


@both_databases
def test_review_buckets_count_each_weeks_finished_reviews_in_one_go(fortnight):
    db, team = fortnight

    with db.transaction() as session:
        weeks = review_store.review_buckets(session, "T0TEST", team.id, WEEKS)

    assert [(w.start, w.end) for w in weeks] == list(zip(WEEKS, WEEKS[1:]))
    assert [(w.done, w.timed, w.ratings) for w in weeks] == [(0, 0, 0), (1, 1, 2), (2, 2, 3)]
    assert [w.mean_turnaround_hours for w in weeks] == [None, pytest.approx(3.0), pytest.approx(6.5)]
    assert [w.mean_rating for w in weeks] == [None, pytest.approx(9.5), pytest.approx(8.0)]


@both_databases
def test_review_buckets_agree_with_review_figures_for_the_same_period(fortnight):
    db, team = fortnight

    with db.transaction() as session:
        week = review_store.review_buckets(session, "T0TEST", team.id, WEEKS[2:])[0]
        figures = reviews_figures.review_figures(session, "T0TEST", team.id, start=WEEKS[2], end=WEEKS[3])

    assert (week.done, week.mean_turnaround_hours, week.mean_rating, week.ratings) == (
        figures.done, pytest.approx(figures.mean_turnaround_hours), pytest.approx(figures.mean_rating), figures.ratings)


@both_databases
def test_a_reviewers_open_reviews_come_oldest_first_with_their_requests_and_a_total(fortnight):
    db, _ = fortnight

    with db.transaction() as session:
        ivy, ivy_total = review_store.open_reviews_of(session, "T0TEST", "UIVY", limit=1)
        eve, eve_total = review_store.open_reviews_of(session, "T0TEST", "UEVE", limit=5)
        elsewhere = review_store.open_reviews_of(session, "T0OTHER", "UIVY", limit=5)

    assert ivy_total == 2 and [(a.role, r.label) for a, r in ivy] == [("secondary", "CR-004")]
    assert eve_total == 1 and [(a.role, a.status, r.label) for a, r in eve] == [("primary", "assigned", "CR-004")]
    assert elsewhere == ([], 0)


@both_databases
def test_a_persons_open_requests_leave_out_the_finished_ones(fortnight):
    db, _ = fortnight

    with db.transaction() as session:
        dave, dave_total = review_store.open_requests_of(session, "T0TEST", "UDAVE", limit=5)
        eve, eve_total = review_store.open_requests_of(session, "T0TEST", "UEVE", limit=5)

    assert dave_total == 1 and [r.label for r in dave] == ["CR-004"]  # CR-001 to CR-003 are done
    assert eve_total == 1 and [r.label for r in eve] == ["CR-005"]


@both_databases
def test_the_open_incidents_of_a_person_are_those_they_command_and_those_of_their_teams(fortnight):
    db, team = fortnight

    with db.transaction() as session:
        lead = incident_store.open_incidents_for(session, "T0TEST", "UALICE", [team.id], limit=5)
        commander = incident_store.open_incidents_for(session, "T0TEST", "UBOB", [], limit=5)
        nobody = incident_store.open_incidents_for(session, "T0TEST", "UIVY", [], limit=5)
        first = incident_store.open_incidents_for(session, "T0TEST", "UALICE", [team.id], limit=1)

    assert ([i.number for i in lead[0]], lead[1]) == ([3, 4], 2)  # SEV1 before SEV3; the resolved ones left out
    assert ([i.number for i in commander[0]], commander[1]) == ([4], 1)
    assert nobody == ([], 0)
    assert ([i.number for i in first[0]], first[1]) == ([3], 2)
