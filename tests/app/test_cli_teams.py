"""`qms-bot team export` and `qms-bot team import` as real processes, the way an org runs them
from a git repository of team files."""

from datetime import date

import pytest

from bot import teams
from storage import teams as team_store
from storage.audit import AuditEvent
from tests.harness import processes
from tests.harness.bot import BOT_TOKEN
from tests.harness.databases import count_rows
from tests.harness.teams import SETUP_TIME, add_reviewer, make_team


def database_in(sqlite_template, directory):
    directory.mkdir()
    return sqlite_template.fresh(directory)


def test_a_team_exported_by_the_cli_and_imported_by_the_cli_elsewhere_is_the_same_team(sqlite_template, tmp_path):
    source = database_in(sqlite_template, tmp_path / "source")
    team = make_team(source, timezone="America/New_York", tech_leads=("dave",))
    add_reviewer(source, team, "eve", "gold", ["Security"], capacity=5, away_until=date(2026, 3, 1))
    with source.transaction() as session:
        teams.save_targets(session, team, {"cycle_time_hours": "12"}, actor_id="UALICE", now=SETUP_TIME)
    target = database_in(sqlite_template, tmp_path / "target")

    exported = processes.run("team", "export", "--team", "Payments", cwd=tmp_path,
                             env=processes.environment(DATABASE_URL=source.url))
    (tmp_path / "payments.yaml").write_text(exported.stdout, encoding="utf-8")
    imported = processes.run("team", "import", "payments.yaml", cwd=tmp_path,
                             env=processes.environment(DATABASE_URL=target.url))
    again = processes.run("team", "export", "--team", "Payments", cwd=tmp_path,
                          env=processes.environment(DATABASE_URL=target.url))

    assert exported.returncode == 0, exported.stderr
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout == "qms-bot: created Payments in T0TEST: reviewers 1 added, 0 changed, 0 removed; " \
                              "1 target changed.\n"
    assert again.stdout == exported.stdout
    with target.transaction() as session:
        copy = team_store.team_by_name(session, "T0TEST", "Payments")
        assert copy.timezone == "America/New_York"
        assert team_store.get_reviewer(session, copy, "UEVE").away_until == date(2026, 3, 1)
        assert teams.target_values(session, copy)["cycle_time_hours"] == 12
    source.dispose()
    target.dispose()


def test_a_rejected_import_exits_1_names_each_line_on_stderr_and_changes_nothing(sqlite_template, tmp_path):
    db = database_in(sqlite_template, tmp_path / "db")
    make_team(db)
    events = count_rows(db, AuditEvent)
    (tmp_path / "team.yaml").write_text(
        "workspace: T0TEST\nteam: Payments\nhome_channel: CPAYMENTS\ntimezone: Mars/Base\nroles:\n"
        "  team_leads: [UBOB]\nreviewers:\n- user: UEVE\n  tier: gold\n  specializations: [Security]\n"
        "  capacity: 0\n", encoding="utf-8")

    result = processes.run("team", "import", "team.yaml", cwd=tmp_path,
                           env=processes.environment(DATABASE_URL=db.url))

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        'team.yaml:4: timezone: "Mars/Base" is not a time zone I know. Use an IANA name such as Europe/Berlin or '
        'America/New_York.',
        "team.yaml:11: reviewers[0].capacity: Capacity is how many reviews at once: a whole number from 1 to 20.",
        "qms-bot: nothing was imported: 2 problems above.",
    ]
    with db.transaction() as session:
        team = team_store.team_by_name(session, "T0TEST", "Payments")
        assert team.timezone == "UTC" and team_store.roles(session, team)["team_lead"] == ["UALICE"]
        assert team_store.reviewers(session, team) == []
    assert count_rows(db, AuditEvent) == events
    db.dispose()


def test_with_a_bot_token_the_cli_asks_slack_and_refuses_a_bot_and_warns_of_no_team_lead(slack, sqlite_template,
                                                                                         tmp_path):
    db = database_in(sqlite_template, tmp_path / "db")
    env = processes.environment(DATABASE_URL=db.url, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=slack.api_url)
    (tmp_path / "bot.yaml").write_text("workspace: T0TEST\nteam: Payments\nhome_channel: CPAYMENTS\nroles:\n"
                                       "  engineering_managers: [UBOB, UROBOT]\n", encoding="utf-8")
    (tmp_path / "ok.yaml").write_text("workspace: T0TEST\nteam: Payments\nhome_channel: CPAYMENTS\nroles:\n"
                                      "  engineering_managers: [UBOB]\n", encoding="utf-8")

    refused = processes.run("team", "import", "bot.yaml", cwd=tmp_path, env=env)
    checked = processes.run("team", "import", "--check", "ok.yaml", cwd=tmp_path, env=env)
    imported = processes.run("team", "import", "ok.yaml", cwd=tmp_path, env=env)

    assert refused.returncode == 1
    assert refused.stderr.splitlines()[0] == \
        "bot.yaml:5: roles.engineering_managers: UROBOT is a bot or deactivated: roles are for people."
    assert checked.returncode == 0
    assert checked.stdout == "qms-bot: the file is valid; importing it would create Payments in T0TEST.\n"
    assert imported.returncode == 0
    assert imported.stdout == "qms-bot: created Payments in T0TEST.\n"
    assert imported.stderr == ("qms-bot: warning: Payments has no team lead yet: nobody will be pinged at "
                               "escalation Level 1. Add one with `/qms setup`.\n")
    assert {c.args["user"] for c in slack.calls_to("users.info")} >= {"UBOB", "UROBOT"}
    db.dispose()


def test_export_of_an_unknown_team_says_so_in_one_line(sqlite_template, tmp_path):
    db = database_in(sqlite_template, tmp_path / "db")

    result = processes.run("team", "export", "--team", "Nobody", cwd=tmp_path,
                           env=processes.environment(DATABASE_URL=db.url))

    assert result.returncode == 1
    assert result.stderr == "qms-bot: there is no team called Nobody.\n"
    db.dispose()


# --- hostile files and arguments ---------------------------------------------------------------
TEAM_HEAD = "workspace: T0TEST\nteam: Payments\nhome_channel: CPAYMENTS\n"
# Nine levels of nine aliases: 9⁹ copies of "lol" once expanded (the "billion laughs").
LAUGHS = TEAM_HEAD + "lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"lol{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]\n" for level in range(1, 10))


@pytest.mark.parametrize("text, line, words", [
    (LAUGHS, 4, "anchors and aliases"),
    (TEAM_HEAD + "specializations: &s [Security, *s]\n", 4, "anchors and aliases"),  # refers to itself
    (TEAM_HEAD + "specializations: [" + "a, " * 400_000 + "]\n", 4, "larger than 1 MB"),
], ids=["billion-laughs", "self-reference", "huge"])  # deeper and longer ones: tests/bot/teams_as_code
def test_a_hostile_team_file_is_refused_in_one_line_naming_its_line_within_a_memory_limit(sqlite_template, tmp_path,
                                                                                          text, line, words):
    db = database_in(sqlite_template, tmp_path / "db")
    (tmp_path / "team.yaml").write_text(text, encoding="utf-8")

    result = processes.run("team", "import", "--check", "team.yaml", cwd=tmp_path,
                           env=processes.environment(DATABASE_URL=db.url), memory_mb=512, cpu_seconds=30)

    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stdout == ""
    [said] = result.stderr.splitlines()
    assert said.startswith(f"qms-bot: team.yaml:{line}: ") and words in said, said
    assert said.endswith("Nothing was imported.")
    assert count_rows(db, team_store.Team) == 0
    db.dispose()


def test_a_file_that_is_no_team_file_is_refused_without_quoting_any_of_it(sqlite_template, tmp_path):
    db = database_in(sqlite_template, tmp_path / "db")
    (tmp_path / "shadow").write_text("root:$6$Jq2pX0$SecretHashOfRoot0123456789:20228:0:99999:7:::\n"
                                     "alice:$6$Zz91kQ$SecretHashOfAlice987654321:20228:0:99999:7:::\n", encoding="utf-8")

    result = processes.run("team", "import", "--check", "shadow", cwd=tmp_path,
                           env=processes.environment(DATABASE_URL=db.url))

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "qms-bot: shadow:1: this is not a team file: none of its keys is one a team file has (workspace, team, "
        "home_channel, …, as `qms-bot team export` writes them). Nothing was imported."]
    db.dispose()


def test_what_a_wrong_line_says_of_the_file_is_a_short_excerpt_with_control_characters_escaped(sqlite_template,
                                                                                               tmp_path):
    db = database_in(sqlite_template, tmp_path / "db")
    secret = "Europe/Berlin-" + "s3cr3t" * 40
    (tmp_path / "team.yaml").write_text(
        TEAM_HEAD + f"timezone: {secret}\n\"\\e]0;owned\\a\\e[2J\": 1\nroles:\n  team_leads: [{'U' + 'X' * 300}]\n",
        encoding="utf-8")

    result = processes.run("team", "import", "team.yaml", cwd=tmp_path,
                           env=processes.environment(DATABASE_URL=db.url))

    assert result.returncode == 1
    said = result.stderr.splitlines()
    assert len(said) == 4, said
    assert said[0].startswith("team.yaml:4: timezone: \"Europe/Berlin-s3cr3ts3cr3t")
    assert said[1].startswith("team.yaml:5: \\x1b]0;owned\\x07\\x1b[2J: `\\x1b]0;owned\\x07\\x1b[2J` is not a setting")
    assert said[2].startswith("team.yaml:7: roles.team_leads: \"UXXXXXXX")
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert result.stderr.count("s3cr3t") <= 5 and "X" * 40 not in result.stderr
    assert said[3] == "qms-bot: nothing was imported: 3 problems above."
    db.dispose()


@pytest.mark.parametrize("args, said", [
    (["team", "import", "--workspace", "T0X'; DROP TABLE team; --", "team.yaml"],
     "qms-bot: --workspace: \"T0X'; DROP TABLE team; --\" is not a Slack workspace ID (T… or E…, like T0123ABCD)."),
    (["export", "risks", "--team", "Payments", "-o", "no/such/folder/risks.csv"],
     "qms-bot: cannot write no/such/folder/risks.csv: No such file or directory."),
    (["team", "import", "missing.yaml"],
     "qms-bot: cannot read missing.yaml: No such file or directory. Nothing was imported."),
], ids=["workspace-flag", "output-path", "missing-file"])
def test_a_wrong_argument_is_refused_in_one_line_and_changes_nothing(sqlite_template, tmp_path, args, said):
    db = database_in(sqlite_template, tmp_path / "db")
    make_team(db)
    (tmp_path / "team.yaml").write_text("workspace: T0TEST\nteam: Platform\nhome_channel: CPLATFORM\n"
                                        "roles:\n  team_leads: [UBOB]\n", encoding="utf-8")
    events = count_rows(db, AuditEvent)

    result = processes.run(*args, cwd=tmp_path, env=processes.environment(DATABASE_URL=db.url))

    assert result.returncode == 1
    assert result.stderr.splitlines() == [said]
    assert count_rows(db, team_store.Team) == 1 and count_rows(db, AuditEvent) == events
    db.dispose()
