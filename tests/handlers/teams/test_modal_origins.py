"""A modal opened from a setup message replaces that message when saved, through the response_url
Slack gave the button press, kept on our side: whatever URL or channel a submission's
private_metadata names, the bot never calls it (issue 19: a forged "Away" modal made it POST the
reviewer matrix to an internal address)."""

import json

import pytest
from freezegun import freeze_time

from tests.harness.bot import blocks_text
from tests.harness.recorder import Recorder
from tests.harness.teams import add_reviewer, make_team


@pytest.fixture
def recorder():
    with Recorder() as server:
        yield server


def pressed(bot, action_id: str, user: str, *, on: str) -> None:
    """Show `/qms setup <on>` to `user` and press the first `action_id` button of it."""
    bot.command(f"setup {on}", user=user, channel="payments")
    message = bot.responses()[-1]
    [found, *_] = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
                   if e["action_id"] == action_id]
    bot.press(action_id, value=found["value"], user=user)


@freeze_time("2026-01-05 10:00:00")
@pytest.mark.parametrize("on, action_id, user, values, says", [
    ("reviewers", "reviewers_away", "eve", {"away_until": "2026-01-09"}, "<@UEVE> is away up to and including"),
    ("targets", "targets_edit", "alice", {"coverage": "85"}, "1 target is changed"),
], ids=["away", "targets"])
def test_a_url_or_channel_in_a_modals_metadata_is_never_called(bot, slack, recorder, on, action_id, user, values,
                                                               says):
    team = make_team(bot.db)
    add_reviewer(bot.db, team, "eve")
    pressed(bot, action_id, user, on=on)
    view = bot.last_view()
    forged = {**view, "private_metadata": json.dumps({
        **json.loads(view["private_metadata"]), "url": recorder.url + "/internal/admin", "channel": "CGENERAL",
        "response_url": recorder.url + "/internal/admin"})}
    answered = len(bot.responses())

    reply = bot.submit(forged, values, user=user)

    assert reply.status == 200 and reply.body == ""
    assert recorder.requests == []
    assert [c for c in slack.calls_to("chat.postEphemeral") if c.args.get("channel") == "CGENERAL"] == []
    # The change is saved and shown where the button was pressed, through Slack's own response_url.
    assert len(bot.responses()) == answered + 1
    assert says in blocks_text(bot.responses()[-1])
