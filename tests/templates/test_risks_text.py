"""The fallback `text` of every risks message is a notification: user text in it is escaped like
the blocks are, so a title (or a team name) holding <!here> or <@U…> pings nobody."""

from dataclasses import replace

import pytest

from bot.core import render
from tests.templates.samples_risks import QR_001, RANGES

HOSTILE = "<!here> <!channel> <@UEVIL> & co"
RISK = replace(QR_001, title=HOSTILE, team=HOSTILE, description=HOSTILE)

MESSAGES = {
    "risks/card.json.j2": {"risk": RISK},
    "risks/detail.json.j2": {"risk": RISK, "history": []},
    "risks/logged.json.j2": {"risk": RISK, "channel": "CPAYMENTS"},
    "risks/owner_dm.json.j2": {"risk": RISK, "actor_id": "UALICE"},
    "risks/review_reminder.json.j2": {"risk": RISK},
    "risks/bands_saved.json.j2": {"team": HOSTILE, "ranges": RANGES, "changed": True, "cards": 1},
    "risks/list.json.j2": {"scope": "open", "team": HOSTILE, "rows": [RISK], "total": 1, "page": 1, "pages": 1,
                           "previous": None, "next": None},
    "risks/usage.json.j2": {"unknown": HOSTILE, "team": HOSTILE, "ranges": RANGES},
    "risks/bands.json.j2": {"team": HOSTILE, "ranges": RANGES, "default": True},
}


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_user_text_in_a_messages_fallback_text_is_escaped(name):
    text = render.message(name, **MESSAGES[name])["text"]

    assert "<!" not in text and "<@UEVIL>" not in text
    assert "&lt;!here&gt;" in text


@pytest.mark.parametrize("key, params", [
    ("risks.only_managers_may_change_bands", {"team": HOSTILE}),
    ("risks.only_editors_may", {"action": "edit", "risk": "QR-001", "team": HOSTILE}),
    ("risks.export_sending", {"team": HOSTILE, "count": 2}),
    ("risks.export_empty", {"team": HOSTILE}),
    ("risks.export_comment", {"team": HOSTILE, "count": 2}),
])
def test_a_team_name_in_an_answer_is_escaped(key, params):
    text = render.phrase(key, **params)

    assert "<!" not in text and "&lt;!here&gt;" in text
