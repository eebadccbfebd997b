"""Review rules as plain Python: what a request must say, how its state moves, and that two people
(or processes) acting at once never overfill a reviewer or finish a request twice."""

import threading
from datetime import UTC, date, datetime

import pytest

from bot import reviews
from bot.core.errors import Invalid, Refusal
from storage import audit, outbox
from storage import reviews as store
from tests.conftest import both_databases
from tests.harness.teams import add_reviewer, make_team

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TEAM = type("T", (), {"specializations": ["Frontend/UX", "Backend/API", "Database/Performance"]})()


def form(**overrides):
    return reviews.RequestForm(**({"url": "https://github.com/acme/app/pull/1", "specialization": "Backend/API"}
                                  | overrides))


@pytest.mark.parametrize("raw, url", [
    ("https://github.com/acme/app/pull/1", "https://github.com/acme/app/pull/1"),
    ("<https://gitlab.example.com/x/-/merge_requests/7>", "https://gitlab.example.com/x/-/merge_requests/7"),
    ("<https://github.com/a/b/pull/2|github.com/a/b/pull/2>", "https://github.com/a/b/pull/2"),
    ("  http://localhost:8080/diff  ", "http://localhost:8080/diff"),
    ("github.com/acme/app/pull/1", None),
    ("ftp://example.com/patch", None),
    ("https://", None),
    ("https://no-dot/path", None),
    ("https://example.com/a b", None),
    ("javascript:alert(1)", None),
    ("https://x.io/pr/4?<!channel>", None),  # would ping the channel wherever it is shown
    ("<https://x.io/pr/4?<!here>>", None),
    ("https://x.io/pr/4?a=<b", None),
    ("https://x.io/pr/4?a=1>", None),
    ("https://x.io/pr/4?a=1&b=%3C", "https://x.io/pr/4?a=1&b=%3C"),
    ("https://" + "a" * 2000 + ".com", None),
    ("", None),
])
def test_a_link_must_be_an_http_or_https_url_with_a_host(raw, url):
    assert reviews.clean_url(raw) == url


@pytest.mark.parametrize("typed, known", [
    ("Backend/API", "Backend/API"), ("backend/api", "Backend/API"), ("backend", "Backend/API"),
    ("data", "Database/Performance"), ("Quantum", None), ("", None), ("/", None),
])
def test_a_specialization_is_matched_exactly_ignoring_case_or_by_a_unique_start(typed, known):
    assert reviews.match_specialization(TEAM, typed) == known


def test_every_wrong_field_is_named_at_once():
    with pytest.raises(Invalid) as invalid:
        reviews.validate_request(TEAM, form(url="see PR", specialization="Quantum", size="XL", summary="x" * 3001,
                                            needed_by=date(2026, 3, 1)), today=date(2026, 3, 2))

    assert {name: p.key for name, p in invalid.value.problems.items()} == {
        "link": "reviews.not_a_link", "specialization": "reviews.unknown_specialization",
        "size": "reviews.unknown_size", "summary": "reviews.summary_too_long", "needed_by": "reviews.needed_by_past"}


def test_a_valid_form_comes_back_cleaned():
    cleaned = reviews.validate_request(TEAM, form(url="<https://github.com/a/b/pull/3>", specialization="front",
                                                  size="s", summary="  ", needed_by=date(2026, 3, 2)),
                                       today=date(2026, 3, 2))

    assert (cleaned.url, cleaned.specialization, cleaned.size, cleaned.summary) == (
        "https://github.com/a/b/pull/3", "Frontend/UX", "S", None)


@pytest.mark.parametrize("score", [0, 11, -1, "7.5", "ten", None, "", "²", "1_0", "１０", "+5", "010", True])
def test_a_rating_is_a_whole_number_from_one_to_ten(score):
    with pytest.raises(Refusal) as refused:
        reviews.parse_rating(score)
    assert refused.value.phrase.key == "reviews.bad_rating"


def test_ratings_at_the_bounds_are_accepted():
    assert [reviews.parse_rating(s) for s in (1, "10", " 5 ")] == [1, 10, 5]


def test_a_request_label_may_be_written_several_ways(database):
    team = make_team(database)
    add_reviewer(database, team, "eve")
    with database.transaction() as session:
        reviews.file_request(session, session.merge(team), form(), author_id="UDAVE", channel_id=None, now=NOW)

    with database.transaction() as session:
        found = {reviews.find_request(session, "T0TEST", label).number for label in ("CR-001", "cr-1", "1", "CR1")}
        with pytest.raises(Refusal) as refused:
            reviews.find_request(session, "T0TEST", "QR-001")
    assert found == {1}
    assert refused.value.phrase.key == "reviews.unknown_request"


def test_load_counts_across_teams_a_person_reviews_for(database):
    payments = make_team(database)
    platform = make_team(database, "Platform", channel="platform", leads=("dave",))
    add_reviewer(database, payments, "eve", capacity=1)
    add_reviewer(database, platform, "eve", capacity=1)
    add_reviewer(database, platform, "frank", tier="silver")
    with database.transaction() as session:
        reviews.file_request(session, session.merge(payments), form(), author_id="UDAVE", channel_id=None, now=NOW)

    with database.transaction() as session:
        filed = reviews.file_request(session, session.merge(platform), form(), author_id="UDAVE", channel_id=None,
                                     now=NOW)

    assert filed.choice.primary == "UFRANK"  # eve's one slot is taken by Payments' request
    assert filed.choice.shortfall("secondary").full == ("UEVE",)


def test_a_withdrawn_request_cannot_be_withdrawn_again_and_others_may_not_withdraw_it(database):
    team = make_team(database)
    add_reviewer(database, team, "eve")
    with database.transaction() as session:
        request = reviews.file_request(session, session.merge(team), form(), author_id="UDAVE", channel_id=None,
                                       now=NOW).request

    with database.transaction() as session, pytest.raises(Refusal) as stranger:
        reviews.withdraw(session, "T0TEST", request.id, "UIVY", workspace_admin=False, now=NOW)
    with database.transaction() as session:
        reviews.withdraw(session, "T0TEST", request.id, "UALICE", workspace_admin=False, now=NOW)  # a team lead
    with database.transaction() as session, pytest.raises(Refusal) as again:
        reviews.withdraw(session, "T0TEST", request.id, "UDAVE", workspace_admin=False, now=NOW)

    assert (stranger.value.phrase.key, again.value.phrase.key) == ("reviews.only_author_withdraws",
                                                                   "reviews.already_closed")


def test_a_review_of_another_workspace_is_not_found(database):
    team = make_team(database, workspace_id="T0OTHER")
    add_reviewer(database, team, "eve")
    with database.transaction() as session:
        filed = reviews.file_request(session, session.merge(team), form(), author_id="UDAVE", channel_id=None,
                                     now=NOW)

    with database.transaction() as session, pytest.raises(Refusal) as refused:
        reviews.accept(session, "T0TEST", filed.assignments[0].id, "UEVE", now=NOW)
    assert refused.value.phrase.key == "reviews.no_such_review"


# --- at the same moment ----------------------------------------------------------------------------
def at_once(*actions):
    """Run the actions on their own threads, released together; return their errors."""
    start = threading.Barrier(len(actions))
    errors = []

    def run(action):
        try:
            start.wait()
            action()
        except Exception as error:  # noqa: BLE001 - returned to the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@both_databases
def test_two_requests_filed_at_once_cannot_both_take_a_reviewers_last_slot(database):
    team = make_team(database)
    add_reviewer(database, team, "eve", capacity=1)

    def file(url):
        def action():
            with database.transaction() as session:
                reviews.file_request(session, session.merge(team), form(url=url), author_id="UDAVE", channel_id=None,
                                     now=NOW)
        return action

    errors = at_once(file("https://git.example.com/1"), file("https://git.example.com/2"))

    assert errors == []
    with database.transaction() as session:
        assert store.open_counts(session, "T0TEST", ["UEVE"]) == {"UEVE": 1}
        statuses = sorted(r.status for r in store.active_requests(session, "T0TEST", team.id))
    assert statuses == ["open", "waiting"]


@both_databases
def test_two_reviewers_pressing_done_at_once_finish_the_request_once(database):
    team = make_team(database)
    add_reviewer(database, team, "eve")
    add_reviewer(database, team, "frank", tier="bronze")
    with database.transaction() as session:
        filed = reviews.file_request(session, session.merge(team), form(), author_id="UDAVE", channel_id=None,
                                     now=NOW)
    eve, frank = filed.assignments
    finished = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

    def finish(assignment):
        def action():
            with database.transaction() as session:
                reviews.finish(session, "T0TEST", assignment.id, assignment.reviewer_id, now=finished)
        return action

    errors = at_once(finish(eve), finish(frank))

    assert errors == []
    with database.transaction() as session:
        request = store.get_request(session, "T0TEST", filed.request.id)
    assert (request.status, request.turnaround_seconds, request.version) == ("done", 2 * 3600, 3)
    with database.transaction() as session:
        actions = [e.action for e in audit.history(session, "T0TEST", "review", request.id)]
    assert actions.count("done") == 2


# --- a reviewer leaving the matrix -----------------------------------------------------------------
LATER = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


def file_as(database, team, url, author="UDAVE", now=NOW):
    with database.transaction() as session:
        filed = reviews.file_request(session, session.merge(team), form(url=url), author_id=author, channel_id=None,
                                     now=now)
        return filed.request.id, {a.reviewer_id: a.role for a in filed.assignments}


def reassign(database, team, reviewer_id, *, remove_first=True):
    with database.transaction() as session:
        team = session.merge(team)
        if remove_first:  # removing a reviewer hands their open reviews over (it calls reassign_open_reviews)
            return reviews.remove_reviewer(session, team, reviewer_id, actor_id="UALICE", now=LATER)
        return reviews.reassign_open_reviews(session, team, reviewer_id, actor_id="UALICE", now=LATER)


def state(database, request_id):
    with database.transaction() as session:
        request = store.get_request(session, "T0TEST", request_id)
        return request.status, [(a.reviewer_id, a.role, a.status) for a in store.assignments_of(session, request)]


@both_databases
@pytest.mark.parametrize("remove_first", [True, False])
def test_a_reviewer_leaving_the_matrix_has_their_open_reviews_handed_to_the_next_eligible(database, remove_first):
    team = make_team(database)
    platform = make_team(database, "Platform", channel="platform", leads=("dave",))
    add_reviewer(database, team, "eve", "gold")
    add_reviewer(database, team, "frank", "silver")
    add_reviewer(database, platform, "eve", "gold")
    first, roles = file_as(database, team, "https://git.example.com/1")  # eve primary, frank secondary
    add_reviewer(database, team, "grace", "silver")
    second, _ = file_as(database, team, "https://git.example.com/2", author="UFRANK")  # grace primary, eve second.
    elsewhere, _ = file_as(database, platform, "https://git.example.com/3")  # eve, in Platform: stays hers
    assert roles == {"UEVE": "primary", "UFRANK": "secondary"}

    moved = reassign(database, team, "UEVE", remove_first=remove_first)

    assert [(m.request.id, m.role, m.replacement_id) for m in moved] == [
        (first, "primary", "UGRACE"), (second, "secondary", None)]  # frank wrote CR-002: nobody else is free
    assert [m.label for m in moved] == ["CR-001", "CR-002"]
    assert state(database, first) == ("open", [("UEVE", "primary", "reassigned"), ("UFRANK", "secondary", "assigned"),
                                               ("UGRACE", "primary", "assigned")])
    assert state(database, second)[1] == [("UGRACE", "primary", "assigned"), ("UEVE", "secondary", "reassigned")]
    assert state(database, elsewhere)[1][0] == ("UEVE", "primary", "assigned")
    with database.transaction() as session:
        assert store.open_counts(session, "T0TEST", ["UEVE"]) == {"UEVE": 1}
        events = [e for e in audit.history(session, "T0TEST", "review", first) if e.action == "reassigned"]
        keys = {m.key for m in outbox.messages(session, "T0TEST", key_prefix=f"review:{first}:")}
    assert [(e.actor_id, e.after["reviewer"], e.after["replacement"]) for e in events] == [
        ("UALICE", "UEVE", "UGRACE")]
    assert {f"review:{first}:card:v2", f"review:{first}:author:v2"} <= keys  # the card, the author's note
    assert any(k.startswith(f"review:{first}:assign:") for k in keys - {f"review:{first}:assign:1"})  # grace's DM


def test_a_primary_nobody_can_replace_leaves_the_request_waiting_and_the_leads_told(database):
    team = make_team(database)
    add_reviewer(database, team, "eve", "gold")
    add_reviewer(database, team, "ivy", "bronze")
    request_id, _ = file_as(database, team, "https://git.example.com/1")

    [moved] = reassign(database, team, "UEVE")

    assert (moved.role, moved.replacement_id) == ("primary", None)
    assert state(database, request_id)[0] == "waiting"
    with database.transaction() as session:
        pinged = outbox.messages(session, "T0TEST", key_prefix=f"review:{request_id}:no_reviewer:UALICE")
        author = outbox.messages(session, "T0TEST", key_prefix=f"review:{request_id}:author:")
    assert len(pinged) == 1 and len(author) == 1
    assert "<@UEVE> is no longer a reviewer in Payments, so their primary review" in str(author[0].payload)
    assert "Nobody in the matrix is a gold or silver reviewer for Backend/API" in str(author[0].payload)


def test_a_reviewer_with_nothing_open_leaves_without_a_change(database):
    team = make_team(database)
    add_reviewer(database, team, "eve", "gold")
    add_reviewer(database, team, "frank", "silver")
    request_id, _ = file_as(database, team, "https://git.example.com/1")
    with database.transaction() as session:
        reviews.finish(session, "T0TEST", store.assignments_of(session, store.get_request(
            session, "T0TEST", request_id))[0].id, "UEVE", now=LATER)
    before = state(database, request_id)

    assert reassign(database, team, "UEVE") == []
    assert reassign(database, team, "UNOBODY", remove_first=False) == []
    assert state(database, request_id) == before


def test_a_late_press_on_a_handed_on_review_says_so_and_changes_nothing(database):
    team = make_team(database)
    add_reviewer(database, team, "eve", "gold")
    add_reviewer(database, team, "frank", "silver")
    request_id, _ = file_as(database, team, "https://git.example.com/1")
    add_reviewer(database, team, "grace", "silver")
    reassign(database, team, "UEVE")
    with database.transaction() as session:
        eve = store.assignments_of(session, store.get_request(session, "T0TEST", request_id))[0]

    with database.transaction() as session, pytest.raises(Refusal) as refused:
        reviews.accept(session, "T0TEST", eve.id, "UEVE", now=LATER)

    assert (refused.value.phrase.key, refused.value.phrase.params["replacement"]) == (
        "reviews.you_left_the_matrix", "UGRACE")
