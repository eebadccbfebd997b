"""The README's console example of reminders, run as it reads: its prompts typed into the console, and
every line it shows found in what the console printed, in order. Each person gets one DM per sweep."""

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest

from app.console import TEAM_ID, Console
from bot.core import timeutil
from bot.core.settings import Settings
from tests.harness.teams import add_reviewer, make_team

README = Path(__file__).resolve().parents[2] / "README.md"
PROMPT = re.compile(r"^(\w+)@#([\w-]+)> (.*)$")


def readme_example(marker: str) -> list[str]:
    text = README.read_text()
    block = text.split(f"<!-- example: {marker} -->", 1)[1].split("```", 2)[1]
    return [line for line in block.splitlines()[1:] if line.strip()]


@pytest.fixture
def console(tmp_path):
    settings = Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path}/qms.db"})
    console = Console(settings, user_name="alice", stdin=io.StringIO(), stdout=io.StringIO())
    console.services.db.migrate()
    yield console
    timeutil.shift_clock(timedelta(0))
    console.slack.stop()
    console.services.db.dispose()


def test_the_readmes_reminder_example_runs_as_it_reads(console):
    team = make_team(console.services.db, workspace_id=TEAM_ID)
    for person, tier in (("eve", "gold"), ("frank", "silver"), ("ivy", "bronze")):
        add_reviewer(console.services.db, team, person, tier, ["Backend/API"])
    who, where = "alice", "general"
    expected: list[tuple[int, str]] = []  # (where in the output it may start, the line)
    clock_output = ""
    for line in readme_example("console reminders"):
        if prompt := PROMPT.match(line):
            user, channel, typed = prompt.groups()
            if user != who:
                console.handle(f"as {user}")
                who = user
            if channel != where:
                console.handle(f"in {channel}")
                where = channel
            start = len(console.stdout.getvalue())
            console.handle(typed)
            console.services.wait_idle()
            if typed == "clock":
                clock_output = console.stdout.getvalue()[start:]
            expected.append((start, ""))
        elif line.strip() != "…":
            expected.append((expected[-1][0], line.strip()))

    printed = console.stdout.getvalue()
    position = 0
    for start, line in expected:
        if not line:
            position = max(position, start)
            continue
        found = printed.find(line, position)
        assert found >= 0, f"the README shows {line!r}, the console did not print it there"
        position = found + len(line)
    people = re.findall(r"── DM to @(\w+)", clock_output)
    assert people and len(people) == len(set(people)), people  # at most one message per person per sweep
