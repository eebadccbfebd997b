"""`/qms setup` creates and edits the team of the current channel, through a modal."""

import threading

import pytest
from slack_sdk import WebClient
from sqlmodel import select

from app.local_slack import LocalSlack
from handlers.teams.setup import look_up
from storage import teams as team_store
from storage.audit import AuditEvent
from tests.harness.bot import BOT_TOKEN, blocks_text
from tests.harness.databases import count_rows
from tests.harness.teams import make_team

LABELS = ["Team name", "Home channel", "Team leads", "Engineering managers", "Technical leads", "Project managers",
          "QA leads", "Executives", "Timezone", "Digest channel"]


def labels(view):
    return [block["label"]["text"] for block in view["blocks"] if block["type"] == "input"]


def setup_values(**overrides):
    values = {"name": "Payments", "home_channel": "payments", "team_leads": ["alice"], "engineering_managers": ["bob"],
              "technical_leads": [], "project_managers": [], "qa_leads": [], "executives": ["carol"],
              "timezone": "Europe/Berlin", "digest_channel": "digest",
              "work_days": ["mon", "tue", "wed", "thu", "fri"], "work_hours": "09:00-17:00"}
    return {**values, **overrides}


def test_setup_opens_a_modal_whose_labels_say_what_they_are(bot):
    reply = bot.command("setup", channel="payments")

    assert reply.status == 200
    view = bot.last_view()
    assert view["title"]["text"] == "Team setup"
    for label in LABELS:
        assert label in labels(view)


def test_a_team_set_up_through_the_modal_can_be_read_back(bot, slack):
    bot.command("setup", channel="payments")

    reply = bot.submit(bot.last_view(), setup_values())

    assert reply.status == 200 and reply.body == ""
    with bot.db.transaction() as session:
        team = team_store.team_by_channel(session, "T0TEST", "CPAYMENTS")
        assert (team.name, team.timezone, team.digest_channel_id) == ("Payments", "Europe/Berlin", "CDIGEST")
        assert team_store.roles(session, team) == {"engineering_manager": ["UBOB"], "executive": ["UCAROL"],
                                                   "team_lead": ["UALICE"]}
    confirmation = slack.calls_to("chat.postEphemeral")[-1].args
    assert confirmation["user"] == "UALICE" and "Payments* is set up" in str(confirmation["blocks"])
    assert count_rows(bot.db, AuditEvent) == 1

    bot.command("setup", channel="payments")
    reopened = bot.last_view()
    initial = {b["block_id"]: b["element"] for b in reopened["blocks"] if b["type"] == "input"}
    assert initial["name"]["initial_value"] == "Payments"
    assert initial["timezone"]["initial_value"] == "Europe/Berlin"
    assert initial["team_leads"]["initial_users"] == ["UALICE"]


def test_editing_changes_the_team_and_audits_before_and_after(bot):
    make_team(bot.db, timezone="UTC")
    bot.command("setup", channel="payments", user="bob")  # bob is an engineering manager

    bot.submit(bot.last_view(), setup_values(timezone="America/New_York"), user="bob")

    with bot.db.transaction() as session:
        team = team_store.team_by_channel(session, "T0TEST", "CPAYMENTS")
        events = list(session.exec(select(AuditEvent).order_by(AuditEvent.id)))
    assert team.timezone == "America/New_York"
    assert events[-1].action == "updated"
    assert (events[-1].before["timezone"], events[-1].after["timezone"]) == ("UTC", "America/New_York")


def test_someone_who_may_not_change_the_setup_reads_it_and_is_told_who_may(bot, slack):
    team = make_team(bot.db, timezone="Europe/Berlin", digest="digest", tech_leads=("dave",),
                     work_days=("mon", "tue", "wed", "thu"), work_start="08:30", work_end="16:30")
    with bot.db.transaction() as session:
        stored = team_store.get_team(session, team.workspace_id, team.id)
        stored.incident_channels, stored.digest_time = True, "07:45"
    bot.command("setup escalation SEV1 4 8", channel="payments")
    slack.reset_calls()

    bot.command("setup", channel="payments", user="carol")  # carol is an executive

    assert slack.calls_to("views.open") == []
    shown = bot.responses()[-1]
    assert shown["response_type"] == "ephemeral" and shown["text"] == "Setup of Payments"
    text = blocks_text(shown)
    for expected in ("Team setup · Payments", "*Home channel*\n<#CPAYMENTS>", "*Digest channel*\n<#CDIGEST>",
                     "*Timezone*\nEurope/Berlin", "*Working hours*\nMon, Tue, Wed, Thu 08:30–16:30",
                     "*Digests*\nAt 07:45 the team's time", "*Incident channels*\nA new channel per incident",
                     "*Team leads:* <@UALICE>\n*Engineering managers:* <@UBOB>\n*Technical leads:* <@UDAVE>\n"
                     "*Project managers:* nobody\n*QA leads:* nobody\n*Executives:* <@UCAROL>",
                     "Escalation: SEV1: Level 2 after 4 h, Level 3 after 8 h · others: Level 2 after 24 h",
                     "Only the team leads and engineering managers of Payments, or a workspace admin, may change its "
                     "setup. To change it, ask <@UALICE>, <@UBOB>."):
        assert expected in text


def test_a_refused_submission_changes_nothing(bot):
    make_team(bot.db, timezone="UTC")
    bot.command("setup", channel="payments", user="alice")
    view = bot.last_view()

    reply = bot.submit(view, setup_values(timezone="Asia/Tokyo"), user="carol")

    assert reply.json["response_action"] == "update"
    with bot.db.transaction() as session:
        assert team_store.team_by_channel(session, "T0TEST", "CPAYMENTS").timezone == "UTC"


def test_invalid_fields_get_inline_errors_and_nothing_is_stored(bot):
    make_team(bot.db, "Platform", channel="platform", leads=("dave",))
    bot.command("setup", channel="payments")

    reply = bot.submit(bot.last_view(), setup_values(timezone="Mars/Base", home_channel="platform",
                                                     team_leads=["alice", "UROBOT"], work_hours="17:00-09:00"))

    assert reply.json["response_action"] == "errors"
    errors = reply.json["errors"]
    assert set(errors) == {"timezone", "home_channel", "team_leads", "work_hours"}
    assert "Mars/Base" in errors["timezone"]
    assert "Platform" in errors["home_channel"]
    with bot.db.transaction() as session:
        assert [t.name for t in team_store.teams(session, "T0TEST")] == ["Platform"]


@pytest.mark.parametrize("hours", ["0٨:00-17:00", "09:00-1７:00", "²9:00-17:00"])
def test_working_hours_in_digits_other_than_ascii_are_an_inline_error_not_a_broken_team(bot, hours):
    bot.command("setup", channel="payments")

    reply = bot.submit(bot.last_view(), setup_values(work_hours=hours))

    assert set(reply.json["errors"]) == {"work_hours"}
    with bot.db.transaction() as session:
        assert team_store.teams(session, "T0TEST") == []


def test_a_team_without_a_team_lead_is_saved_with_a_warning(bot, slack):
    bot.command("setup", channel="payments")

    bot.submit(bot.last_view(), setup_values(team_leads=[], engineering_managers=["alice"]))

    assert "has no team lead yet" in str(slack.calls_to("chat.postEphemeral")[-1].args["blocks"])


def test_a_team_may_choose_a_new_channel_per_incident_and_sees_the_choice_when_it_reopens_setup(bot, slack):
    bot.command("setup", channel="payments")
    view = bot.last_view()
    choice = next(b for b in view["blocks"] if b.get("block_id") == "incident_channels")
    assert choice["label"]["text"] == "Incident channels"
    assert choice["element"]["initial_option"]["value"] == "off"

    bot.submit(view, setup_values(incident_channels="on"))

    with bot.db.transaction() as session:
        assert team_store.team_by_channel(session, "T0TEST", "CPAYMENTS").incident_channels is True
    assert "A new channel opens for each incident." in str(slack.calls_to("chat.postEphemeral")[-1].args["blocks"])
    bot.command("setup", channel="payments")
    reopened = next(b for b in bot.last_view()["blocks"] if b.get("block_id") == "incident_channels")
    assert reopened["element"]["initial_option"]["value"] == "on"


def test_turning_incident_channels_off_again_is_audited(bot):
    make_team(bot.db)
    bot.command("setup", channel="payments")
    bot.submit(bot.last_view(), setup_values(incident_channels="on"))
    bot.command("setup", channel="payments")

    bot.submit(bot.last_view(), setup_values(incident_channels="off"))

    with bot.db.transaction() as session:
        last = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert team_store.team_by_channel(session, "T0TEST", "CPAYMENTS").incident_channels is False
    assert (last.before["incident_channels"], last.after["incident_channels"]) == (True, False)


def test_an_unknown_setup_word_answers_with_the_setup_commands_and_opens_nothing(bot, slack):
    reply = bot.command("setup reviewer", channel="payments")

    assert slack.calls_to("views.open") == []
    assert reply.json["response_type"] == "ephemeral"
    assert "I don't know `/qms setup reviewer`" in reply.json["text"]
    assert "`/qms setup reviewers`" in reply.json["text"] and "`/qms setup targets`" in reply.json["text"]


@pytest.mark.parametrize("text", ["setup help", "setup nonsense", "setup HELP me"])
def test_setup_help_and_an_unknown_setup_word_list_every_registered_setup_command(bot, slack, text):
    reply = bot.command(text, channel="payments")

    assert slack.calls_to("views.open") == []
    listed = reply.json["text"]
    for command in ("setup", "setup reviewers", "setup targets", "setup escalation", "setup digest", "setup token"):
        assert f"\n• `/qms {command}` — " in listed
    assert ("I don't know" in listed) == (text == "setup nonsense")


def test_the_setup_commands_listed_come_from_the_registry():
    from handlers.core.commands import Subcommands
    from handlers.teams.setup import setup_commands

    registry = Subcommands()
    for name in ("setup", "risk", "setup reviewers", "setup wizardry"):
        registry.add(name, lambda command: None)

    assert setup_commands(registry) == ["reviewers", "wizardry"]


def test_two_teams_in_one_workspace_are_each_set_up_from_their_own_channel(bot):
    make_team(bot.db, "Payments", channel="payments", timezone="UTC")
    make_team(bot.db, "Platform", channel="platform", leads=("dave",), managers=(), timezone="UTC")

    bot.command("setup", channel="platform", user="dave")
    view = bot.last_view()
    initial = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert initial["name"]["initial_value"] == "Platform"
    bot.submit(view, setup_values(name="Platform", home_channel="platform", team_leads=["dave"],
                                  engineering_managers=[], timezone="Asia/Tokyo"), user="dave")
    bot.command("setup", channel="payments", user="dave")  # dave leads Platform, not Payments

    with bot.db.transaction() as session:
        zones = {t.name: t.timezone for t in team_store.teams(session, "T0TEST")}
    assert zones == {"Payments": "UTC", "Platform": "Asia/Tokyo"}
    assert "Team setup · Payments" in blocks_text(bot.responses()[-1])  # read-only for dave


def test_a_user_who_is_deactivated_cannot_hold_a_role(bot, slack):
    slack.add_user("UGONE", "gone", deleted=True)
    bot.command("setup", channel="payments")

    reply = bot.submit(bot.last_view(), setup_values(engineering_managers=["bob", "UGONE"]))

    assert reply.json["errors"] == {"engineering_managers": "<@UGONE> is a bot or deactivated: roles are for people."}


def test_saving_the_setup_unchanged_audits_nothing(bot):
    make_team(bot.db, timezone="Europe/Berlin", digest="digest", executives=("carol",))
    events = count_rows(bot.db, AuditEvent)
    bot.command("setup", channel="payments")

    reply = bot.submit(bot.last_view(), setup_values())

    assert reply.status == 200
    assert count_rows(bot.db, AuditEvent) == events


def test_a_setup_modal_whose_team_was_deleted_meanwhile_creates_nothing(bot):
    team = make_team(bot.db)
    bot.command("setup", channel="payments")
    view = bot.last_view()
    with bot.db.transaction() as session:
        session.delete(team_store.get_team(session, "T0TEST", team.id))

    reply = bot.submit(view, setup_values())

    assert reply.json["response_action"] == "update"
    assert "That team no longer exists" in str(reply.json["view"])
    with bot.db.transaction() as session:
        assert team_store.teams(session, "T0TEST") == []


def test_a_setup_modal_with_a_forged_team_id_is_refused_with_400(bot):
    bot.command("setup", channel="payments")
    view = {**bot.last_view(), "private_metadata": '{"team_id": "1 OR 1=1", "channel_id": "CPAYMENTS"}'}

    reply = bot.submit(view, setup_values())

    assert reply.status == 400


def mrkdwn(message) -> list[str]:
    """Every mrkdwn text of a message (plain_text, such as a header, shows "<" as it is)."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("blocks", []))
    return found


def test_a_team_name_with_mrkdwn_control_characters_is_escaped_in_every_answer(bot, slack):
    bot.command("setup", channel="payments")

    bot.submit(bot.last_view(), setup_values(name="Q&A <!channel>", team_leads=[], engineering_managers=["alice"]))

    saved = slack.calls_to("chat.postEphemeral")[-1].args
    assert saved["text"] == "Q&amp;A &lt;!channel&gt; is set up."
    assert "*Q&amp;A &lt;!channel&gt;* is set up" in str(saved["blocks"])
    assert ":warning: Q&amp;A &lt;!channel&gt; has no team lead yet" in str(saved["blocks"])
    assert "<!channel>" not in str(saved)
    bot.command("setup", channel="payments", user="carol")  # the read-only setup
    read_only = bot.responses()[-1]
    assert read_only["text"] == "Setup of Q&amp;A &lt;!channel&gt;"
    assert not any("<!channel>" in text for text in mrkdwn(read_only))
    bot.command("setup reviewers", channel="payments", user="carol")
    matrix = bot.responses()[-1]
    assert matrix["text"] == "Reviewer matrix of Q&amp;A &lt;!channel&gt;"
    assert "engineering managers of Q&amp;A &lt;!channel&gt;, or a workspace admin" in str(matrix["blocks"])
    bot.command("setup targets", channel="payments", user="carol")
    targets = bot.responses()[-1]
    assert targets["text"] == "KPI targets of Q&amp;A &lt;!channel&gt;"
    assert "engineering managers of Q&amp;A &lt;!channel&gt;, or a workspace admin" in str(targets["blocks"])
    bot.command("setup reviewers", channel="payments")
    add = next(e for b in bot.responses()[-1]["blocks"] if b["type"] == "actions" for e in b["elements"]
               if e["action_id"] == "reviewers_add")
    bot.press("reviewers_add", value=add["value"])
    bot.submit(bot.last_view(), {"reviewer": "dave", "tier": "gold", "specializations": ["Security"], "capacity": "3"})
    assert slack.posted("UDAVE")[-1]["text"] == "You are now a reviewer for Q&amp;A &lt;!channel&gt;."


def hints(view) -> dict[str, str]:
    return {b["block_id"]: b["hint"]["text"] for b in view["blocks"] if b["type"] == "input" and "hint" in b}


def test_the_role_hints_show_the_guides_escalation_hours_for_a_new_team(bot):
    bot.command("setup", channel="payments")

    found = hints(bot.last_view())

    assert found["team_leads"] == "Level 1 of the escalation matrix (0–24 h)."
    assert found["engineering_managers"] == "Level 2 of the escalation matrix (24–48 h)."
    assert found["executives"] == "Level 3 of the escalation matrix (48 h+)."


def test_the_role_hints_show_the_teams_own_escalation_hours(bot):
    make_team(bot.db)
    bot.command("setup escalation SEV1 4 8", channel="payments")
    bot.command("setup escalation SEV2 12.5 36", channel="payments")

    bot.command("setup", channel="payments")

    found = hints(bot.last_view())
    assert found["team_leads"] == "Level 1 of the escalation matrix (SEV1 0–4 h · SEV2 0–12.5 h · others 0–24 h)."
    assert found["engineering_managers"] == \
        "Level 2 of the escalation matrix (SEV1 4–8 h · SEV2 12.5–36 h · others 24–48 h)."
    assert found["executives"] == "Level 3 of the escalation matrix (SEV1 8 h+ · SEV2 36 h+ · others 48 h+)."


def contexts(view) -> str:
    return " ".join(e["text"] for b in view["blocks"] if b["type"] == "context" for e in b["elements"])


def test_someone_who_is_not_an_admin_is_told_up_front_to_name_themselves_in_a_new_team(bot):
    bot.command("setup", channel="payments", user="bob")
    for_bob = contexts(bot.last_view())
    bot.command("setup", channel="payments", user="alice")  # a workspace admin
    for_alice = contexts(bot.last_view())

    assert "name yourself among the *Team leads* or *Engineering managers*" in for_bob
    assert "name yourself" not in for_alice


def test_a_new_team_whose_creator_is_not_in_it_gets_an_inline_error_and_the_modal_stays_open(bot):
    bot.command("setup", channel="payments", user="bob")
    view = bot.last_view()

    refused = bot.submit(view, setup_values(team_leads=["alice"], engineering_managers=["carol"]), user="bob")
    accepted = bot.submit(view, setup_values(team_leads=["alice"], engineering_managers=["bob"]), user="bob")

    assert refused.json == {"response_action": "errors", "errors": {
        "team_leads": "Add yourself here or under Engineering managers: only a workspace admin may set up a team "
                      "they do not lead or manage."}}
    assert accepted.status == 200 and accepted.body == ""
    with bot.db.transaction() as session:
        assert [t.name for t in team_store.teams(session, "T0TEST")] == ["Payments"]


def test_the_creator_rule_is_reported_with_the_forms_other_problems(bot):
    bot.command("setup", channel="payments", user="bob")

    reply = bot.submit(bot.last_view(), setup_values(team_leads=[], engineering_managers=[], timezone="Mars/Base"),
                       user="bob")

    assert set(reply.json["errors"]) == {"team_leads", "timezone"}


class SlackThatAnswersUsersInfoOnlyTogether(LocalSlack):
    """users.info answers only once `parties` of them are waiting at the same time: asked one after
    another, the first one gives up (BrokenBarrierError) and the lookup fails."""

    def __init__(self, parties: int):
        super().__init__(team_id="T0TEST")
        self.together = threading.Barrier(parties, timeout=10)

    def handle(self, method, args, token):
        if method == "users.info":
            self.together.wait()
        return super().handle(method, args, token)


def test_the_people_of_a_setup_form_are_looked_up_at_the_same_time_with_the_same_answers():
    names = ("alice", "bob", "carol", "dave", "eve", "frank")
    with SlackThatAnswersUsersInfoOnlyTogether(parties=len(names)) as slack:
        for name in names:
            slack.add_user("U" + name.upper(), name, is_admin=name == "alice", deleted=name == "frank")
        client = WebClient(token=BOT_TOKEN, base_url=slack.api_url)

        found = look_up(client, ["UALICE", "UBOB", "UCAROL", "UALICE", "UDAVE", "UEVE", "UFRANK"])

    assert list(found) == ["UALICE", "UBOB", "UCAROL", "UDAVE", "UEVE", "UFRANK"]
    assert [user for user, person in found.items() if person.is_workspace_admin] == ["UALICE"]
    assert [user for user, person in found.items() if not person.is_person] == ["UFRANK"]
    assert len(slack.calls_to("users.info")) == len(names)  # each person once
