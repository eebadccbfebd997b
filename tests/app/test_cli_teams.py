"""`qms-bot team export` and `qms-bot team import` as real processes, the way an org runs them
from a git repository of team files."""

from datetime import date

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
