"""The layering docs/CONTRIBUTING.md describes holds for the code: no import circles, imports that
point downward, a domain that knows no Slack (tests/check_layers.py, which also runs on its own:
`python -m tests.check_layers`)."""

from pathlib import Path

from tests import check_layers


def test_the_project_has_no_import_circles_no_upward_imports_and_a_domain_without_slack():
    assert check_layers.findings() == []


def write(root: Path, module: str, source: str) -> None:
    path = root / (module.replace(".", "/") + ".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in path.relative_to(root).parents:
        if parent != Path(".") and not (root / parent / "__init__.py").exists():
            (root / parent / "__init__.py").write_text("")
    path.write_text(source)


def test_the_check_finds_a_circle_even_through_an_import_inside_a_function(tmp_path):
    write(tmp_path, "bot.risks.service", "from bot.risks import rules\n")
    write(tmp_path, "bot.risks.rules", "def f():\n    from bot.risks import service\n")
    assert check_layers.findings(tmp_path) == ["import circle: bot.risks.rules → bot.risks.service → bot.risks.rules"]


def test_the_check_finds_a_domain_that_imports_slack_or_a_handler_or_a_domain_it_does_not_build_on(tmp_path):
    write(tmp_path, "handlers.risks", "")
    write(tmp_path, "bot.reviews.service", "")
    write(tmp_path, "bot.teams.service", "import slack_sdk\nfrom handlers import risks\nfrom bot.reviews import service\n")
    found = check_layers.findings(tmp_path)
    assert any("bot.teams.service imports slack_sdk" in line for line in found)
    assert any("bot/ may not import handlers/" in line for line in found)
    assert any("bot/teams/ does not build on bot/reviews/" in line for line in found)


def test_the_check_finds_a_package_init_that_closes_a_circle(tmp_path):
    """Importing handlers.home.tab runs handlers/home/__init__.py first: that is an edge too."""
    write(tmp_path, "handlers.home.__init__", "from handlers.home import tab\n")
    write(tmp_path, "handlers.home.tab", "from handlers.metrics import checks\n")
    write(tmp_path, "handlers.metrics.checks", "from handlers.home import publish\n")
    write(tmp_path, "handlers.home.publish", "")
    assert any(line.startswith("import circle:") and "handlers.home" in line
               for line in check_layers.findings(tmp_path))
