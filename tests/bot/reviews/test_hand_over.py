"""A reviewer taken out of a team's matrix: their open reviews in that team go to the next eligible
reviewers (bot.reviews.reassign_open_reviews), whether they are removed in Slack or by an import."""

import threading
from datetime import UTC, datetime

from bot import reviews, teams_as_code
from storage import reviews as store
from storage import teams as team_store
from tests.conftest import both_databases
from tests.harness.teams import add_reviewer, make_team

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


def file(db, team, url="https://git.example.com/1", specialization="Backend/API"):
    with db.transaction() as session:
        form = reviews.RequestForm(url=url, specialization=specialization)
        return reviews.file_request(session, session.merge(team), form, author_id="UDAVE", channel_id=None,
                                    now=NOW).request


def assignments(db, request) -> list[tuple[str, str, str]]:
    with db.transaction() as session:
        return [(a.reviewer_id, a.role, a.status) for a in store.assignments_of(session, session.merge(request))]


def remove(db, team, user_id, **options):
    with db.transaction() as session:
        return reviews.remove_reviewer(session, team_store.get_team(session, team.workspace_id, team.id), user_id,
                                     actor_id="UALICE", now=LATER, **options)


def test_only_the_teams_open_reviews_are_handed_over_and_finished_ones_stay(database):
    payments = make_team(database)
    platform = make_team(database, "Platform", channel="platform", leads=("dave",))
    for team in (payments, platform):
        add_reviewer(database, team, "eve", "gold", ["Backend/API"], capacity=5)
        add_reviewer(database, team, "frank", "silver", ["Backend/API"], capacity=5)
    add_reviewer(database, payments, "henry", "gold", ["Backend/API"], capacity=5)
    done = file(database, payments, "https://git.example.com/done")
    with database.transaction() as session:
        mine = next(a for a in store.assignments_of(session, session.merge(done)) if a.reviewer_id == "UEVE")
        reviews.finish(session, "T0TEST", mine.id, "UEVE", now=NOW)
    open_here = file(database, payments, "https://git.example.com/open")
    elsewhere = file(database, platform, "https://git.example.com/platform")

    handed = remove(database, payments, "UEVE")

    [(label, role, replacement)] = [(h.request.label, h.ended.role, h.replacement.reviewer_id) for h in handed]
    assert label == open_here.label and replacement in ("UFRANK", "UHENRY")
    assert ("UEVE", "primary", "done") in assignments(database, done)
    assert ("UEVE", role, "reassigned") in assignments(database, open_here)
    assert (replacement, role, "assigned") in assignments(database, open_here)
    assert ("UEVE", "primary", "assigned") in assignments(database, elsewhere)  # still Platform's reviewer
    with database.transaction() as session:
        [ended] = [a for a in store.assignments_of(session, session.merge(open_here)) if a.reviewer_id == "UEVE"]
        assert (ended.status, ended.ended_at) == ("reassigned", LATER)


def test_a_secondary_nobody_can_replace_leaves_the_request_with_its_primary(database):
    team = make_team(database)
    add_reviewer(database, team, "eve", "gold", ["Backend/API"])
    add_reviewer(database, team, "frank", "bronze", ["Backend/API"])
    request = file(database, team)

    [handed] = remove(database, team, "UFRANK")

    assert handed.replacement is None
    assert assignments(database, request) == [("UEVE", "primary", "assigned"), ("UFRANK", "secondary", "reassigned")]
    with database.transaction() as session:
        assert store.get_request(session, "T0TEST", request.id).status == "open"


def test_a_reviewer_left_out_of_an_imported_file_has_their_open_reviews_handed_over(database):
    team = make_team(database)
    add_reviewer(database, team, "eve", "gold", ["Backend/API"])
    add_reviewer(database, team, "frank", "silver", ["Backend/API"])
    add_reviewer(database, team, "henry", "gold", ["Backend/API"])
    request = file(database, team)
    assert assignments(database, request) == [("UEVE", "primary", "assigned"), ("UFRANK", "secondary", "assigned")]
    with database.transaction() as session:
        text = teams_as_code.export_team(session, teams_as_code.find_team(session, "Payments"))
    start = text.index("- user: UEVE")
    text = text[:start] + text[text.index("- user: UFRANK"):]

    result = teams_as_code.import_text(database, text, actor_id="cli:tester", now=LATER)

    assert result.reviewers_removed == 1
    assert assignments(database, request) == [("UEVE", "primary", "reassigned"), ("UFRANK", "secondary", "assigned"),
                                              ("UHENRY", "primary", "assigned")]


@both_databases
def test_a_removal_and_the_reviewers_done_at_the_same_moment_never_both_count(database):
    team = make_team(database)
    add_reviewer(database, team, "eve", "gold", ["Backend/API"])
    add_reviewer(database, team, "henry", "gold", ["Backend/API"])
    request = file(database, team)
    eve = next(a for a in store_assignments(database, request) if a.reviewer_id == "UEVE")
    start, errors = threading.Barrier(2), []

    def finish():
        start.wait()
        try:
            with database.transaction() as session:
                reviews.finish(session, "T0TEST", eve.id, "UEVE", now=LATER)
        except Exception as error:  # noqa: BLE001 - a refusal is a fine answer to the one that came second
            errors.append(error)

    def take_out():
        start.wait()
        remove(database, team, "UEVE")

    threads = [threading.Thread(target=finish), threading.Thread(target=take_out)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    eves = [status for reviewer, _, status in assignments(database, request) if reviewer == "UEVE"]
    assert eves in (["done"], ["reassigned"])
    assert all(type(error).__name__ == "Refusal" for error in errors)
    with database.transaction() as session:
        assert team_store.get_reviewer(session, team, "UEVE") is None


def store_assignments(db, request):
    with db.transaction() as session:
        return store.assignments_of(session, session.merge(request))


@both_databases
def test_a_removal_and_a_decline_of_one_of_its_reviews_at_the_same_moment_both_finish(database):
    team = make_team(database)
    add_reviewer(database, team, "eve", "gold", ["Backend/API"], capacity=5)
    add_reviewer(database, team, "frank", "bronze", ["Backend/API"], capacity=5)
    first, second = file(database, team, "https://git.example.com/1"), file(database, team, "https://git.example.com/2")
    eve = next(a for a in store_assignments(database, second) if a.reviewer_id == "UEVE")
    start, errors = threading.Barrier(2), []

    def run(action):
        start.wait()
        try:
            with database.transaction() as session:
                action(session)
        except Exception as error:  # noqa: BLE001 - returned to the test
            errors.append(error)

    def decline(session):
        reviews.decline(session, "T0TEST", eve.id, "UEVE", "On leave", now=LATER)

    def take_out(session):
        reviews.remove_reviewer(session, team_store.get_team(session, "T0TEST", team.id), "UEVE", actor_id="UALICE",
                              now=LATER)

    threads = [threading.Thread(target=run, args=(action,)) for action in (decline, take_out)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [type(error).__name__ for error in errors] in ([], ["Refusal"])  # never a deadlock
    for request in (first, second):
        eves = [status for reviewer, _, status in assignments(database, request) if reviewer == "UEVE"]
        assert eves in (["declined"], ["reassigned"])  # one or the other, never both
    with database.transaction() as session:
        assert team_store.get_reviewer(session, team, "UEVE") is None
