"""The risk register's rules as pure functions: IDs, levels, score bands, forms, validation and
the quick add's grammar. No database, no Slack, no clock.

Bands are thresholds: the lowest score of medium, high and critical. The guide's defaults are
1–4 low, 5–9 medium, 10–15 high, 16–25 critical (so its 3 × 4 = 12 is high); a team may set its
own (`team.risk_bands`, None meaning these).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.core.errors import Invalid, Phrase, Problems

CATEGORIES = ("technical", "process", "organizational")
LEVELS = {1: "Very low", 2: "Low", 3: "Medium", 4: "High", 5: "Very high"}
RESPONSES = ("mitigated", "accepted", "transferred", "avoided")
BANDS = ("low", "medium", "high", "critical")
DEFAULT_BANDS = {"medium": 5, "high": 10, "critical": 16}
TITLE_MAX, DESCRIPTION_MAX, NOTE_MAX = 150, 3000, 2000
ACTION_MAX, ACTIONS_MAX = 150, 20
CHECKBOX_TEXT_MAX = 75  # Slack's limit for an option's text; the rest goes in its description

RISK_ID = re.compile(r"^\s*QR-?0*(\d{1,9})\s*$", re.IGNORECASE)


# --- names -----------------------------------------------------------------------------------------
def label(number: int) -> str:
    """QR-001 for 1; past 999 the number simply grows (QR-1000)."""
    return f"QR-{number:03d}"


def parse_label(text: str | None) -> int | None:
    """1 for "QR-001", "qr-1" or "QR001"; None for anything else."""
    match = RISK_ID.match(text or "")
    return int(match.group(1)) if match else None


def level(value: Any) -> int | None:
    """A probability or impact exactly as the options offer it (1–5); None for anything else."""
    text = str(value).strip() if value is not None else ""
    return int(text) if text in {"1", "2", "3", "4", "5"} else None


# --- bands -----------------------------------------------------------------------------------------
def bands_from(stored: dict[str, Any] | None) -> dict[str, int]:
    """A team's thresholds from its `risk_bands` column (None: the guide's)."""
    stored = stored or {}
    return {name: int(stored.get(name, default)) for name, default in DEFAULT_BANDS.items()}


def band_of(score: int, bands: dict[str, int] | None = None) -> str:
    bands = bands or DEFAULT_BANDS
    for name in ("critical", "high", "medium"):
        if score >= bands[name]:
            return name
    return "low"


def band_counts(score_counts: dict[int, int], bands: dict[str, int] | None = None) -> dict[str, int]:
    """{band: how many} from storage.risks.open_score_counts; every band is present."""
    counts = dict.fromkeys(BANDS, 0)
    for score, count in score_counts.items():
        counts[band_of(score, bands)] += count
    return counts


def band_ranges(bands: dict[str, int]) -> list[tuple[str, int, int]]:
    """[("low", 1, 4), ("medium", 5, 9), ...]: the thresholds as people read them."""
    starts = [1, bands["medium"], bands["high"], bands["critical"], 26]
    return [(name, starts[i], starts[i + 1] - 1) for i, name in enumerate(BANDS)]


def parse_bands(values: dict[str, Any]) -> dict[str, int]:
    """Thresholds as typed into the bands modal, or Invalid naming the wrong field."""
    parsed: dict[str, int] = {}
    problems = Problems()
    for name in DEFAULT_BANDS:
        text = str(values.get(name) or "").strip()
        parsed[name] = int(text) if text.isascii() and text.isdecimal() and len(text) <= 3 else 0
        if not 2 <= parsed[name] <= 25:
            problems.add(name, "risks.bad_threshold")
    if "medium" not in problems and "high" not in problems and parsed["high"] <= parsed["medium"]:
        problems.add("high", "risks.thresholds_out_of_order")
    if "high" not in problems and "critical" not in problems and parsed["critical"] <= parsed["high"]:
        problems.add("critical", "risks.thresholds_out_of_order")
    problems.raise_if_any()
    return parsed


# --- forms -----------------------------------------------------------------------------------------
@dataclass
class RiskForm:
    """What the modal or the quick add says a risk should be, as typed."""

    title: str | None
    probability: Any
    impact: Any
    owner_id: str | None
    category: str | None = "technical"
    description: str | None = ""
    actions: list[str] = field(default_factory=list)
    review_by: date | None = None
    owner_typed: str | None = None  # an @name the quick add got as plain text: nobody Slack knows


def action_lines(text: str | None) -> list[str]:
    """Mitigation actions typed one per line; bullets and checkbox marks ("- [ ] ") are dropped."""
    lines = []
    for line in (text or "").splitlines():
        line = re.sub(r"^\s*(?:[-*•]\s*)?(?:\[[ xX]?\]\s*)?", "", line).strip()
        if line:
            lines.append(line)
    return lines


def review_date(value: str | None) -> date | None:
    """A datepicker's YYYY-MM-DD (None when empty); Invalid when it is anything else."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise Invalid({"review_by": Phrase("risks.bad_date")}) from None


def validate(form: RiskForm, *, owner_is_person: bool, today: date, previous_review_by: date | None = None,
             scored: bool = True) -> None:
    """Raise Invalid naming every wrong field (the risk modal's block_ids)."""
    problems = Problems()
    title = (form.title or "").strip()
    if not title:
        problems.add("title", "risks.title_required")
    elif len(title) > TITLE_MAX:
        problems.add("title", "risks.title_too_long", limit=TITLE_MAX, length=len(title))
    if len(form.description or "") > DESCRIPTION_MAX:
        problems.add("description", "risks.description_too_long", limit=DESCRIPTION_MAX)
    if form.category not in CATEGORIES:
        problems.add("category", "risks.unknown_category")
    if scored:
        check_levels(problems, form.probability, form.impact)
    if not form.owner_id and form.owner_typed:
        problems.add("owner", "risks.unknown_owner", name=form.owner_typed)
    elif not form.owner_id:
        problems.add("owner", "risks.owner_required")
    elif not owner_is_person:
        problems.add("owner", "risks.owner_not_a_person")
    check_actions(problems, form.actions)
    check_review_date(problems, form.review_by, today=today, previous=previous_review_by)
    problems.raise_if_any()


def check_levels(problems: Problems, probability: Any, impact: Any) -> None:
    for name, value in (("probability", probability), ("impact", impact)):
        if level(value) is None:
            problems.add(name, "risks.bad_level", name=name)


def check_actions(problems: Problems, actions: list[str]) -> None:
    if len(actions) > ACTIONS_MAX:
        problems.add("actions", "risks.too_many_actions", limit=ACTIONS_MAX, count=len(actions))
    elif any(len(line) > ACTION_MAX for line in actions):
        problems.add("actions", "risks.action_too_long", limit=ACTION_MAX)


def check_review_date(problems: Problems, review_by: date | None, *, today: date, previous: date | None) -> None:
    """A new review date may not lie in the past; one set earlier may stay as it is."""
    if review_by is not None and review_by < today and review_by != previous:
        problems.add("review_by", "risks.review_in_past")


def check_note(problems: Problems, note: str | None, *, required: bool) -> None:
    note = (note or "").strip()
    if required and not note:
        problems.add("note", "risks.note_required")
    elif len(note) > NOTE_MAX:
        problems.add("note", "risks.note_too_long", limit=NOTE_MAX)


def checkbox_text(text: str) -> tuple[str, str | None]:
    """An action's text split for a checkbox: the first ≤75 characters (at a word break when
    there is one) and the rest for the option's description."""
    if len(text) <= CHECKBOX_TEXT_MAX:
        return text, None
    cut = text.rfind(" ", 0, CHECKBOX_TEXT_MAX)
    cut = cut if cut > CHECKBOX_TEXT_MAX // 2 else CHECKBOX_TEXT_MAX
    return text[:cut].rstrip(), text[cut:].strip() or None


# --- the quick add: /qms risk "Login outage risk" p3 i4 @owner ------------------------------------
QUOTES = {'"': '"', "“": "”", "„": "“", "”": "”", "'": "'", "‘": "’", "«": "»"}
LEVEL_TOKEN = re.compile(r"^([pi])(\d{1,3})$", re.IGNORECASE)
OWNER_TOKEN = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
# Slack turns an @name it knows into <@U…|name>; one it does not know stays plain text.
UNKNOWN_OWNER_TOKEN = re.compile(r"^(@[^\s<>@]+)$")


def parse_quick_add(text: str, *, default_owner: str) -> RiskForm | None:
    """`"Title" p3 i4 [@owner] [technical|process|organizational]` as a form; None when the text
    does not follow that shape (the caller answers with the usage). Levels are kept as typed,
    so that p9 is refused by validation like a forged modal value; so is an @name Slack did not
    turn into a mention (`owner_typed`, no `owner_id`): nobody in the workspace is called that."""
    split = _split_title(text.strip())
    if split is None:
        return None
    title, rest = split
    found: dict[str, str] = {}
    for word in rest:
        if match := LEVEL_TOKEN.match(word):
            key = "probability" if match.group(1).lower() == "p" else "impact"
        elif match := OWNER_TOKEN.match(word) or UNKNOWN_OWNER_TOKEN.match(word):
            key = "owner"
        elif word.lower() in CATEGORIES:
            key, match = "category", None
        else:
            return None
        if key in found:
            return None
        found[key] = word.lower() if key == "category" else match.group(1 if key == "owner" else 2)
    if "probability" not in found or "impact" not in found:
        return None  # an empty title is a validation problem, answered as the modal would
    owner = found.get("owner", default_owner)
    unknown = owner if owner.startswith("@") else None  # validation says who is unknown
    return RiskForm(title=title, probability=found["probability"], impact=found["impact"],
                    owner_id=None if unknown else owner, owner_typed=unknown,
                    category=found.get("category", "technical"))


def _split_title(text: str) -> tuple[str, list[str]] | None:
    """(title, the words after it). A quoted title may hold anything; an unquoted one ends at
    the first p/i/owner word."""
    if text[:1] in QUOTES:
        closing = {QUOTES[text[0]], '"', "”", "'", "’"}
        end = next((i for i in range(1, len(text)) if text[i] in closing), None)
        if end is None:
            return None
        return text[1:end].strip(), text[end + 1:].split()
    words = text.split()
    first_token = next((i for i, w in enumerate(words)
                        if LEVEL_TOKEN.match(w) or OWNER_TOKEN.match(w) or UNKNOWN_OWNER_TOKEN.match(w)),
                       len(words))
    return " ".join(words[:first_token]), words[first_token:]

