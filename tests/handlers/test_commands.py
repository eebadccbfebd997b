"""/qms and /qms help explain the bot; an unknown subcommand gets the same usage and the word."""

import pytest

SUBCOMMANDS = ("/qms risk", "/qms review", "/qms incident", "/qms metrics", "/qms setup")


@pytest.mark.parametrize("text", ["", "help", "HELP", "  help  "])
def test_help_lists_what_the_bot_can_do(bot, text):
    reply = bot.command(text)

    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    for subcommand in SUBCOMMANDS:
        assert subcommand in reply.text
    assert "didn't understand" not in reply.text


def test_unknown_subcommand_answers_with_usage_and_the_word_it_did_not_understand(bot):
    reply = bot.command("frobnicate the widgets")

    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert "I didn't understand `frobnicate`" in reply.text
    for subcommand in SUBCOMMANDS:
        assert subcommand in reply.text


def test_an_unknown_word_is_escaped_not_interpreted_as_slack_markup(bot):
    reply = bot.command("<!channel>")

    assert "<!channel>" not in reply.text
    assert "&lt;!channel&gt;" in reply.text


def test_help_is_answered_in_the_ack_without_calling_slack(bot, slack):
    slack.reset_calls()

    bot.command("help")

    assert [c.method for c in slack.calls] == []


def test_a_two_word_subcommand_goes_to_its_own_handler_and_one_word_to_the_general_one():
    from handlers.commands import Subcommands

    table = Subcommands()
    general, token = object(), object()
    table.add("setup", general)
    table.add("setup token", token)

    assert table.match("setup token revoke") == ("setup token", "revoke", token)
    assert table.match("Setup  Token") == ("setup token", "", token)
    assert table.match("setup reviewers add") == ("setup", "reviewers add", general)
    assert table.match("setup") == ("setup", "", general)
    assert table.match("") == ("", "", None)
    assert table.match("risk   QR-001") == ("risk", "QR-001", None)
