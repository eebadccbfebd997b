"""The assignment rule as a pure function: who may be primary or secondary, who is chosen first,
and (property tests) that over many requests nobody passes capacity and nobody eligible starves."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.reviews import Candidate, choose_reviewers, is_eligible

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
API = "Backend/API"


def reviewer(user_id, tier="gold", specializations=(API,), capacity=3, open_reviews=0, away=False, last=None):
    return Candidate(user_id=user_id, tier=tier, specializations=tuple(specializations), capacity=capacity,
                     open_reviews=open_reviews, away=away, last_assigned_at=last)


def test_the_primary_is_gold_or_silver_in_the_specialization_and_the_secondary_any_tier():
    pool = [reviewer("UBRONZE", tier="bronze"), reviewer("USILVER", tier="silver"),
            reviewer("UGOLDUX", tier="gold", specializations=("Frontend/UX",))]

    choice = choose_reviewers(pool, specialization=API, author_id="UDAVE")

    assert (choice.primary, choice.secondary) == ("USILVER", "UBRONZE")


def test_a_bronze_reviewer_alone_cannot_be_primary_and_the_shortfall_says_there_is_no_qualified_one():
    choice = choose_reviewers([reviewer("UIVY", tier="bronze")], specialization=API, author_id="UDAVE")

    assert choice.primary is None and choice.secondary == "UIVY"
    assert choice.shortfall("primary").qualified == ()


def test_never_the_author_never_away_never_at_capacity_never_someone_already_on_it():
    pool = [reviewer("UDAVE"), reviewer("UEVE", away=True), reviewer("UFRANK", capacity=2, open_reviews=2),
            reviewer("UGRACE"), reviewer("UHENRY", open_reviews=2)]

    choice = choose_reviewers(pool, specialization=API, author_id="UDAVE", exclude=["UGRACE"])

    assert (choice.primary, choice.secondary) == ("UHENRY", None)
    missing = choice.shortfall("secondary")
    assert (missing.away, missing.full, missing.already_on_it, missing.author_is_qualified) == (
        ("UEVE",), ("UFRANK",), ("UGRACE", "UHENRY"), True)


def test_a_shortfall_tells_those_on_the_request_from_those_who_declined_it_and_whether_anyone_could_come_free():
    pool = [reviewer("UEVE"), reviewer("UFRANK"), reviewer("UGRACE", away=True)]

    everyone_gone = choose_reviewers(pool[:2], specialization=API, author_id="UDAVE", exclude=["UFRANK"],
                                     declined=["UEVE"], need_secondary=False).shortfall("primary")
    someone_away = choose_reviewers(pool, specialization=API, author_id="UDAVE", exclude=["UFRANK"],
                                    declined=["UEVE"], need_secondary=False).shortfall("primary")
    only_the_primary = choose_reviewers([reviewer("UHENRY", specializations=("Database/Performance",))],
                                        specialization="Database/Performance", author_id="UDAVE")

    assert (everyone_gone.already_on_it, everyone_gone.declined, everyone_gone.needs_new_reviewer) == (
        ("UFRANK",), ("UEVE",), True)
    assert (someone_away.away, someone_away.needs_new_reviewer) == (("UGRACE",), False)
    assert only_the_primary.primary == "UHENRY"
    missing = only_the_primary.shortfall("secondary")
    assert (missing.already_on_it, missing.declined, missing.needs_new_reviewer) == (("UHENRY",), (), True)
    assert choose_reviewers([], specialization=API, author_id="UDAVE").shortfall("primary").needs_new_reviewer


def test_the_lowest_utilization_goes_first_whatever_the_capacity():
    pool = [reviewer("UA", capacity=3, open_reviews=1),  # 33 %
            reviewer("UB", capacity=4, open_reviews=1),  # 25 %
            reviewer("UC", capacity=10, open_reviews=3)]  # 30 %

    choice = choose_reviewers(pool, specialization=API, author_id="UX")

    assert (choice.primary, choice.secondary) == ("UB", "UC")


def test_a_tie_in_utilization_goes_to_whoever_was_assigned_least_recently_never_counting_as_longest_ago():
    pool = [reviewer("UA", open_reviews=1, capacity=2, last=T0 + timedelta(hours=2)),
            reviewer("UB", open_reviews=2, capacity=4, last=T0 + timedelta(hours=1)),
            reviewer("UC", open_reviews=0, capacity=2, last=T0),
            reviewer("UD", open_reviews=0, capacity=2, last=None)]

    choice = choose_reviewers(pool, specialization=API, author_id="UX")

    assert (choice.primary, choice.secondary) == ("UD", "UC")
    again = choose_reviewers(pool[:2], specialization=API, author_id="UX")
    assert (again.primary, again.secondary) == ("UB", "UA")


def test_only_the_roles_asked_for_are_filled():
    pool = [reviewer("UA"), reviewer("UB")]

    only_secondary = choose_reviewers(pool, specialization=API, author_id="UX", need_primary=False)

    assert (only_secondary.primary, only_secondary.secondary, only_secondary.shortfalls) == (None, "UA", ())


# --- properties over many requests ---------------------------------------------------------------------
SPECIALIZATIONS = ("A", "B")
candidates = st.lists(
    st.tuples(st.sampled_from(("gold", "silver", "bronze")),
              st.sets(st.sampled_from(SPECIALIZATIONS), min_size=1).map(lambda s: tuple(sorted(s))),
              st.integers(min_value=1, max_value=4), st.booleans()),
    min_size=1, max_size=8)
events = st.lists(st.one_of(
    st.tuples(st.just("request"), st.sampled_from(SPECIALIZATIONS), st.integers(min_value=-1, max_value=7)),
    st.tuples(st.just("finish"), st.integers(min_value=0, max_value=50), st.just(0))),
    min_size=1, max_size=80)


@settings(max_examples=300, deadline=None)
@given(candidates, events)
def test_over_many_requests_nobody_passes_capacity_and_no_eligible_reviewer_is_starved(matrix, happenings):
    people = [f"U{index}" for index in range(len(matrix))]
    tier = {p: m[0] for p, m in zip(people, matrix)}
    skills = {p: m[1] for p, m in zip(people, matrix)}
    capacity = {p: m[2] for p, m in zip(people, matrix)}
    away = {p: m[3] for p, m in zip(people, matrix)}
    load = {p: 0 for p in people}
    last: dict[str, datetime | None] = {p: None for p in people}
    open_reviews: list[str] = []
    passed_over = {p: 0 for p in people}  # requests X could have taken, while idle, without getting anything

    for step, (kind, what, who) in enumerate(happenings):
        now = T0 + timedelta(minutes=step)
        if kind == "finish":
            if open_reviews:
                load[open_reviews.pop(what % len(open_reviews))] -= 1
            continue
        author = people[who] if 0 <= who < len(people) else "UOUTSIDER"
        pool = [Candidate(p, tier[p], skills[p], capacity[p], load[p], away[p], last[p]) for p in people]
        choice = choose_reviewers(pool, specialization=what, author_id=author)

        for role, chosen in (("primary", choice.primary), ("secondary", choice.secondary)):
            others = [c for c in pool if is_eligible(c, role, what, author, exclude=[choice.primary]
                                                     if role == "secondary" else [])]
            if chosen is None:
                assert others == [], f"{role} left empty although {others} could take it"
                continue
            me = next(c for c in pool if c.user_id == chosen)
            assert me in others, f"{chosen} is not eligible as {role}"
            for other in others:  # nobody eligible was less loaded, or equally loaded and waiting longer
                assert other.utilization > me.utilization or (
                    other.utilization == me.utilization
                    and (other.last_assigned_at or T0 - timedelta(days=1)) >= (me.last_assigned_at or
                                                                                T0 - timedelta(days=1)))
        assert choice.primary is None or choice.primary != choice.secondary

        idle_and_eligible = [c.user_id for c in pool
                             if c.open_reviews == 0 and is_eligible(c, "secondary", what, author)]
        for chosen in (choice.primary, choice.secondary):
            if chosen is not None:
                load[chosen] += 1
                last[chosen] = now
                open_reviews.append(chosen)
                passed_over[chosen] = 0
        for person in idle_and_eligible:
            if person not in (choice.primary, choice.secondary):
                passed_over[person] += 1
                assert passed_over[person] < len(people), f"{person} was passed over {passed_over[person]} times"
        for person in people:
            assert load[person] <= capacity[person], f"{person} is past capacity"


@given(candidates)
def test_the_same_matrix_always_gives_the_same_answer(matrix):
    pool = [reviewer(f"U{i}", tier=t, specializations=s, capacity=c, away=a) for i, (t, s, c, a) in enumerate(matrix)]

    first = choose_reviewers(pool, specialization="A", author_id="U0")

    assert choose_reviewers(list(reversed(pool)), specialization="A", author_id="U0") == first
