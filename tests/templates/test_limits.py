"""Every template, rendered with realistic and extreme data, stays inside Slack's Block Kit limits."""

import pytest

from bot.core import render
from tests.templates.samples import collect

SAMPLES = collect()

LIMITS = {"message_blocks": 50, "view_blocks": 100, "section_text": 3000, "header_text": 150,
          "button_text": 75, "option_text": 75, "modal_title": 24, "private_metadata": 3000}

RENDERABLE = [n for n in render.template_names() if n.endswith(".json.j2")]
CASES = [(name, index) for name, (_, contexts) in SAMPLES.items() for index in range(len(contexts))]


def test_every_template_has_samples():
    assert sorted(RENDERABLE) == sorted(SAMPLES)


@pytest.mark.parametrize("name, index", CASES)
def test_template_renders_within_slacks_limits(name, index):
    kind, contexts = SAMPLES[name]

    payload = (render.view if kind == "view" else render.message)(name, **contexts[index])

    blocks = payload["blocks"]
    assert 0 < len(blocks) <= LIMITS["view_blocks" if kind == "view" else "message_blocks"]
    if kind == "view" and payload["type"] == "modal":
        assert len(payload["title"]["text"]) <= LIMITS["modal_title"]
        assert len(payload.get("private_metadata", "")) <= LIMITS["private_metadata"]
    for block in blocks:
        check_block(block)


def check_block(block):
    if block["type"] == "section":
        if "text" in block:
            assert len(block["text"]["text"]) <= LIMITS["section_text"]
        for item in block.get("fields", []):
            assert len(item["text"]) <= 2000
        if "accessory" in block:
            check_element(block["accessory"])
    elif block["type"] == "header":
        assert len(block["text"]["text"]) <= LIMITS["header_text"]
    elif block["type"] == "actions":
        assert len(block["elements"]) <= 25
        for element in block["elements"]:
            check_element(element)
    elif block["type"] == "input":
        check_element(block["element"])


def check_element(element):
    if element["type"] == "button":
        assert len(element["text"]["text"]) <= LIMITS["button_text"]
    for option in element.get("options", []):
        assert len(option["text"]["text"]) <= LIMITS["option_text"]
    assert len(element.get("options", [])) <= 100


@pytest.mark.parametrize("template", [n for n in render.template_names() if n.endswith("phrases.j2")])
def test_every_phrase_renders_to_a_sentence(template):
    module = render.environment().get_template(template).module
    macros = [name for name in dir(module) if not name.startswith("_")]

    for name in macros:
        macro = getattr(module, name)
        text = str(macro(**{arg: "X" for arg in macro.arguments})).strip()
        assert text and len(text) <= 2000, f"{template}:{name}"


def test_a_template_that_breaks_a_limit_is_caught_before_slack_sees_it(tmp_path, monkeypatch):
    import jinja2

    bad = tmp_path / "bad.json.j2"
    bad.write_text('{"type": "modal", "title": {"type": "plain_text", "text": "A title far longer than 24"},'
                   ' "blocks": [{"type": "divider"}]}')
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(tmp_path))
    monkeypatch.setattr(render, "environment", lambda: env)

    with pytest.raises(render.TemplateLimitError):
        render.view("bad.json.j2")


@pytest.mark.parametrize("seconds, down, nearest", [
    (59, "0 min", "1 min"), (45 * 60, "45 min", "45 min"), (3599, "59 min", "1 h"), (5400, "1.5 h", "1.5 h"),
    (3 * 3600, "3 h", "3 h"), (23 * 3600 + 59 * 60, "23.9 h", "1 d"), (26 * 3600, "1 d 2 h", "1 d 2 h"),
    (-1800, "−30 min", "−30 min"), (None, "—", "—"),
])
def test_durations_read_the_same_everywhere(seconds, down, nearest):
    assert render.duration(seconds) == down
    assert render.duration(seconds, nearest=True) == nearest
