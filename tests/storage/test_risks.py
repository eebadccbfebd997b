"""Register queries on both databases: ordering, paging, the digests' figures, review dates, and
that every query stays inside its workspace."""

from datetime import UTC, date, datetime, timedelta

from bot import risks
from bot.risks import RiskForm, band_counts
from storage import risks as store
from tests.conftest import both_databases
from tests.harness.teams import make_team

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def log(database, team, title, p, i, *, at=T0, owner="UBOB", review_by=None):
    with database.transaction() as session:
        form = RiskForm(title=title, probability=p, impact=i, owner_id=owner, review_by=review_by)
        return risks.log_risk(session, session.merge(team), form, actor_id="UALICE", now=at).risk


def close(database, risk, at):
    with database.transaction() as session:
        row, team = risks.open_risk(session, risk.workspace_id, risk.id)
        risks.close_risk(session, row, team, "mitigated", "Done", actor_id="UBOB", now=at)


def numbers(risk_rows):
    return [r.number for r in risk_rows]


@both_databases
def test_the_register_lists_open_risks_by_score_then_oldest_and_closed_ones_last(database):
    team = make_team(database)
    a = log(database, team, "a", 2, 2, at=T0)
    b = log(database, team, "b", 4, 4, at=T0 + timedelta(minutes=1))
    c = log(database, team, "c", 2, 2, at=T0 + timedelta(minutes=2))
    d = log(database, team, "d", 5, 5, at=T0 + timedelta(minutes=3))
    close(database, d, T0 + timedelta(hours=1))

    with database.transaction() as session:
        open_page = store.register_page(session, "T0TEST", team_id=team.id)
        everything = store.register_page(session, "T0TEST", team_id=team.id, include_closed=True)
        second = store.register_page(session, "T0TEST", team_id=team.id, include_closed=True, offset=2, limit=2)
        bobs = store.register_page(session, "T0TEST", owner_id="UBOB")

    assert numbers(open_page.risks) == [b.number, a.number, c.number] and open_page.total == 3
    assert numbers(everything.risks) == [b.number, a.number, c.number, d.number]
    assert (numbers(second.risks), second.has_previous, second.has_next) == ([c.number, d.number], True, False)
    assert bobs.total == 3


@both_databases
def test_risk_figures_count_what_opened_and_closed_in_the_period_and_rank_the_open_ones(database):
    team = make_team(database)
    before = log(database, team, "before", 3, 3, at=T0 - timedelta(days=3))
    inside = log(database, team, "inside", 5, 4, at=T0 + timedelta(hours=1))
    log(database, team, "inside too", 2, 2, at=T0 + timedelta(hours=2))
    log(database, team, "after", 5, 5, at=T0 + timedelta(days=2))
    close(database, before, T0 + timedelta(hours=3))

    with database.transaction() as session:
        figures = store.risk_figures(session, "T0TEST", team.id, start=T0, end=T0 + timedelta(days=1), top=2)
        scores = store.open_score_counts(session, "T0TEST", team.id)

    assert (figures.opened, figures.closed, figures.open_now) == (2, 1, 3)
    assert [r.title for r in figures.top_open] == ["after", "inside"]
    assert inside.score == 20
    assert scores == {20: 1, 4: 1, 25: 1}
    assert band_counts(scores) == {"low": 1, "medium": 0, "high": 0, "critical": 2}


@both_databases
def test_queries_never_cross_workspaces(database):
    ours = make_team(database)
    theirs = make_team(database, "Payments", channel="payments", workspace_id="T0OTHER")
    log(database, ours, "ours", 3, 4)
    log(database, theirs, "theirs", 5, 5, at=T0 - timedelta(days=5), review_by=date(2026, 3, 1))

    with database.transaction() as session:
        assert [r.title for r in store.register_page(session, "T0TEST").risks] == ["ours"]
        assert store.risk_by_number(session, "T0TEST", 1).title == "ours"
        assert store.get_risk(session, "T0TEST", store.risk_by_number(session, "T0OTHER", 1).id) is None
        assert store.risk_figures(session, "T0TEST", theirs.id, start=T0 - timedelta(days=9),
                                  end=T0 + timedelta(days=9)).opened == 0
        assert store.reviews_to_remind(session, "T0TEST", due_on_or_before=date(2026, 12, 31)) == []
        assert store.overdue_reviews(session, "T0OTHER", theirs.id, today=date(2026, 3, 2))[0].title == "theirs"


@both_databases
def test_a_review_reminder_is_claimed_once(database):
    team = make_team(database)
    log(database, team, "due", 3, 3, review_by=date(2026, 3, 2))

    with database.transaction() as session:
        [risk] = store.reviews_to_remind(session, "T0TEST", due_on_or_before=date(2026, 3, 2))
        first = store.claim_review_reminder(session, risk)
        second = store.claim_review_reminder(session, risk)
    with database.transaction() as session:
        left = store.reviews_to_remind(session, "T0TEST", due_on_or_before=date(2026, 3, 2))

    assert (first, second, left) == (True, False, [])


@both_databases
def test_a_version_is_counted_in_the_database_even_from_a_stale_copy(database):
    team = make_team(database)
    stale = log(database, team, "r", 3, 3)  # version 1, read before the next change
    with database.transaction() as session:
        assert store.bump_version(session, store.get_risk(session, "T0TEST", stale.id), now=T0) == 2

    with database.transaction() as session:
        counted = store.bump_version(session, stale, now=T0 + timedelta(minutes=1))

    assert (counted, stale.version, stale.updated_at) == (3, 3, T0 + timedelta(minutes=1))
    with database.transaction() as session:
        assert store.get_risk(session, "T0TEST", stale.id).version == 3
