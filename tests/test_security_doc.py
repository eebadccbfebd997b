"""docs/security.md names the tests that hold each line of the threat model: they must exist."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_test_the_threat_model_names_exists_in_the_file_it_names():
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    named, file = [], None
    for token in re.findall(r"`([^`]+)`", text):  # a test's name follows the file it is in
        path = re.match(r"(tests/[\w/]+\.py)(?:::(\w+))?", token)
        if path:
            file = path.group(1)
            if path.group(2):
                named.append((file, path.group(2)))
        elif re.fullmatch(r"(?:…::)?test_\w+", token):
            named.append((file, token.removeprefix("…::")))

    missing = [(file, name) for file, name in named
               if not re.search(rf"^def {name}\(", (ROOT / file).read_text(encoding="utf-8"), re.M)]
    assert len(named) >= 40
    assert missing == []
