"""What a review request must say: a link that is a URL, one of the team's specializations, a
size, and optionally what changed and when it is needed by. Plain values in, `Invalid` out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from bot.core.errors import Problems
from storage import reviews as store
from storage.teams import Team


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
    http(s) URL with a host; else None. A URL with `<` or `>` in it is refused: they are never
    part of a real one (browsers encode them), and in Slack they would make `<!channel>` a ping."""
    text = (raw or "").strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].split("|", 1)[0]
    if not text or len(text) > store.URL_MAX or any(c.isspace() or c in "<>" for c in text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme.lower() not in ("http", "https") or not host or not ("." in host or host == "localhost"):
        return None
    return text


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
