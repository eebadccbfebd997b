"""`/qms risk matrix`: the team's open risks as a heat-map PNG, uploaded where the command was typed."""

from __future__ import annotations

import io

from PIL import Image

from tests.harness.metrics import close_risk, log_risk
from tests.harness.teams import make_team


def test_the_heat_map_is_posted_as_an_image_in_the_channel(bot, slack):
    team = make_team(bot.db)
    log_risk(bot.db, team, "Card vault", 5, 4, owner="UALICE", now="2026-03-02 10:00")
    log_risk(bot.db, team, "Flaky deploys", 2, 3, owner="UBOB", now="2026-03-02 10:00")
    closed = log_risk(bot.db, team, "Old vendor", 1, 1, owner="UBOB", now="2026-03-02 10:00")
    close_risk(bot.db, team, closed, now="2026-03-03 10:00")

    reply = bot.command("risk matrix", user="carol", channel="payments")

    assert "Posting the risk heat map of Payments (2 open risks)" in reply.json["text"]
    upload = slack.calls_to("files.completeUploadExternal")[-1]
    assert upload.args["channel_id"] == "CPAYMENTS"
    stored = slack.files[upload.args["files"][0]["id"]]
    assert stored["name"].startswith("risk-heat-map-") and stored["name"].endswith(".png")
    picture = Image.open(io.BytesIO(stored["data"]))
    assert picture.format == "PNG" and picture.size[0] >= 600
