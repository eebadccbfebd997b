"""A team's reviewer matrix: who reviews what, at which tier, how much at once, and who is away.

The guide's review coordination matrix pairs developers with reviewers by specialization
(Frontend/UX, Backend/API, Database/Performance, ...) and certification tier (gold / silver /
bronze). Teams may add specializations of their own. `bot.teams` re-exports the public names,
so other domains write `teams.is_away(...)`, `teams.save_reviewer(...)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from math import ceil

from sqlmodel import Session

from bot.core import render
from bot.core.errors import Invalid, Phrase, Problems, Refusal
from storage import audit, outbox
from storage import teams as store
from storage.teams import Reviewer, Team

TIERS = ("gold", "silver", "bronze")
DEFAULT_SPECIALIZATIONS = ["Frontend/UX", "Backend/API", "Database/Performance", "Security", "Infrastructure",
                           "Mobile"]
CAPACITY_RANGE = (1, 20)
SPECIALIZATION_MAX = 40  # characters in one specialization's name
SPECIALIZATIONS_MAX = 50  # per team: they must fit one select menu and one text box of the modal
PAGE_SIZE = 10  # reviewers per page of the matrix (two blocks each; a message holds 50)


@dataclass
class ReviewerForm:
    user_id: str | None
    tier: str | None
    specializations: list[str]
    capacity: str | int | None = 3
    away_until: date | None = None
    new_specializations: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CheckedReviewer:
    """A reviewer form that passed validation, with its values parsed."""

    specializations: list[str]
    capacity: int
    new_for_team: list[str]


def validate_reviewer(known: list[str], form: ReviewerForm, *, is_bot: bool = False, today: date | None = None,
                      already_reviewer: bool = False) -> CheckedReviewer:
    """Raise Invalid naming every wrong field of a reviewer. `known`: the team's specializations.
    `today` (the team's local date), when given, refuses an "away until" in the past;
    `already_reviewer` refuses adding someone twice."""
    problems = Problems()
    if not form.user_id:
        problems.add("reviewer", "teams.reviewer_required")
    elif is_bot:
        problems.add("reviewer", "teams.reviewer_is_bot")
    elif already_reviewer:
        problems.add("reviewer", "teams.already_a_reviewer")
    if form.tier not in TIERS:
        problems.add("tier", "teams.unknown_tier")
    new = list(dict.fromkeys(s.strip() for s in form.new_specializations if s.strip()))
    new_for_team = [s for s in new if s not in known]
    if any(len(s) > SPECIALIZATION_MAX for s in new):
        problems.add("new_specializations", "teams.specialization_too_long", limit=SPECIALIZATION_MAX)
    elif len(known) + len(new_for_team) > SPECIALIZATIONS_MAX:
        problems.add("new_specializations", "teams.too_many_specializations", limit=SPECIALIZATIONS_MAX)
    chosen = list(dict.fromkeys([*form.specializations, *new]))
    if not chosen:
        problems.add("specializations", "teams.specialization_required")
    elif unknown := [s for s in form.specializations if s not in known]:
        problems.add("specializations", "teams.unknown_specialization", names=unknown)
    capacity = _capacity(form.capacity)
    if capacity is None:
        problems.add("capacity", "teams.bad_capacity", low=CAPACITY_RANGE[0], high=CAPACITY_RANGE[1])
    if today is not None and form.away_until is not None and form.away_until < today:
        problems.add("away_until", "teams.away_in_the_past")
    problems.raise_if_any()
    return CheckedReviewer(chosen, capacity, new_for_team)


def save_reviewer(session: Session, team: Team, form: ReviewerForm, *, actor_id: str, now: datetime,
                  is_bot: bool = False, today: date | None = None, adding: bool | None = None,
                  notify: bool = False) -> Reviewer:
    """Add or change a reviewer, in the caller's transaction, and audit it.

    `adding=True` refuses someone already in the matrix (inline, on the Reviewer field);
    `adding=False` refuses someone no longer in it (they were removed meanwhile); None does either.
    `notify` tells a newly added reviewer by DM, through the outbox.
    """
    reviewer = store.get_reviewer(session, team, form.user_id) if form.user_id else None
    if adding is False and reviewer is None:
        raise Refusal("teams.not_a_reviewer")
    checked = validate_reviewer(list(team.specializations), form, is_bot=is_bot, today=today,
                                already_reviewer=adding is True and reviewer is not None)
    if checked.new_for_team:
        team.specializations = [*team.specializations, *checked.new_for_team]
        session.add(team)
        audit.record(session, workspace_id=team.workspace_id, actor_id=actor_id, entity_type="team",
                     entity_id=team.id, action="specializations_added", after={"added": checked.new_for_team},
                     at=now)
    before = reviewer_data(reviewer) if reviewer else None
    if reviewer is None:
        reviewer = Reviewer(team_id=team.id, user_id=form.user_id, workspace_id=team.workspace_id, tier=form.tier,
                            specializations=checked.specializations)
    reviewer.tier, reviewer.specializations = form.tier, checked.specializations
    reviewer.capacity, reviewer.away_until = checked.capacity, form.away_until
    session.add(reviewer)
    session.flush()  # a second "add" of the same person fails here, inside the transaction
    audit.record(session, workspace_id=team.workspace_id, actor_id=actor_id, entity_type="reviewer",
                 entity_id=f"{team.id}:{form.user_id}", action="updated" if before else "added", before=before,
                 after=reviewer_data(reviewer), at=now)
    if notify and before is None and form.user_id != actor_id:
        _tell_new_reviewer(session, team, reviewer, actor_id=actor_id, now=now)
    return reviewer


def set_away(session: Session, team: Team, user_id: str, until: date | None, *, actor_id: str, now: datetime,
             today: date | None = None) -> Reviewer:
    """Mark a reviewer away up to and including `until`, or back (None). Audited."""
    reviewer = store.get_reviewer(session, team, user_id)
    if reviewer is None:
        raise Refusal("teams.not_a_reviewer")
    if until is not None and today is not None and until < today:
        raise Invalid({"away_until": Phrase("teams.away_date_passed")})  # required here: no "leave it empty"
    before = reviewer_data(reviewer)
    reviewer.away_until = until
    session.add(reviewer)
    audit.record(session, workspace_id=team.workspace_id, actor_id=actor_id, entity_type="reviewer",
                 entity_id=f"{team.id}:{user_id}", action="away" if until else "back", before=before,
                 after=reviewer_data(reviewer), at=now)
    return reviewer


def remove_reviewer(session: Session, team: Team, user_id: str, *, actor_id: str, now: datetime,
                    handed_over: dict[str, str | None] | None = None) -> None:
    """Take a reviewer out of the matrix, audited (with `handed_over`, what became of their open
    reviews: bot.reviews.remove_reviewer hands those on first)."""
    reviewer = store.get_reviewer(session, team, user_id)
    if reviewer is None:
        raise Refusal("teams.not_a_reviewer")
    before = reviewer_data(reviewer)
    store.remove_reviewer(session, team, user_id)
    audit.record(session, workspace_id=team.workspace_id, actor_id=actor_id, entity_type="reviewer",
                 entity_id=f"{team.id}:{user_id}", action="removed", before=before,
                 after={"handed_over": handed_over} if handed_over else None, at=now)


def is_away(reviewer: Reviewer, today: date) -> bool:
    """Away up to and including `away_until` (in the team's time zone: see teams.local_today)."""
    return reviewer.away_until is not None and today <= reviewer.away_until


# --- the team's own list of specializations -------------------------------------------------
def parse_specializations(text: str | None) -> list[str]:
    """One per line or comma-separated, blanks and repeats dropped, in the order written."""
    names = [name.strip() for line in (text or "").splitlines() for name in line.split(",")]
    return list(dict.fromkeys(name for name in names if name))


def validate_specializations(session: Session | None, team: Team | None, names: list[str],
                             *, still_used: set[str] | None = None) -> None:
    """Raise Invalid (field "specializations") unless `names` can be the team's list. A name
    still used by a reviewer may not be dropped: `still_used` overrides the team's reviewers."""
    problems = Problems()
    if not names:
        problems.add("specializations", "teams.specialization_required")
    elif any(len(name) > SPECIALIZATION_MAX for name in names):
        problems.add("specializations", "teams.specialization_too_long", limit=SPECIALIZATION_MAX)
    elif len(names) > SPECIALIZATIONS_MAX:
        problems.add("specializations", "teams.too_many_specializations", limit=SPECIALIZATIONS_MAX)
    else:
        if still_used is None and session is not None and team is not None and team.id is not None:
            still_used = {s for r in store.reviewers(session, team) for s in r.specializations}
        if dropped := sorted((still_used or set()) - set(names)):
            problems.add("specializations", "teams.specialization_in_use", names=dropped)
    problems.raise_if_any()


def save_specializations(session: Session, team: Team, names: list[str], *, actor_id: str,
                         now: datetime) -> list[str]:
    """Replace the team's list of specializations (reviewers' choices must stay on it). Audited."""
    validate_specializations(session, team, names)
    replace_specializations(session, team, names, actor_id=actor_id, now=now)
    return list(names)


def replace_specializations(session: Session, team: Team, names: list[str], *, actor_id: str,
                            now: datetime) -> bool:
    """Set the list as given, audited, without checks: for callers that validated the whole
    picture (an import replaces the list and the reviewers together). Returns whether it changed."""
    before = list(team.specializations)
    if names == before:
        return False
    team.specializations = list(names)
    session.add(team)
    audit.record(session, workspace_id=team.workspace_id, actor_id=actor_id, entity_type="team",
                 entity_id=team.id, action="specializations_changed", before={"specializations": before},
                 after={"specializations": list(names)}, at=now)
    return True


# --- the matrix as people read it ------------------------------------------------------------
@dataclass(frozen=True)
class MatrixRow:
    user_id: str
    tier: str
    specializations: list[str]
    capacity: int
    away_until: date | None
    away: bool


@dataclass(frozen=True)
class Matrix:
    rows: list[MatrixRow]  # gold first, then silver, then bronze
    specializations: list[str]  # the team's list
    uncovered: list[str]  # specializations no available reviewer covers today
    page_size: int = PAGE_SIZE

    @property
    def away_count(self) -> int:
        return sum(row.away for row in self.rows)

    @property
    def pages(self) -> int:
        return max(1, ceil(len(self.rows) / self.page_size))

    def page(self, number: int) -> tuple[list[MatrixRow], int]:
        """The rows of page `number` (0-based, clamped to the pages there are) and that number."""
        number = min(max(number, 0), self.pages - 1)
        return self.rows[number * self.page_size:(number + 1) * self.page_size], number


def matrix(session: Session, team: Team, *, today: date) -> Matrix:
    reviewers = sorted(store.reviewers(session, team), key=lambda r: (_tier_rank(r.tier), r.user_id))
    rows = [MatrixRow(r.user_id, r.tier, list(r.specializations), r.capacity, r.away_until, is_away(r, today))
            for r in reviewers]
    covered = {s for row in rows if not row.away for s in row.specializations}
    return Matrix(rows, list(team.specializations), [s for s in team.specializations if s not in covered])


def reviewer_data(reviewer: Reviewer) -> dict:
    """A reviewer as plain data: for the audit log and for export."""
    return {"user": reviewer.user_id, "tier": reviewer.tier, "specializations": list(reviewer.specializations),
            "capacity": reviewer.capacity,
            "away_until": reviewer.away_until.isoformat() if reviewer.away_until else None}


def _tier_rank(tier: str) -> int:
    return TIERS.index(tier) if tier in TIERS else len(TIERS)


def _capacity(value: str | int | None) -> int | None:
    try:
        capacity = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return capacity if CAPACITY_RANGE[0] <= capacity <= CAPACITY_RANGE[1] else None


def _tell_new_reviewer(session: Session, team: Team, reviewer: Reviewer, *, actor_id: str, now: datetime) -> None:
    """A DM to someone just added to the matrix, so they know why reviews start arriving."""
    payload = render.message("teams/reviewer_added.json.j2", team=team, reviewer=reviewer, actor_id=actor_id)
    outbox.enqueue(session, workspace_id=team.workspace_id, method="chat.postMessage",
                   key=f"reviewer:{team.id}:{reviewer.user_id}:added:{now.isoformat()}",
                   payload={**payload, "channel": reviewer.user_id}, now=now)
