"""Team files as YAML: read with the line of every key, type-checked, each problem kept with its
line, so that `qms-bot team import` can name every wrong line at once (see bot/teams_as_code/service.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable

import yaml

from bot.core.errors import Phrase
from bot.teams import CLOCK_TIME

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One wrong line of a file, and what is wrong with it."""

    line: int
    where: str  # "reviewers[2].capacity"
    phrase: Phrase


class ConfigError(Exception):
    """The file is wrong; nothing was changed. `problems` are in line order."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: p.line)
        super().__init__(f"{len(self.problems)} problems")


class Checker:
    """Type checks of the file's values; each problem is kept with the line it is on."""

    def __init__(self, lines: "Lines"):
        self.lines = lines
        self.problems: list[Problem] = []

    def problem(self, path: Path, phrase_key: str, **params: Any) -> None:
        self.problems.append(self.lines.problem(path, Phrase(phrase_key, params)))

    def keys(self, data: dict, path: Path, known: Iterable[str]) -> None:
        for key in data:
            if key not in known:
                self.problem(path + (str(key),), "teams.config_unknown_key", name=key, known=list(known))

    def mapping(self, data: dict, path: Path, known: Iterable[str] | None = None) -> dict | None:
        value = data.get(path[-1])
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problem(path, "teams.config_expected", kind="mapping")
            return None
        if known is not None:
            self.keys(value, path, known)
        return value

    def text(self, data: dict, path: Path, *, required: bool = False) -> str | None:
        value = data.get(path[-1])
        if value is None or value == "":
            if required:
                self.problem(path, "teams.config_missing", name=where(path))
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.problem(path, "teams.config_expected", kind="text")
            return None
        return str(value)

    def identifier(self, data: dict, path: Path, pattern: re.Pattern, phrase: str, *,
                   required: bool = False) -> str | None:
        value = self.text(data, path, required=required)
        if value is not None and not pattern.match(value):
            self.problem(path, phrase, value=value)
            return None
        return value

    def strings(self, data: dict, path: Path) -> list[str]:
        value = data.get(path[-1])
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                                  for v in value):
            self.problem(path, "teams.config_expected", kind="texts")
            return []
        return [str(v) for v in value]

    def identifiers(self, data: dict, path: Path, pattern: re.Pattern, phrase: str) -> list[str]:
        values = self.strings(data, path)
        wrong = [v for v in values if not pattern.match(v)]
        if wrong:
            self.problem(path, phrase, value=wrong[0])
        return [v for v in values if pattern.match(v)]

    def flag(self, data: dict, path: Path) -> bool:
        value = data.get(path[-1], False)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.problem(path, "teams.config_expected", kind="flag")
            return False
        return value

    def day(self, data: dict, path: Path) -> date | None:
        value = data.get(path[-1])
        if value is None or isinstance(value, date) and not isinstance(value, datetime):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.problem(path, "teams.config_expected", kind="date")
            return None


class Dumper(yaml.SafeDumper):
    """Clock times in quotes ('09:00' like '17:00'), so that every YAML reader keeps them as text."""


Dumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style="'" if CLOCK_TIME.match(value) else None))


# --- YAML with line numbers --------------------------------------------------------------------------
class _Loader(yaml.SafeLoader):
    """YAML as people write it: 17:00 stays a clock time (YAML 1.1 would read it as the number 1020)."""


_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag not in (_INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver(_INT, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_Loader.add_implicit_resolver(_FLOAT, re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
                              list("-+0123456789."))


def _decimal(loader: _Loader, node: yaml.ScalarNode) -> int:
    """Integers are decimal as people write them: 08 is eight, not a broken octal number."""
    value = loader.construct_scalar(node)
    try:
        return int(value.replace("_", ""), 10)
    except ValueError:
        raise yaml.constructor.ConstructorError(None, None, f"{value!r} is not a whole number",
                                                node.start_mark) from None


_Loader.add_constructor(_INT, _decimal)


def load(text: str) -> tuple[yaml.Node | None, Any]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        # Where the unclosed bracket or quote began says more than where the parser gave up.
        mark = error.context_mark or error.problem_mark
        line = mark.line + 1 if mark else 1
        problem = ", ".join(part for part in (error.context, error.problem) if part) or str(error)
        raise ConfigError([Problem(line, "", Phrase("teams.config_not_yaml", {"problem": problem}))]) from None
    except yaml.YAMLError as error:
        raise ConfigError([Problem(1, "", Phrase("teams.config_not_yaml", {"problem": str(error)}))])
    finally:
        loader.dispose()
    return node, data


class Lines:
    """The line of every key and list item in a YAML document, by path: ("reviewers", 2, "capacity")."""

    def __init__(self, root: yaml.Node | None):
        self._lines: dict[Path, int] = {(): 1}
        self.problems: list[Problem] = []
        if root is not None:
            self._index(root, ())

    def _index(self, node: yaml.Node, path: Path) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = key_node.value
                child = path + (key,)
                if key in seen:
                    self.problems.append(Problem(key_node.start_mark.line + 1, where(child),
                                                 Phrase("teams.config_repeated_key", {"name": key})))
                    continue
                seen.add(key)
                self._lines[child] = key_node.start_mark.line + 1
                self._index(value_node, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._lines[path + (index,)] = item.start_mark.line + 1
                self._index(item, path + (index,))

    def line(self, path: Path) -> int:
        """The line of `path`, or of its nearest ancestor in the file (a missing key: its section's)."""
        while path not in self._lines:
            path = path[:-1]
        return self._lines[path]

    def problem(self, path: Path, phrase: Phrase) -> Problem:
        return Problem(self.line(path), where(path), phrase)


def where(path: Path) -> str:
    """("reviewers", 2, "capacity") → "reviewers[2].capacity"."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text
