"""Team files as YAML: read with the line of every key, type-checked, each problem kept with its
line, so that `qms-bot team import` can name every wrong line at once (see bot/teams_as_code/service.py).

A team file may come from anywhere, so reading one is bounded before anything is built from it: at
most FILE_MAX bytes, DEPTH_MAX levels and NODES_MAX values, and no anchors or aliases (a team file
needs none, and nine levels of nine aliases grow to gigabytes). What a problem quotes of the file is
a short excerpt with its control characters escaped (`excerpt`), never a whole line of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable

import yaml

from bot.core.errors import Phrase
from bot.core.untrusted import excerpt
from bot.teams import CLOCK_TIME

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One wrong line of a file, and what is wrong with it."""

    line: int
    where: str  # "reviewers[2].capacity"
    phrase: Phrase

    def __post_init__(self) -> None:
        # Whatever a problem quotes of the file is cut short and escaped, wherever it was made.
        object.__setattr__(self, "where", excerpt(self.where, WHERE_MAX))
        object.__setattr__(self, "phrase", Phrase(self.phrase.key, {
            name: _quoted(value) for name, value in self.phrase.params.items()}))


class ConfigError(Exception):
    """The file is wrong; nothing was changed. `problems` are in line order."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: p.line)
        super().__init__(f"{len(self.problems)} problems")


class Unreadable(ConfigError):
    """The file cannot be read as a team file at all (too large, not YAML, aliases, no team keys):
    one problem, said in one line."""

    def __init__(self, line: int, key: str, **params: Any):
        super().__init__([Problem(line, "", Phrase(key, params))])

    @property
    def problem(self) -> Problem:
        return self.problems[0]


FILE_MAX = 1_000_000  # bytes: an exported team of a thousand reviewers is about 150 kB
DEPTH_MAX = 10  # levels of nesting: a team file has four (reviewers[0].specializations[0])
NODES_MAX = 20_000  # values, keys included: an exported team of a thousand reviewers has about 13,000
WHERE_MAX = 48  # a path of the file's keys: the longest a team file has is 29


def _quoted(value: Any) -> Any:
    """A phrase parameter as a problem may show it: texts as excerpts, lists of them shortened."""
    if isinstance(value, str):
        return excerpt(value)
    if isinstance(value, (list, tuple)):
        return [_quoted(item) for item in value[:20]]
    return value


def _too_large(data: bytes) -> Unreadable:
    """A file over FILE_MAX, named by the line that crosses the limit."""
    return Unreadable(data.count(b"\n", 0, FILE_MAX) + 1, "teams.config_too_large", limit=FILE_MAX)


def decode(data: bytes) -> str:
    """A team file's bytes as text: at most FILE_MAX bytes of UTF-8, else Unreadable."""
    if len(data) > FILE_MAX:
        raise _too_large(data)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Unreadable(data.count(b"\n", 0, error.start) + 1, "teams.config_not_utf8") from None


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
_INT, _FLOAT, _MERGE = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:merge"


class _Refused(Exception):
    def __init__(self, mark: yaml.Mark, key: str, **params: Any):
        super().__init__(key)
        self.line, self.key, self.params = mark.line + 1, key, params


class _Loader(yaml.SafeLoader):
    """YAML as people write it: 17:00 stays a clock time (YAML 1.1 would read it as the number 1020).

    Bounded as it reads: each event is looked at before a node is built from it, so an alias, an
    anchor, the eleventh level of nesting or the 50,001st value stops the reading right there."""

    def __init__(self, text: str):
        super().__init__(text)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None \
                or getattr(event, "tag", None) == _MERGE:
            raise _Refused(event.start_mark, "teams.config_no_aliases")
        self._nodes += 1
        if self._nodes > NODES_MAX:
            raise _Refused(event.start_mark, "teams.config_too_many_values", limit=NODES_MAX)
        nests = isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent))
        if nests:
            self._depth += 1
            if self._depth > DEPTH_MAX:
                raise _Refused(event.start_mark, "teams.config_too_deep", limit=DEPTH_MAX)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= nests


# `<<` is a key like any other here: a merge key is what aliases are for, and a team file has none.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag not in (_INT, _FLOAT, _MERGE)]
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
    """The document's node tree and its data, or Unreadable naming the line that stopped it."""
    if len(text) > FILE_MAX or len(text.encode("utf-8", "surrogatepass")) > FILE_MAX:
        raise _too_large(text.encode("utf-8", "surrogatepass"))
    loader = None
    try:
        loader = _Loader(text)  # the reader refuses unprintable characters here already
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except _Refused as refused:
        raise Unreadable(refused.line, refused.key, **refused.params) from None
    except yaml.MarkedYAMLError as error:
        # Where the unclosed bracket or quote began says more than where the parser gave up.
        mark = error.context_mark or error.problem_mark
        line = mark.line + 1 if mark else 1
        problem = ", ".join(part for part in (error.context, error.problem) if part) or str(error)
        raise Unreadable(line, "teams.config_not_yaml", problem=problem) from None
    except yaml.reader.ReaderError as error:
        raise Unreadable(text.count("\n", 0, error.position) + 1, "teams.config_not_yaml",
                         problem=f"unprintable character #x{error.character:04x}") from None
    except yaml.YAMLError as error:
        raise Unreadable(1, "teams.config_not_yaml", problem=str(error)) from None
    finally:
        if loader is not None:
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
