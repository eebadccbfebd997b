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


@pytest.mark.parametrize("typed, meant, usage", [("rsik", "risk", "`/qms risk list`"),
                                                 ("reveiw list", "review", "`/qms review list`"),
                                                 ("Incidnet", "incident", "`/qms incident help`"),
                                                 ("metric week", "metrics", "`/qms metrics [day|week|month]`"),
                                                 ("hlep", "help", "`/qms help` lists everything")])
def test_a_typo_is_answered_with_did_you_mean_and_the_one_usage_line(bot, typed, meant, usage):
    reply = bot.command(typed)

    assert reply.json["response_type"] == "ephemeral"
    assert f"Did you mean `/qms {meant}`?" in reply.text
    assert usage in reply.text
    assert "blocks" not in reply.json and "/qms setup" not in reply.text.replace(f"/qms {meant}", "")


def test_an_unknown_word_is_escaped_not_interpreted_as_slack_markup(bot):
    reply = bot.command("<!channel>")

    assert "<!channel>" not in reply.text
    assert "&lt;!channel&gt;" in reply.text


def test_help_is_answered_in_the_ack_without_calling_slack(bot, slack):
    slack.reset_calls()

    bot.command("help")

    assert [c.method for c in slack.calls] == []


def test_a_two_word_subcommand_goes_to_its_own_handler_and_one_word_to_the_general_one():
    from handlers.core.commands import Subcommands

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


# --- which team a command typed outside a team's channel is for ----------------------------------------------------
from tests.harness.teams import make_team  # noqa: E402


def two_teams(bot):
    make_team(bot.db, "Payments", channel="payments", leads=("alice",), managers=("bob",))
    make_team(bot.db, "Platform", channel="platform", leads=("dave",), managers=("eve",), executives=())


def picker_buttons(message):
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_outside_any_teams_channel_a_person_in_one_team_gets_their_team(bot):
    two_teams(bot)

    reply = bot.command("risk list", channel="general", user="dave")  # dave is Platform's lead only

    assert "Open risks of Platform" in reply.text


def test_someone_in_no_team_picks_one_and_the_command_runs_for_it(bot, slack):
    two_teams(bot)

    reply = bot.command("risk list", channel="general", user="grace")

    assert "Which team is this for?" in reply.text
    buttons = picker_buttons(reply.json)
    assert [b["text"]["text"] for b in buttons] == ["Payments", "Platform"]
    platform = next(b for b in buttons if b["text"]["text"] == "Platform")

    bot.press("qms_pick_team", value=platform["value"], user="grace", channel="general")

    answer = bot.responses()[-1]
    assert "Platform" in str(answer) and answer["response_type"] == "ephemeral"


def test_a_picked_team_opens_a_modal_with_the_buttons_trigger(bot, slack):
    two_teams(bot)
    bot.command("incident", channel="general", user="grace")  # acks at once, then asks which team
    platform = next(b for b in picker_buttons(bot.responses()[-1]) if b["text"]["text"] == "Platform")

    bot.press("qms_pick_team", value=platform["value"], user="grace", channel="general")

    assert bot.last_view()["callback_id"].startswith("incident")


def test_a_forged_team_pick_is_a_400(bot):
    two_teams(bot)

    assert bot.press("qms_pick_team", value="not json", user="grace").status == 400
    assert bot.press("qms_pick_team", value='{"team": "1", "text": 5}', user="grace").status == 400


def test_text_slack_escaped_is_read_as_typed_and_shown_escaped_once(bot, slack):
    make_team(bot.db)

    reply = bot.command('risk "R&amp;D &lt;launch&gt; risk" p2 i2', channel="payments")  # as Slack sends "R&D <launch>"

    assert reply.status == 200
    card = slack.posted("CPAYMENTS")[0]
    assert card["blocks"][0]["text"] == {"type": "plain_text", "text": "QR-001 · R&D <launch> risk", "emoji": True}
    assert "&amp;amp;" not in str(card)  # mrkdwn escapes it once, never twice
