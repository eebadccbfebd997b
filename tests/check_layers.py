"""The layering rules of docs/CONTRIBUTING.md, checked from the source: `python -m tests.check_layers`.

Reads every import of the project's own files — at the top, inside functions and under
TYPE_CHECKING alike — and reports
- import circles between the project's files;
- imports that point upward (app → handlers → bot → storage: a layer imports only those below it);
- domain packages (bot/<domain>/) that import handlers/, app/, Bolt, Slack's SDK or Flask
  (bot/core/render.py alone may use slack_sdk's Block Kit models, to check what we render);
- a domain that imports one it does not build on (teams, the base, imports no other domain).
Exits 1 and prints each finding when there is any; `make test` runs it (tests/test_layers.py).
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "handlers", "bot", "storage", "templates")
LAYER = {"app": 3, "handlers": 2, "bot": 1, "storage": 0, "templates": 0}
SLACK_AND_WEB = ("slack_bolt", "slack_sdk", "flask")
RENDERING = "bot.core.render"  # checks rendered Block Kit with slack_sdk's own models

# Which bot/ packages each one may import: the domains a package builds on (and bot.core, always).
DOMAINS: dict[str, set[str]] = {
    "core": set(),
    "teams": set(),
    "risks": {"teams"},
    "reviews": {"teams"},
    "incidents": {"teams"},
    "metrics": {"teams"},
    "digests": {"teams", "risks", "reviews", "incidents", "metrics"},
    "pull_requests": {"teams", "reviews", "metrics"},
    "home": {"teams", "risks", "reviews", "incidents", "metrics", "digests"},
    "dashboard": {"teams", "risks", "reviews", "incidents", "metrics", "digests"},
    "teams_as_code": {"teams", "risks", "reviews", "incidents", "metrics", "digests", "pull_requests"},
}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, dotted
    target: str  # what it imports, dotted (a module of ours, or a third-party name)
    line: int


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path) -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            if "versions" not in path.parts:  # migrations' revisions import only Alembic
                found[module_name(path, root)] = path
    return found


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(name, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(name, node, is_package)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.append(Import(name, candidate if candidate in modules else base, node.lineno))
    return found


def _absolute(name: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = name.split(".")
    if not is_package:
        parts.pop()
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def ours(target: str, modules: dict[str, Path]) -> str | None:
    """The module of ours an import names (the longest known prefix), or None for a library."""
    parts = target.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


# The tables and queries of each domain; the rest of storage/ (db, outbox, audit, …) serves every one.
STORED_DOMAINS = {"storage.teams": "teams", "storage.risks": "risks", "storage.reviews": "reviews",
                  "storage.reviews_figures": "reviews", "storage.incidents": "incidents", "storage.metrics": "metrics",
                  "storage.pull_requests": "pull_requests"}


def _packages_run_by(target: str, modules: dict[str, Path]) -> list[str]:
    """Importing a.b.c runs a/__init__.py and a/b/__init__.py before a/b/c.py: each is an edge."""
    parts = target.split(".")
    return [name for name in (".".join(parts[:i]) for i in range(1, len(parts) + 1)) if name in modules]


def domain_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "storage":
        return STORED_DOMAINS.get(module)
    return parts[1] if parts[0] == "bot" and len(parts) > 1 else None


def findings(root: Path = ROOT) -> list[str]:
    modules = project_modules(root)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    problems = []
    for name, path in sorted(modules.items()):
        for imp in imports_of(name, path, modules):
            where = f"{path.relative_to(root)}:{imp.line}"
            target = ours(imp.target, modules)
            top = imp.target.split(".")[0]
            if target is None:
                if domain_of(name) and top in SLACK_AND_WEB and not (
                        name == RENDERING and imp.target.startswith("slack_sdk.models")):
                    problems.append(f"{where}: {name} imports {imp.target}: the domain knows no Slack or web")
                continue
            graph[name] |= {package for package in _packages_run_by(target, modules)
                            if package != name and not name.startswith(package + ".")}
            problems += _layer_problems(name, target, where)
    problems += [f"import circle: {' → '.join(cycle + cycle[:1])}" for cycle in circles(graph)]
    return problems


def _layer_problems(source: str, target: str, where: str) -> list[str]:
    upper, lower = source.split(".")[0], target.split(".")[0]
    if upper in LAYER and lower in LAYER and LAYER[lower] > LAYER[upper]:
        return [f"{where}: {source} imports {target}: {upper}/ may not import {lower}/ (imports point downward)"]
    mine, theirs = domain_of(source), domain_of(target)
    if upper == "bot" and mine and theirs and mine != theirs and theirs != "core":
        allowed = DOMAINS.get(mine)
        if allowed is None:
            return [f"{where}: bot/{mine}/ is not in tests/check_layers.py's DOMAINS: say what it builds on"]
        if theirs not in allowed:
            return [f"{where}: {source} imports {target}: bot/{mine}/ does not build on bot/{theirs}/"]
    return []


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each as one cycle's members."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def main() -> int:
    problems = findings()
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s) in the layering of {', '.join(p + '/' for p in PACKAGES)}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
