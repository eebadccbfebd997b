"""How the domain says no, without knowing any wording.

A `Refusal` is a clear answer to the person who asked ("only the owner may close QR-004"); an
`Invalid` names the fields of a form that are wrong. Both carry phrase keys: the wording lives
in `templates/<domain>/phrases.j2` and handlers render it. Nothing is changed when either is raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Phrase:
    key: str  # "risks.title_required" → macro title_required in templates/risks/phrases.j2
    params: dict[str, Any] = field(default_factory=dict)


class Refusal(Exception):
    def __init__(self, key: str, **params: Any):
        super().__init__(key)
        self.phrase = Phrase(key, params)


class Invalid(Exception):
    """Form fields that are wrong, by the block_id of their input."""

    def __init__(self, problems: dict[str, Phrase]):
        super().__init__(", ".join(f"{name}: {p.key}" for name, p in problems.items()))
        self.problems = problems


class Problems:
    """Collects field problems while validating, then raises them together."""

    def __init__(self) -> None:
        self._problems: dict[str, Phrase] = {}

    def add(self, field_name: str, key: str, **params: Any) -> None:
        self._problems.setdefault(field_name, Phrase(key, params))

    def __contains__(self, field_name: str) -> bool:
        return field_name in self._problems

    def raise_if_any(self) -> None:
        if self._problems:
            raise Invalid(dict(self._problems))
