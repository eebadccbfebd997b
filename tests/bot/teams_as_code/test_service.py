"""Config as code: a team exported to YAML and imported back is the same team; a wrong file
changes nothing and names each wrong line."""

from datetime import date

import pytest
from sqlmodel import select

from bot import digests, incidents, risks, teams, teams_as_code
from bot.core import render
from bot.core.errors import Refusal
from storage import teams as team_store
from storage.audit import AuditEvent
from tests.conftest import both_databases
from tests.harness.databases import count_rows
from tests.harness.teams import SETUP_TIME, add_reviewer, make_team


def full_team(db, **overrides):
    team = make_team(db, timezone="Europe/Berlin", tech_leads=("dave",), qa_leads=("frank",), digest="digest",
                     work_days=("mon", "tue", "wed", "thu"), work_start="08:30", work_end="16:30", **overrides)
    with db.transaction() as session:
        team = team_store.get_team(session, team.workspace_id, team.id)
        teams.save_specializations(session, team, [*teams.DEFAULT_SPECIALIZATIONS, "Payments compliance"],
                                   actor_id="UALICE", now=SETUP_TIME)
        teams.save_targets(session, team, {"coverage": "85", "review_quality": "8.5"}, actor_id="UALICE",
                           now=SETUP_TIME)
        team.incident_channels = True
        digests.set_digest_time(session, team, "08:30", actor_id="UALICE", workspace_admin=True,
                                        now=SETUP_TIME)
        incidents.save_thresholds(session, team, {"SEV1": "4 / 8", "SEV2": "12.5 / 36"}, actor_id="UALICE",
                                   now=SETUP_TIME)
        risks.set_bands(session, team, {"medium": "4", "high": "8", "critical": "15"}, actor_id="UALICE",
                        now=SETUP_TIME, workspace_admin=True)
    add_reviewer(db, team, "eve", "gold", ["Backend/API", "Payments compliance"], capacity=4,
                 away_until=date(2026, 2, 6))
    add_reviewer(db, team, "ivy", "bronze", ["Database/Performance"], capacity=1)
    return team


def export(db, name="Payments", workspace=None) -> str:
    with db.transaction() as session:
        return teams_as_code.export_team(session, teams_as_code.find_team(session, name, workspace))


def import_(db, text, **options):
    return teams_as_code.import_text(db, text, actor_id="cli:tester", now=SETUP_TIME, **options)


def problems(db, text, **options) -> list[tuple[int, str, str]]:
    with pytest.raises(teams_as_code.ConfigError) as rejected:
        import_(db, text, **options)
    return [(p.line, p.where, render.phrase(p.phrase.key, **p.phrase.params)) for p in rejected.value.problems]


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


# --- the round trip ----------------------------------------------------------------------------
def test_an_exported_team_imported_into_an_empty_database_is_the_same_team(database, sqlite_template, tmp_path):
    full_team(database)
    text = export(database)
    (tmp_path / "elsewhere").mkdir()
    elsewhere = sqlite_template.fresh(tmp_path / "elsewhere")

    result = import_(elsewhere, text)

    assert result.created and (result.team, result.workspace) == ("Payments", "T0TEST")
    assert export(elsewhere) == text
    with elsewhere.transaction() as session:
        team = teams_as_code.find_team(session, "Payments")
        assert team.incident_channels is True and team.work_days == "mon,tue,wed,thu"
        assert team_store.roles(session, team)["qa_lead"] == ["UFRANK"]
        assert teams.target_values(session, team)["review_quality"] == 8.5
        eve = team_store.get_reviewer(session, team, "UEVE")
        assert (eve.tier, eve.capacity, eve.away_until) == ("gold", 4, date(2026, 2, 6))
        assert team.digest_time == "08:30"
        assert incidents.thresholds(team, "SEV1") == incidents.Thresholds(4, 8)
        assert incidents.thresholds(team, "SEV2") == incidents.Thresholds(12.5, 36)
        assert incidents.thresholds(team, "SEV3") == incidents.Thresholds(24, 48)
        assert risks.bands_of(team) == {"medium": 4, "high": 8, "critical": 15}
    elsewhere.dispose()


def test_the_export_carries_the_digest_time_the_escalation_thresholds_and_the_risk_bands(database):
    full_team(database)

    text = export(database)

    assert "incident_channels: true\ndigest_time: '08:30'\nescalation_hours:\n  SEV1: [4, 8]\n  SEV2: [12.5, 36]\n" \
           "  SEV3: [24, 48]\n  SEV4: [24, 48]\nrisk_bands: {medium: 4, high: 8, critical: 15}\n" in text
    assert "escalation_hours are the hours after which an" in text  # the header explains them


@both_databases
def test_an_import_changes_the_digest_time_thresholds_and_bands_through_their_domains_audited(database):
    full_team(database)
    text = (export(database).replace("digest_time: '08:30'", "digest_time: 7:45")
            .replace("  SEV1: [4, 8]\n", "  SEV1: [2, 6]\n")
            .replace("risk_bands: {medium: 4, high: 8, critical: 15}", "risk_bands: {high: 12}"))

    result = import_(database, text)

    assert result.settings == ["digest_time", "escalation_hours", "risk_bands"]
    with database.transaction() as session:
        team = teams_as_code.find_team(session, "Payments")
        assert team.digest_time == "07:45"
        assert incidents.thresholds(team, "SEV1") == incidents.Thresholds(2, 6)
        assert incidents.thresholds(team, "SEV2") == incidents.Thresholds(12.5, 36)
        assert risks.bands_of(team) == {"medium": 5, "high": 12, "critical": 16}  # left out: the guide's
        actions = [e.action for e in session.exec(
            select(AuditEvent).where(AuditEvent.actor_id == "cli:tester").order_by(AuditEvent.id))]
    assert actions == ["digest_time_changed", "escalation_changed", "risk_bands_changed"]
    assert not import_(database, export(database)).changed


def test_a_file_without_them_puts_back_the_guides_digest_time_thresholds_and_bands(database):
    full_team(database)
    text = export(database)
    start = text.index("digest_time:")
    text = text[:start] + text[text.index("roles:"):]

    result = import_(database, text)

    assert result.settings == ["digest_time", "escalation_hours", "risk_bands"]
    with database.transaction() as session:
        team = teams_as_code.find_team(session, "Payments")
        assert (team.digest_time, team.escalation_hours, team.risk_bands) == ("09:00", None, None)


def test_the_export_names_people_and_channels_by_slack_id_and_explains_the_targets(database):
    full_team(database)

    text = export(database)

    assert "workspace: T0TEST\nteam: Payments\nhome_channel: CPAYMENTS\ndigest_channel: CDIGEST\n" in text
    assert "  team_leads: [UALICE]\n" in text and "  technical_leads: [UDAVE]\n" in text
    assert "  start: '08:30'\n  end: '16:30'\n" in text
    assert "- user: UEVE\n  tier: gold\n  specializations: [Backend/API, Payments compliance]\n  capacity: 4\n" \
           "  away_until: 2026-02-06\n" in text
    assert "  coverage: 85  # Code coverage (the guide's target: > 80 %)\n" in text
    assert text.startswith("# QMS Bot team configuration of Payments.")


@both_databases
def test_importing_an_unchanged_export_changes_nothing_and_audits_nothing(database):
    full_team(database)
    text = export(database)
    events = count_rows(database, AuditEvent)

    result = import_(database, text)

    assert not result.changed
    assert render.phrase(result.phrase().key, **result.phrase().params) == \
        "Payments in T0TEST is already as the file says: nothing changed."
    assert count_rows(database, AuditEvent) == events


@both_databases
def test_an_edited_file_changes_the_team_as_it_says_and_audits_each_change_by_the_importer(database):
    full_team(database)
    text = (export(database)
            .replace("timezone: Europe/Berlin", "timezone: Asia/Tokyo")
            .replace("  qa_leads: [UFRANK]", "  qa_leads: [UFRANK, UGRACE]")
            .replace("  capacity: 4\n", "  capacity: 6\n")
            .replace("- user: UIVY\n  tier: bronze\n  specializations: [Database/Performance]\n  capacity: 1\n"
                     "  away_until: null\n",
                     "- user: UHENRY\n  tier: silver\n  specializations: [Security]\n  capacity: 2\n")
            .replace("  coverage: 85", "  coverage: 90"))

    result = import_(database, text)

    assert (result.settings, result.reviewers_added, result.reviewers_changed, result.reviewers_removed,
            result.targets_changed) == (["timezone", "roles"], 1, 1, 1, 1)
    assert render.phrase(result.phrase().key, **result.phrase().params) == (
        "updated Payments in T0TEST: timezone, roles; reviewers 1 added, 1 changed, 1 removed; 1 target changed.")
    assert export(database) == text.replace("capacity: 2\n", "capacity: 2\n  away_until: null\n")
    with database.transaction() as session:
        actions = [(e.entity_type, e.action, e.actor_id) for e in session.exec(
            select(AuditEvent).where(AuditEvent.actor_id == "cli:tester").order_by(AuditEvent.id))]
    assert sorted(actions) == sorted([("team", "updated", "cli:tester"), ("reviewer", "removed", "cli:tester"),
                                      ("reviewer", "updated", "cli:tester"), ("reviewer", "added", "cli:tester"),
                                      ("team", "targets_changed", "cli:tester")])


def test_a_check_says_what_would_change_and_changes_nothing(database):
    full_team(database)
    before = export(database)
    events = count_rows(database, AuditEvent)

    result = import_(database, before.replace("timezone: Europe/Berlin", "timezone: UTC"), check=True)

    assert result.settings == ["timezone"]
    assert render.phrase(result.phrase(check=True).key, **result.phrase(check=True).params) == \
        "the file is valid; importing it would update Payments in T0TEST: timezone."
    assert export(database) == before
    assert count_rows(database, AuditEvent) == events


def test_a_minimal_file_makes_a_team_with_every_default(database):
    result = import_(database, "workspace: T0TEST\nteam: Payments\nhome_channel: CPAYMENTS\n")

    assert result.created and result.no_team_lead
    with database.transaction() as session:
        team = teams_as_code.find_team(session, "Payments")
        assert (team.timezone, team.work_days, team.work_start, team.work_end, team.digest_channel_id) == \
            ("UTC", "mon,tue,wed,thu,fri", "09:00", "17:00", "CPAYMENTS")
        assert team.specializations == teams.DEFAULT_SPECIALIZATIONS
        assert team_store.reviewers(session, team) == []
        assert teams.target_values(session, team) == {kpi.key: kpi.default for kpi in teams.KPIS}


def test_working_hours_written_without_quotes_are_still_clock_times(database):
    import_(database, "workspace: T0TEST\nteam: Payments\nhome_channel: CPAYMENTS\n"
                      "working_hours: {days: [Mon, Tue], start: 08:00, end: 17:30}\n")

    with database.transaction() as session:
        team = teams_as_code.find_team(session, "Payments")
    assert (team.work_days, team.work_start, team.work_end) == ("mon,tue", "08:00", "17:30")


def test_a_number_with_a_leading_zero_is_decimal_not_a_broken_octal_number(database):
    import_(database, "workspace: T0TEST\nteam: Payments\nhome_channel: CPAYMENTS\nreviewers:\n- user: UEVE\n"
                      "  tier: gold\n  specializations: [Security]\n  capacity: 08\n")

    with database.transaction() as session:
        team = teams_as_code.find_team(session, "Payments")
        assert team_store.get_reviewer(session, team, "UEVE").capacity == 8


def test_a_number_yaml_cannot_read_is_named_with_its_line(database):
    assert problems(database, "workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\nreviewers:\n- user: UEVE\n"
                              "  capacity: !!int 0x1F\n") == [
        (6, "", "this is not valid YAML: '0x1F' is not a whole number.")]


# --- rejected files --------------------------------------------------------------------------
def test_a_wrong_file_changes_nothing_and_names_every_wrong_line(database):
    make_team(database, "Platform", channel="platform", leads=("dave",))
    full_team(database)
    before = export(database)
    events = count_rows(database, AuditEvent)
    text = (before.replace("timezone: Europe/Berlin", "timezone: Mars/Base")
            .replace("home_channel: CPAYMENTS", "home_channel: CPLATFORM")
            .replace("  capacity: 4\n", "  capacity: 500\n")
            .replace("  capacity: 1\n", "  capacity: 0\n")
            .replace("  coverage: 85", "  coverage: 185")
            + "timzone: UTC\n")

    found = problems(database, text)

    assert found == [
        (line_of(text, "home_channel:"), "home_channel", "That channel is already the home channel of Platform."),
        (line_of(text, "timezone: Mars"), "timezone",
         '"Mars/Base" is not a time zone I know. Use an IANA name such as Europe/Berlin or America/New_York.'),
        (line_of(text, "capacity: 500"), "reviewers[0].capacity",
         "Capacity is how many reviews at once: a whole number from 1 to 20."),
        (line_of(text, "capacity: 0"), "reviewers[1].capacity",
         "Capacity is how many reviews at once: a whole number from 1 to 20."),
        (line_of(text, "coverage: 185"), "targets.coverage", "Enter a number from 0 to 100 (%)."),
        (line_of(text, "timzone"), "timzone", "`timzone` is not a setting I know. Known here: version, workspace, "
         "team, home_channel, digest_channel, timezone, working_hours, incident_channels, digest_time, "
         "escalation_hours, risk_bands, roles, specializations, reviewers, targets, pull_requests."),
    ]
    assert export(database) == before
    assert count_rows(database, AuditEvent) == events


def test_a_bot_or_deactivated_account_is_refused_where_it_is_named(database):
    text = ("workspace: T0TEST\nteam: Payments\nhome_channel: CPAYMENTS\nroles:\n  team_leads: [UALICE, UROBOT]\n"
            "reviewers:\n- user: UGONE\n  tier: gold\n  specializations: [Security]\n")

    found = problems(database, text, not_people=lambda ids: {"UROBOT", "UGONE"} & ids)

    assert found == [(5, "roles.team_leads", "<@UROBOT> is a bot or deactivated: roles are for people."),
                     (7, "reviewers[0].user", "That is a bot or a deactivated account: reviewers are people.")]
    with database.transaction() as session:
        assert team_store.teams(session, "T0TEST") == []


@pytest.mark.parametrize("text, line, where, words", [
    ("team: [unclosed\n", 1, "", "not valid YAML"),
    ("- just\n- a list\n", 1, "", "a team file is a YAML mapping"),
    ("workspace: T0TEST\nteam: A\nteam: B\nhome_channel: CPAYMENTS\n", 3, "team", "`team` appears more than once"),
    ("workspace: T0TEST\nhome_channel: CPAYMENTS\n", 1, "team", "`team` is missing"),
    ("workspace: T0TEST\nteam: P\nhome_channel: '#payments'\n", 3, "home_channel", "not a Slack channel ID"),
    ("workspace: acme\nteam: P\nhome_channel: CPAYMENTS\n", 1, "workspace", "not a Slack workspace ID"),
    ("workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\nroles:\n  team_leads: [alice]\n", 5,
     "roles.team_leads", '"alice" is not a Slack user ID'),
    ("workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\nroles:\n  team_lead: [UALICE]\n", 5,
     "roles.team_lead", "`team_lead` is not a setting I know"),
    ("workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\nincident_channels: sometimes\n", 4,
     "incident_channels", "expected true or false"),
    ("workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\nversion: 2\n", 4, "version", "I read version 1"),
    ("workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\nworking_hours:\n  start: '18:00'\n", 5,
     "working_hours.start", "the end comes after the start"),
    ("workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\nreviewers:\n- user: UEVE\n  tier: gold\n"
     "  specializations: [Quantum]\n", 7, "reviewers[0].specializations", "Quantum is not one of this team's"),
    ("workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\nreviewers:\n- user: UEVE\n  tier: gold\n"
     "  specializations: [Security]\n- user: UEVE\n  tier: silver\n  specializations: [Security]\n", 8,
     "reviewers[1].user", "UEVE is already a reviewer further up"),
    ("workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\nreviewers:\n- user: UEVE\n  tier: gold\n"
     "  specializations: [Security]\n  away_until: next week\n", 8, "reviewers[0].away_until",
     "expected a date like 2026-02-06"),
    ("workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\ntargets:\n  happiness: 10\n", 5, "targets.happiness",
     "happiness is not a KPI I track"),
    ("workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\ndigest_time: '25:00'\n", 4, "digest_time",
     "is not a time of day"),
    ("workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\ndigest_time: 0900\n", 4, "digest_time",
     "is not a time of day"),
    ("workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\ndigest_time: '0٨:30'\n", 4, "digest_time",
     "is not a time of day"),
    ("workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\nescalation_hours:\n  SEV1: [8, 4]\n", 5,
     "escalation_hours.SEV1", "Level 2 must come before Level 3"),
    ("workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\nescalation_hours:\n  SEV2: [0, 4]\n", 5,
     "escalation_hours.SEV2", "both between 0.25 and 720 hours"),
    ("workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\nescalation_hours:\n  SEV3: 24\n", 5,
     "escalation_hours.SEV3", "two numbers of hours, to Level 2 and to Level 3, like [24, 48]"),
    ("workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\nescalation_hours:\n  SEV4: [true, 48]\n", 5,
     "escalation_hours.SEV4", "two numbers of hours"),
    ("workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\nescalation_hours:\n  SEV5: [1, 2]\n", 5,
     "escalation_hours.SEV5", "`SEV5` is not a setting I know. Known here: SEV1, SEV2, SEV3, SEV4."),
    ("workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\nrisk_bands:\n  medium: 5\n  high: 4\n", 6,
     "risk_bands.high", "Each band must start above the one before it"),
    ("workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\nrisk_bands:\n  critical: 30\n", 5,
     "risk_bands.critical", "a whole score from 2 to 25"),
    ("workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\nrisk_bands:\n  medium: 4.5\n", 5,
     "risk_bands.medium", "a whole score from 2 to 25"),
    ("workspace: T0TEST\nteam: P\nhome_channel: CPAYMENTS\nrisk_bands: high\n", 4,
     "risk_bands", "expected a mapping"),
])
def test_each_kind_of_wrong_line_is_named_with_its_problem(database, text, line, where, words):
    [(found_line, found_where, found_text)] = problems(database, text)

    assert (found_line, found_where) == (line, where)
    assert words in found_text
    with database.transaction() as session:
        assert team_store.teams(session, "T0TEST") == []


# --- finding the team --------------------------------------------------------------------------
def test_a_team_name_in_two_workspaces_needs_the_workspace_to_export(database):
    make_team(database, "Payments", workspace_id="T0TEST")
    make_team(database, "Payments", workspace_id="T0OTHER")

    with database.transaction() as session, pytest.raises(Refusal) as ambiguous:
        teams_as_code.find_team(session, "Payments")
    assert ambiguous.value.phrase.params["workspaces"] == ["T0OTHER", "T0TEST"]
    assert "workspace: T0OTHER\n" in export(database, "Payments", "T0OTHER")


def test_import_into_another_workspace_than_the_files(database):
    full_team(database)

    result = import_(database, export(database), workspace="T0OTHER")

    assert result.created and result.workspace == "T0OTHER"
    assert "workspace: T0OTHER\n" in export(database, "Payments", "T0OTHER")


# --- files nobody should be able to feed us ------------------------------------------------------
HEAD = "workspace: T0TEST\nteam: Payments\nhome_channel: CPAYMENTS\n"


@pytest.mark.parametrize("text, line, words", [
    (HEAD + "reviewers:" + " [" * 5000 + "\n", 4, "nests deeper than 10 levels"),
    (HEAD + "roles:\n" + "".join(f"{'  ' * depth}k{depth}:\n" for depth in range(1, 12)), 14,
     "nests deeper than 10 levels"),
    (HEAD + "specializations: [" + "a, " * 20_001 + "]\n", 4, "more than 20,000 values"),
    (HEAD + "# " + "x" * 1_000_000 + "\n", 4, "larger than 1 MB"),
    (HEAD + "team: &name Payments\n", 4, "anchors and aliases"),
    (HEAD + "reviewers:\n- &eve {user: UEVE, tier: gold}\n- *eve\n", 5, "anchors and aliases"),
    (HEAD + "<<: {timezone: UTC}\n", 4, "`<<` is not a setting"),  # a merge key is only a key without aliases
    (HEAD + "team: \"\x1b[2J\"\n", 4, "not valid YAML: unprintable character #x001b"),
], ids=["deep-flow", "deep-block", "many-values", "huge", "anchor", "alias", "merge-key", "control-character"])
def test_a_file_past_the_limits_or_with_aliases_is_refused_before_it_is_built(database, text, line, words):
    [(found_line, _, found_text)] = problems(database, text)

    assert found_line == line and words in found_text, found_text
    with database.transaction() as session:
        assert team_store.teams(session, "T0TEST") == []


def test_a_file_that_is_not_utf8_is_refused_naming_the_line():
    with pytest.raises(teams_as_code.Unreadable) as refused:
        teams_as_code.decode(HEAD.encode() + b"timezone: Europe/Z\xfcrich\n")

    assert refused.value.problem.line == 4
    assert render.phrase(refused.value.problem.phrase.key) == "the file is not UTF-8 text."


def test_a_workspace_or_team_named_on_the_command_line_is_checked_as_the_files_are(database):
    make_team(database)

    with pytest.raises(Refusal) as bad_workspace:
        import_(database, HEAD, workspace="T0X'; DROP TABLE team; --")
    with pytest.raises(Refusal) as bad_team, database.transaction() as session:
        teams_as_code.find_team(session, "Pay\x1b[2Jments" + "s" * 100)

    assert render.phrase(bad_workspace.value.phrase.key, **bad_workspace.value.phrase.params) == \
        "--workspace: \"T0X'; DROP TABLE team; --\" is not a Slack workspace ID (T… or E…, like T0123ABCD)."
    assert render.phrase(bad_team.value.phrase.key, **bad_team.value.phrase.params) == \
        "--team: \"Pay\\x1b[2Jmentsssssssssssssssss…\" is not a team's name (up to 80 printable characters)."
