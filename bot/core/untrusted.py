"""What we do with text and links that come from people, files and CI: never trusted, always shown
safely. See docs/security.md.

- `excerpt(value)`: a short quote for a terminal or a log line, its control characters escaped, so
  that an error never echoes a whole line of a file someone pointed us at, nor a terminal escape.
- `link_url(value)`: the URL if Slack may show it as a link, else None. Slack writes a link as
  `<url|text>` and splits at the first `|`, so a URL holding `|`, `<` or `>` would let its own tail
  pose as the link's text ("https://evil.example/|https://github.com/acme/pr/1" reads as GitHub).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

EXCERPT_MAX = 32  # characters quoted of something we were given
URL_MAX = 2000  # what a review request keeps (storage.reviews.URL_MAX), and more than any real link needs
LINK_SCHEMES = ("http", "https")
NOT_IN_A_LINK = frozenset("<>|")  # Slack's link syntax; browsers encode them in a real URL


def excerpt(value: Any, limit: int = EXCERPT_MAX) -> str:
    """`value` as text safe to print: unprintable characters escaped (ESC as \\x1b), cut to `limit`
    characters with an ellipsis."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value)[:limit + 1])
    return text if len(text) <= limit else text[:limit - 1] + "…"


def link_url(value: Any) -> str | None:
    """`value` if it is an absolute http(s) URL with a host and nothing Slack's link syntax or a
    terminal would read otherwise (no `<`, `>`, `|`, spaces or control characters); else None."""
    if not isinstance(value, str) or not value or len(value) > URL_MAX:
        return None
    if any(c in NOT_IN_A_LINK or c.isspace() or not c.isprintable() for c in value):
        return None
    try:
        parts = urlsplit(value)
        host, _port = parts.hostname or "", parts.port
    except ValueError:  # an unclosed [ of an IPv6 address, a port that is no number
        return None
    if parts.scheme.lower() not in LINK_SCHEMES or not host:
        return None
    return value
