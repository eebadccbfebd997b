"""The rules of code review: who reviews (the one rule that picks a primary and a secondary
reviewer from a team's matrix), and what a review request must say.

Who reviews:
- The primary is gold or silver in the request's specialization; the secondary is anyone in that
  specialization, whatever their tier (a bronze reviewer learns by pairing with a gold one).
- Never the author, never someone away, never someone at capacity, never someone already on the
  request, never someone who declined it (or was taken off it).
- Among the eligible: the lowest utilization (open reviews ÷ capacity) first; a tie goes to whoever
  was assigned least recently (never assigned counts as longest ago), then by user ID, so that the
  same inputs always give the same answer.

What a request must say: a link that is a URL, one of the team's specializations, a size, and
optionally what changed and when it is needed by. Plain values in, `Invalid` out.

Plain functions of plain values: no database, no clock, no Slack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from fractions import Fraction
from typing import Iterable
from urllib.parse import urlsplit

from bot.core.errors import Problems
from bot.core.untrusted import link_url
from storage import reviews as store
from storage.teams import Team

PRIMARY_TIERS = ("gold", "silver")
NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Candidate:
    """A reviewer of the matrix as the rule sees them at the moment of assignment."""

    user_id: str
    tier: str
    specializations: tuple[str, ...]
    capacity: int
    open_reviews: int
    away: bool = False
    last_assigned_at: datetime | None = None

    @property
    def utilization(self) -> Fraction:
        return Fraction(self.open_reviews, self.capacity) if self.capacity > 0 else Fraction(1)

    @property
    def is_full(self) -> bool:
        return self.open_reviews >= self.capacity


@dataclass(frozen=True)
class Shortfall:
    """Why nobody could take a role, for the answer to the author and the ping to the team lead."""

    role: str  # primary | secondary
    specialization: str
    qualified: tuple[str, ...] = ()  # those of the right tier and specialization
    away: tuple[str, ...] = ()
    full: tuple[str, ...] = ()
    author_is_qualified: bool = False
    already_on_it: tuple[str, ...] = ()  # on this request already (the primary just chosen, too)
    declined: tuple[str, ...] = ()  # declined it, or were taken off it

    @property
    def needs_new_reviewer(self) -> bool:
        """Nobody in the matrix could ever take the role as it stands: besides the author and those
        already on it or gone from it, nobody qualifies (a reviewer coming back or freeing a slot
        would not help; adding one to the matrix would)."""
        return not self.away and not self.full


@dataclass(frozen=True)
class Choice:
    primary: str | None
    secondary: str | None
    shortfalls: tuple[Shortfall, ...] = field(default=())

    def shortfall(self, role: str) -> Shortfall | None:
        return next((s for s in self.shortfalls if s.role == role), None)


def choose_reviewers(candidates: Iterable[Candidate], *, specialization: str, author_id: str,
                     exclude: Iterable[str] = (), declined: Iterable[str] = (), need_primary: bool = True,
                     need_secondary: bool = True) -> Choice:
    """Pick the reviewers a request needs. `exclude`: people already on it; `declined`: people who
    declined it or were taken off it. Neither is chosen; the shortfall tells them apart."""
    pool = sorted(candidates, key=lambda c: c.user_id)  # the same answer, whatever the order given
    gone = set(declined)
    taken = set(exclude) | gone
    primary = secondary = None
    shortfalls: list[Shortfall] = []
    if need_primary:
        primary = _pick(pool, "primary", specialization, author_id, taken)
        if primary is None:
            shortfalls.append(_shortfall(pool, "primary", specialization, author_id, taken, gone))
        else:
            taken.add(primary)
    if need_secondary:
        secondary = _pick(pool, "secondary", specialization, author_id, taken)
        if secondary is None:
            shortfalls.append(_shortfall(pool, "secondary", specialization, author_id, taken, gone))
    return Choice(primary=primary, secondary=secondary, shortfalls=tuple(shortfalls))


def qualifies(candidate: Candidate, role: str, specialization: str) -> bool:
    """Of the right tier and specialization for the role, whatever their load or absence."""
    if specialization not in candidate.specializations:
        return False
    return candidate.tier in PRIMARY_TIERS if role == "primary" else True


def is_eligible(candidate: Candidate, role: str, specialization: str, author_id: str,
                exclude: Iterable[str] = ()) -> bool:
    return (qualifies(candidate, role, specialization) and candidate.user_id != author_id
            and candidate.user_id not in set(exclude) and not candidate.away and not candidate.is_full)


def fairness_key(candidate: Candidate) -> tuple[Fraction, datetime, str]:
    """Lower sorts first: least loaded, then least recently assigned, then by ID."""
    return candidate.utilization, candidate.last_assigned_at or NEVER, candidate.user_id


def _pick(pool: list[Candidate], role: str, specialization: str, author_id: str, taken: set[str]) -> str | None:
    eligible = [c for c in pool if is_eligible(c, role, specialization, author_id, taken)]
    return min(eligible, key=fairness_key).user_id if eligible else None


def _shortfall(pool: list[Candidate], role: str, specialization: str, author_id: str,
               taken: set[str], gone: set[str]) -> Shortfall:
    qualified = [c for c in pool if qualifies(c, role, specialization)]
    others = [c for c in qualified if c.user_id != author_id]
    return Shortfall(
        role=role, specialization=specialization,
        qualified=tuple(c.user_id for c in qualified),
        author_is_qualified=len(others) < len(qualified),
        already_on_it=tuple(c.user_id for c in others if c.user_id in taken and c.user_id not in gone),
        declined=tuple(c.user_id for c in others if c.user_id in gone),
        away=tuple(c.user_id for c in others if c.user_id not in taken and c.away),
        full=tuple(c.user_id for c in others if c.user_id not in taken and not c.away and c.is_full),
    )


# --- what a review request must say ------------------------------------------------------------
@dataclass
class RequestForm:
    """What `/qms review` (its modal, or `/qms review <link> [specialization] [S|M|L]`) says."""

    url: str | None
    specialization: str | None
    summary: str | None = None
    size: str | None = "M"
    needed_by: date | None = None


def clean_url(raw: str | None) -> str | None:
    """A link as Slack sends it (`<https://…>` or `<https://…|label>`) or as typed, if it is an
    http(s) URL with a host that Slack can show as a link; else None. `<`, `>` and `|` are refused
    (bot.core.untrusted.link_url): never part of a real URL (browsers encode them), they would make
    `<!channel>` a ping, or let a URL's tail pose as its text ("https://evil.example/|https://github.com/…")."""
    text = (raw or "").strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].split("|", 1)[0]
    url = link_url(text) if len(text) <= store.URL_MAX else None
    host = urlsplit(url).hostname if url else None
    if not host or not ("." in host or host == "localhost"):
        return None
    return url


def match_specialization(team: Team, name: str | None) -> str | None:
    """The team's specialization this names: exactly, ignoring case, or by a unique start
    ("backend" → "Backend/API")."""
    wanted = (name or "").strip().lower()
    if not wanted:
        return None
    for known in team.specializations:
        if known.lower() == wanted:
            return known
    starts = [known for known in team.specializations if known.lower().startswith(wanted)]
    return starts[0] if len(starts) == 1 else None


def validate_request(team: Team, form: RequestForm, *, today: date) -> RequestForm:
    """The form with its values cleaned, or Invalid naming every wrong field."""
    problems = Problems()
    url = clean_url(form.url)
    if not (form.url or "").strip():
        problems.add("link", "reviews.link_required")
    elif url is None:
        problems.add("link", "reviews.not_a_link", text=(form.url or "").strip())
    specialization = match_specialization(team, form.specialization)
    if not (form.specialization or "").strip():
        problems.add("specialization", "reviews.specialization_required", known=list(team.specializations))
    elif specialization is None:
        problems.add("specialization", "reviews.unknown_specialization", name=form.specialization.strip(),
                     known=list(team.specializations))
    size = (form.size or "M").strip().upper()
    if size not in store.SIZES:
        problems.add("size", "reviews.unknown_size")
    summary = (form.summary or "").strip() or None
    if summary and len(summary) > store.SUMMARY_MAX:
        problems.add("summary", "reviews.summary_too_long", limit=store.SUMMARY_MAX)
    if form.needed_by is not None and form.needed_by < today:
        problems.add("needed_by", "reviews.needed_by_past")
    problems.raise_if_any()
    return RequestForm(url=url, specialization=specialization, summary=summary, size=size, needed_by=form.needed_by)
