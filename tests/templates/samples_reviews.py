"""Samples of the reviews templates: a realistic request moving through its states, and extremes
(10,000-character unicode texts, a 2,000-character link, 200 reviewers, 200 listed requests)."""

from bot.core import render
from datetime import UTC, date, datetime
from types import SimpleNamespace

from bot.reviews import ListItem, MatrixRow, RequestForm, ReviewList, ReviewStats, Shortfall, Told
from storage.reviews import ReviewAssignment, ReviewRequest
from storage.reviews_figures import ReviewerFigures, ReviewFigures
from tests.templates.samples import LONG, MANY, WORD, many_users

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
LONG_URL = "https://github.com/acme/payments/pull/123?" + "q=Ünïcødé&" * 195
TEAM = SimpleNamespace(name="Payments")
LONG_TEAM = SimpleNamespace(name=LONG)


def request(**overrides) -> ReviewRequest:
    values = dict(id=7, workspace_id="T1", team_id=1, number=7, author_id="UDAVE", channel_id="CPAYMENTS",
                  url="https://github.com/acme/payments/pull/123", summary="Retry card payments on 502 from the PSP.",
                  specialization="Backend/API", size="M", needed_by=date(2026, 3, 4), status="open", version=3,
                  created_at=NOW, updated_at=NOW)
    return ReviewRequest(**(values | overrides))


def assignment(**overrides) -> ReviewAssignment:
    values = dict(id=11, workspace_id="T1", team_id=1, request_id=7, reviewer_id="UEVE", role="primary",
                  tier="gold", status="assigned", assigned_at=NOW)
    return ReviewAssignment(**(values | overrides))


EXTREME = request(number=999999, url=LONG_URL, summary=LONG, specialization=WORD[:80], size="L", needed_by=None)
PRIMARY = assignment()
ACCEPTED = assignment(status="accepted", accepted_at=NOW)
DONE = assignment(status="done", accepted_at=NOW, done_at=NOW, ended_at=NOW, turnaround_seconds=15120, rating=9)
SECONDARY = assignment(id=12, reviewer_id="UIVY", role="secondary", tier="bronze", status="accepted")
DECLINED = assignment(id=13, reviewer_id="UBOB", status="declined", decline_reason="Out until Thursday.")
LEFT = assignment(id=14, reviewer_id="UFRANK", status="reassigned", ended_at=NOW)
EXTREME_DECLINED = [assignment(id=100 + i, reviewer_id=f"U{i:08d}", status="declined", decline_reason=LONG)
                    for i in range(MANY)]
BUSY = Shortfall(role="primary", specialization="Backend/API", qualified=("UEVE", "UBOB", "UDAVE"), away=("UEVE",),
                 full=("UBOB",), author_is_qualified=True)
NOBODY = Shortfall(role="primary", specialization="Security")
ONLY_THE_DECLINER = Shortfall(role="primary", specialization="Backend/API", qualified=("UBOB",), declined=("UBOB",))
ONLY_ONE_ON_IT = Shortfall(role="secondary", specialization="Database/Performance", qualified=("UDAVE",),
                           already_on_it=("UDAVE",))
EXTREME_SHORTFALL = Shortfall(role="primary", specialization=LONG, qualified=tuple(many_users()),
                              away=tuple(many_users()[:100]), full=tuple(many_users()[100:]),
                              already_on_it=tuple(many_users()), declined=tuple(many_users()),
                              author_is_qualified=True)


def figures(**overrides) -> ReviewFigures:
    values = dict(requested=12, done=10, mean_turnaround_seconds=15120, median_turnaround_seconds=14400,
                  mean_rating=8.7, ratings=9, stalled=1, still_stalled=0, utilization=0.78,
                  reviewers={"UEVE": ReviewerFigures(reviewer_id="UEVE", done=4, median_turnaround_seconds=14400,
                                                     mean_rating=8.5, ratings=4, open_now=2, utilization=0.6)})
    return ReviewFigures(**(values | overrides))


ROWS = [MatrixRow(user_id="UBOB", tier="gold", specializations=["Frontend/UX"], capacity=3, open_reviews=2, done=5,
                  median_turnaround_hours=4.2, quality=8.7, name="bob", utilization=0.78),
        MatrixRow(user_id="UIVY", tier="bronze", specializations=["Database/Performance"], capacity=2, open_reviews=0,
                  done=0, median_turnaround_hours=None, quality=None, away=True, name="ivy")]
MANY_ROWS = [MatrixRow(user_id=user, tier="silver", specializations=[LONG, "&<>" * 30], capacity=20, open_reviews=20,
                       done=99, median_turnaround_hours=123.45, quality=10.0, name="&" * 40 + LONG,
                       utilization=1.0)
             for user in many_users()]


def stats(rows, **overrides) -> ReviewStats:
    return ReviewStats(team=overrides.pop("team", TEAM), start=datetime(2026, 1, 31, 14, 0, tzinfo=UTC), end=NOW,
                       figures=overrides.pop("figures", figures()), rows=rows)


def item(req, assignments, mine=None) -> ListItem:
    return ListItem(request=req, assignments=assignments, working_hours_open=3.5, mine=mine)


EXTREME_ITEMS = [item(EXTREME, [PRIMARY, SECONDARY, *EXTREME_DECLINED[:5]], mine=PRIMARY) for _ in range(MANY)]

SAMPLES = {
    "teams/grouped_dm.json.j2": ("message", [
        {"kind": "nudge", "remind_later": 41, "items": [render.message("reviews/nudge_dm.json.j2", request=request(), assignment=PRIMARY,
                                                   stage="accept", waited_hours=2.0, target_hours=6.0)] * 2},
        {"kind": "stalled", "remind_later": 41, "items": [render.message("reviews/stalled_dm.json.j2", request=EXTREME, team=LONG_TEAM,
                                                     assignments=EXTREME_DECLINED, waited_hours=9999.9,
                                                     target_hours=168.0)] * 200},
    ]),
    "teams/remind_later.json.j2": ("message", [{"item_id": 41}]),

    "reviews/card.json.j2": ("message", [{"waiting": None, "withdrawn_by": None} | context for context in [
        {"request": request(), "team": TEAM, "assignments": [PRIMARY, SECONDARY], "target_hours": 6.0},
        {"request": request(status="waiting"), "team": TEAM, "assignments": [DECLINED], "target_hours": 6.0},
        {"request": request(status="waiting"), "team": TEAM, "assignments": [DECLINED], "target_hours": 6.0,
         "waiting": BUSY},
        {"request": request(status="waiting"), "team": TEAM, "assignments": [], "target_hours": 6.0,
         "waiting": NOBODY},
        {"request": request(status="waiting"), "team": TEAM, "assignments": [DECLINED], "target_hours": 6.0,
         "waiting": ONLY_THE_DECLINER},
        {"request": request(stalled_at=NOW), "team": TEAM, "assignments": [DECLINED, ACCEPTED], "target_hours": 4.5},
        {"request": request(), "team": TEAM, "assignments": [PRIMARY, LEFT, SECONDARY], "target_hours": 6.0},
        {"request": request(status="done", done_at=NOW, turnaround_seconds=15120, rating=8.5), "team": TEAM,
         "assignments": [DONE], "target_hours": 6.0},
        {"request": request(status="withdrawn", withdrawn_at=NOW), "team": TEAM, "assignments": [], "target_hours": 6},
        {"request": request(status="withdrawn", withdrawn_at=NOW), "team": TEAM, "assignments": [PRIMARY],
         "target_hours": 6, "withdrawn_by": "UALICE"},
        {"request": EXTREME, "team": LONG_TEAM, "assignments": [*EXTREME_DECLINED, PRIMARY, SECONDARY],
         "target_hours": 168.0},
        {"request": EXTREME.model_copy(update={"status": "waiting"}), "team": LONG_TEAM,
         "assignments": EXTREME_DECLINED, "target_hours": 168.0, "waiting": EXTREME_SHORTFALL},
        # From a pull request: an unlinked author, a draft, changes asked for, merged, someone taken off.
        {"request": request(author_id="github:octocat", paused_at=NOW, changes_requested_by="UEVE",
                            changes_requested_at=NOW), "team": TEAM,
         "assignments": [PRIMARY, assignment(id=15, reviewer_id="UBOB", role="secondary", status="removed")],
         "target_hours": 6.0},
        {"request": request(status="merged", merged_at=NOW), "team": TEAM,
         "assignments": [assignment(status="closed", ended_at=NOW)], "target_hours": 6.0},
        {"request": request(status="done", done_at=NOW, merged_at=NOW, turnaround_seconds=7200), "team": TEAM,
         "assignments": [DONE], "target_hours": 6.0},
        {"request": request(status="withdrawn", withdrawn_at=NOW, author_id="gitlab:" + "j" * 57), "team": TEAM,
         "assignments": [], "target_hours": 6.0, "withdrawn_by": "gitlab:" + "j" * 57},
        {"request": EXTREME.model_copy(update={"author_id": "github:" + "&<>" * 19, "paused_at": NOW,
                                               "changes_requested_by": "github:" + "x" * 57,
                                               "changes_requested_at": NOW}),
         "team": LONG_TEAM, "assignments": [*EXTREME_DECLINED, PRIMARY, SECONDARY], "target_hours": 168.0},
    ]]),
    "reviews/assignment_dm.json.j2": ("message", [
        {"request": request(), "assignment": a, "team": TEAM, "withdrawn_by": None}
        for a in (PRIMARY, ACCEPTED, DONE, DECLINED, LEFT, assignment(status="withdrawn"))
    ] + [{"request": request(status="withdrawn", withdrawn_at=NOW), "assignment": assignment(status="withdrawn"),
          "team": TEAM, "withdrawn_by": "UALICE"},
         {"request": EXTREME, "assignment": assignment(status="declined", decline_reason=LONG), "team": LONG_TEAM,
          "withdrawn_by": None},
         {"request": EXTREME, "assignment": PRIMARY, "team": LONG_TEAM, "withdrawn_by": None},
         {"request": request(author_id="github:octocat"), "assignment": assignment(status="removed"), "team": TEAM,
          "withdrawn_by": None},
         {"request": request(merged_at=NOW), "assignment": assignment(status="closed"), "team": TEAM,
          "withdrawn_by": None},
         {"request": request(status="withdrawn", withdrawn_at=NOW), "assignment": assignment(status="closed"),
          "team": TEAM, "withdrawn_by": "github:octocat"}]),
    "reviews/changes_requested_dm.json.j2": ("message", [
        {"request": request(changes_requested_by="UEVE", changes_requested_at=NOW)},
        {"request": request(changes_requested_by="github:hubot", changes_requested_at=NOW)},
        {"request": EXTREME.model_copy(update={"changes_requested_by": "gitlab:" + "&" * 57,
                                               "changes_requested_at": NOW})},
    ]),
    "reviews/not_named_dm.json.j2": ("message", [
        {"request": request(), "reviewer_id": "UEVE", "why": why, "source": source}
        for why in ("full", "away", "no_free_role") for source in ("github", "gitlab")
    ] + [{"request": EXTREME, "reviewer_id": "UEVE", "why": "full", "source": "gitlab"}]),
    "reviews/rating_dm.json.j2": ("message", [
        {"request": request(), "assignment": DONE.model_copy(update={"rating": None}), "quality_target": 8.0},
        {"request": request(), "assignment": DONE.model_copy(update={"rating": None}), "quality_target": 8.5},
        {"request": request(), "assignment": DONE, "quality_target": 8.0},
        {"request": EXTREME, "assignment": DONE, "quality_target": 10.0},
    ]),
    "reviews/author_dm.json.j2": ("message", [{"team": None} | context for context in [
        {"kind": "reassigned", "request": request(), "declined": LEFT, "replacement": PRIMARY, "shortfall": None,
         "team": TEAM},
        {"kind": "reassigned", "request": request(), "declined": LEFT, "replacement": None, "shortfall": BUSY,
         "team": TEAM},
        {"kind": "reassigned", "request": request(), "declined": LEFT.model_copy(update={"role": "secondary"}),
         "replacement": None, "shortfall": None, "team": TEAM},
        {"kind": "reassigned", "request": EXTREME, "declined": LEFT, "replacement": None,
         "shortfall": EXTREME_SHORTFALL, "team": LONG_TEAM},
        {"kind": "declined", "request": request(), "declined": DECLINED, "replacement": PRIMARY, "shortfall": None},
        {"kind": "declined", "request": request(), "declined": DECLINED, "replacement": None, "shortfall": BUSY},
        {"kind": "declined", "request": request(), "declined": assignment(role="secondary", status="declined",
                                                                            decline_reason="Not my area."),
         "replacement": None, "shortfall": None},
        {"kind": "assigned", "request": request(), "declined": None, "replacement": PRIMARY, "shortfall": None},
        {"kind": "declined", "request": EXTREME, "declined": EXTREME_DECLINED[0], "replacement": None,
         "shortfall": EXTREME_SHORTFALL},
    ]]),
    "reviews/no_reviewer_dm.json.j2": ("message", [
        {"request": request(), "team": TEAM, "shortfall": BUSY},
        {"request": request(specialization="Security"), "team": TEAM, "shortfall": NOBODY},
        {"request": request(), "team": TEAM, "shortfall": ONLY_THE_DECLINER},
        {"request": EXTREME, "team": LONG_TEAM, "shortfall": EXTREME_SHORTFALL},
    ]),
    "reviews/nudge_dm.json.j2": ("message", [
        {"request": request(), "assignment": PRIMARY, "stage": "accept", "waited_hours": 2.0, "target_hours": 6.0},
        {"request": request(), "assignment": ACCEPTED, "stage": "done", "waited_hours": 6.5, "target_hours": 6.0},
        {"request": EXTREME, "assignment": PRIMARY, "stage": "done", "waited_hours": 9999.9, "target_hours": 168.0},
    ]),
    "reviews/stalled_dm.json.j2": ("message", [
        {"request": request(), "team": TEAM, "assignments": [ACCEPTED, SECONDARY], "waited_hours": 6.0,
         "target_hours": 6.0},
        {"request": EXTREME, "team": LONG_TEAM, "assignments": EXTREME_DECLINED, "waited_hours": 9999.9,
         "target_hours": 168.0},
    ]),
    "reviews/filed.json.j2": ("message", [
        {"request": request(), "assignments": [PRIMARY, SECONDARY], "shortfalls": [], "told": None,
         "no_team_lead": None},
        {"request": request(), "assignments": [PRIMARY], "shortfalls": [Shortfall("secondary", "Backend/API")],
         "told": None, "no_team_lead": None},
        {"request": request(), "assignments": [PRIMARY], "shortfalls": [ONLY_ONE_ON_IT], "told": None,
         "no_team_lead": None},
        {"request": request(status="waiting"), "assignments": [], "shortfalls": [BUSY],
         "told": Told("team_lead", ["UALICE"]),
         "no_team_lead": None},
        {"request": request(status="waiting"), "assignments": [], "shortfalls": [NOBODY], "told": None,
         "no_team_lead": "Payments has no team lead yet."},
        {"request": request(status="waiting"), "assignments": [], "shortfalls": [NOBODY],
         "told": Told("engineering_manager", ["UBOB"]), "no_team_lead": "Payments has no team lead yet."},
        {"request": EXTREME, "assignments": [], "shortfalls": [EXTREME_SHORTFALL],
         "told": Told("engineering_manager", many_users()),
         "no_team_lead": LONG},
    ]),
    "reviews/request_modal.json.j2": ("view", [
        {"form": RequestForm(url=None, specialization=None), "specializations": ["Frontend/UX", "Backend/API"],
         "team_name": "Payments", "metadata": '{"team_id": 1, "channel_id": "CPAYMENTS"}'},
        {"form": RequestForm(url=LONG_URL, specialization=WORD[:40], summary=LONG, size="L",
                             needed_by=date(2026, 3, 4)),
         "specializations": [f"{WORD[:40]}{i}" for i in range(MANY)], "team_name": LONG, "metadata": "{}"},
    ]),
    "reviews/decline_modal.json.j2": ("view", [
        {"request": request(), "assignment": PRIMARY, "metadata": '{"assignment_id": 11}'},
        {"request": EXTREME, "assignment": SECONDARY, "metadata": '{"assignment_id": 12}'},
    ]),
    "reviews/list.json.j2": ("message", [
        {"listing": ReviewList(assigned=[item(request(), [PRIMARY], mine=PRIMARY)],
                               requested=[item(request(number=8), [ACCEPTED, SECONDARY])],
                               stalled=[item(request(number=9, stalled_at=NOW), [ACCEPTED])], team=TEAM)},
        {"listing": ReviewList(assigned=[], requested=[], stalled=[], team=None)},
        {"listing": ReviewList(assigned=EXTREME_ITEMS, requested=EXTREME_ITEMS, stalled=EXTREME_ITEMS,
                               team=LONG_TEAM)},
    ]),
    "reviews/usage.json.j2": ("message", [{}]),
    "reviews/stats.json.j2": ("message", [
        {"stats": stats(ROWS)},
        {"stats": stats([], figures=figures(done=0, requested=0, mean_turnaround_seconds=None,
                                            median_turnaround_seconds=None, mean_rating=None, utilization=None,
                                            reviewers={}))},
        {"stats": stats(MANY_ROWS, team=LONG_TEAM)},
    ]),
}
