"""A review's link never lies: only http(s) URLs without Slack's link syntax in them are accepted, and
whatever is stored is never shown as a link whose text reads as one place and opens another."""

import re

import pytest
from freezegun import freeze_time
from sqlalchemy import update

from storage.reviews import ReviewRequest
from tests.handlers.reviews.test_clock import tick
from tests.handlers.reviews.test_reviews import file, matrix, nothing_changed_since, press_in_dm, snapshot

LYING = "https://evil.example/|https://github.com/acme/pr/1"  # Slack reads <LYING|CR-001> as a link to GitHub
SHOWN = ("chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "views.publish", "response_url")


def links(node) -> list[tuple[str, str]]:
    """(target, text) of every link a person could follow in a payload: `<target|text>` in its
    texts, and the url of its buttons with their label."""
    found = []
    if isinstance(node, str):
        found += re.findall(r"<([^<>|]+)\|([^<>]*)>", node)
    elif isinstance(node, dict):
        if node.get("type") == "button" and "url" in node:
            found.append((node["url"], node["text"]["text"]))
        for value in node.values():
            found += links(value)
    elif isinstance(node, list):
        for value in node:
            found += links(value)
    return found


@pytest.mark.parametrize("link", [
    LYING,
    "https://evil.example/%7C|CR-001",
    "javascript:alert(1)//https://github.com/acme/pr/1",
    "data:text/html,<script>alert(1)</script>",
])
def test_a_link_with_a_pipe_or_that_is_no_http_url_is_refused_typed_or_in_the_form(bot, link):
    matrix(bot.db)
    before = snapshot(bot.db)

    typed = file(bot, f"{link} backend")
    bot.command("review", user="dave", channel="payments")
    formed = bot.submit(bot.last_view(), {"link": link, "specialization": "Backend/API", "size": "M"}, user="dave")

    assert "is not a link" in typed.json["text"]
    assert formed.json["response_action"] == "errors" and "is not a link" in formed.json["errors"]["link"]
    assert nothing_changed_since(bot.db, before)


def test_a_link_stored_before_it_was_checked_is_never_shown_as_a_link_in_cards_dms_nudges_or_app_home(bot, slack):
    matrix(bot.db)
    with freeze_time("2026-03-02 10:00:00"):  # a Monday
        file(bot)
        with bot.db.transaction() as session:  # as a request filed before `|` was refused
            session.execute(update(ReviewRequest).values(url=LYING))
        seen = len(slack.calls)
        press_in_dm(bot, slack, "eve", "review_accept")  # the card and eve's DM are rendered again
        answers = [bot.command("review list", user="eve", channel="payments").json,
                   bot.command("review CR-001", user="dave", channel="payments").json]
        bot.event({"type": "app_home_opened", "user": "UEVE", "tab": "home"})
    tick(bot, "2026-03-02 12:00:00")  # frank has not accepted: reminded
    tick(bot, "2026-03-02 16:00:00")  # past the 6 h target: stalled, eve reminded and alice told

    shown = [call.args for call in slack.calls[seen:] if call.method in SHOWN] + answers
    assert {call.method for call in slack.calls[seen:]} >= {"chat.update", "chat.postMessage", "views.publish"}
    assert sum("CR-001" in str(payload) for payload in shown) >= 8
    everywhere = links(shown)
    assert not [(target, text) for target, text in everywhere if "evil.example" in target]
    assert not [(target, text) for target, text in everywhere if text.startswith("http") and text != target]
