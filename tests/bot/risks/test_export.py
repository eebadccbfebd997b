"""The register as evidence: CSV and JSON content, and `qms-bot export risks` as a real process."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot import risks
from bot.risks import RiskForm
from storage import risks as store
from storage.db import Database
from tests.harness import processes
from tests.harness.teams import make_team

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def register_with_history(database):
    """QR-001 with a tick and a re-score, QR-002 closed as accepted."""
    team = make_team(database)
    with database.transaction() as session:
        payments = session.merge(team)
        first = risks.log_risk(session, payments, RiskForm(
            "Security vulnerability in authentication system", 3, 4, "UBOB", description="Tokens survive resets",
            actions=["Conduct security audit and penetration testing", "@SUM(1+1) looks like a formula"]),
            actor_id="UALICE", now=T0).risk
        second = risks.log_risk(session, payments, RiskForm("Vendor lock-in", 2, 3, "UCAROL", category="organizational"),
                                actor_id="UALICE", now=T0).risk
    with database.transaction() as session:
        row, payments = risks.open_risk(session, "T0TEST", first.id)
        risks.tick(session, row, payments, {store.actions_of(session, row)[0].id: True}, actor_id="UBOB",
                   now=T0 + timedelta(hours=1))
        risks.rescore(session, row, payments, "2", "4", "Audit passed", actor_id="UBOB", now=T0 + timedelta(days=1))
    with database.transaction() as session:
        row, payments = risks.open_risk(session, "T0TEST", second.id)
        risks.close_risk(session, row, payments, "accepted", "Cost of leaving exceeds the risk", actor_id="UALICE",
                         now=T0 + timedelta(days=2))
    return team


def test_the_csv_has_one_row_per_risk_with_its_checklist_and_closure(database):
    team = register_with_history(database)

    with database.transaction() as session:
        text = risks.to_csv(risks.register_views(session, session.merge(team), now=T0),
                                   {"UBOB": "bob"})

    assert text.startswith("\ufeffid,team,title,")  # Excel reads UTF-8 only with the mark
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [(r["id"], r["score"], r["band"], r["status"]) for r in rows] == \
        [("QR-001", "8", "medium", "open"), ("QR-002", "6", "medium", "closed")]
    assert rows[0]["mitigation_actions"] == ("[x] Conduct security audit and penetration testing\n"
                                             "[ ] @SUM(1+1) looks like a formula")
    assert (rows[0]["owner_name"], rows[1]["owner_name"]) == ("bob", "")
    assert (rows[1]["response"], rows[1]["closing_note"], rows[1]["closed_by"]) == \
        ("accepted", "Cost of leaving exceeds the risk", "UALICE")
    assert rows[1]["closed_at"] == "2026-03-04T10:00:00+00:00"


def test_cells_a_spreadsheet_would_run_as_formulas_are_defused():
    assert risks.safe_cell("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert risks.safe_cell("+1") == "'+1" and risks.safe_cell("@x") == "'@x"
    assert risks.safe_cell("Plain") == "Plain" and risks.safe_cell(12) == 12


def test_the_json_carries_each_risks_full_history(database):
    team = register_with_history(database)

    with database.transaction() as session:
        payments = session.merge(team)
        document = json.loads(risks.to_json(session, payments, risks.register_views(
            session, payments, now=T0), now=T0))

    assert document["team"] == "Payments" and document["bands"]["high"] == [10, 15]
    first = document["risks"][0]
    assert [e["action"] for e in first["history"]] == ["created", "action_done", "rescored"]
    assert first["history"][2]["before"]["score"] == 12 and first["history"][2]["after"]["note"] == "Audit passed"
    assert first["mitigation_actions"][0] == {"text": "Conduct security audit and penetration testing", "done": True,
                                              "done_by": "UBOB", "done_at": "2026-03-02T11:00:00+00:00"}
    assert document["risks"][1]["closed_at"] == "2026-03-04T10:00:00+00:00"


@pytest.fixture
def register_file(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/qms.db")
    db.migrate()
    register_with_history(db)
    db.dispose()
    return processes.environment(DATABASE_URL=f"sqlite:///{tmp_path}/qms.db")


def test_export_risks_writes_csv_to_stdout_and_json_to_a_file(register_file, tmp_path):
    as_csv = processes.run("export", "risks", "--team", "payments", env=register_file, cwd=tmp_path)
    as_json = processes.run("export", "risks", "--team", "Payments", "--format", "json", "-o", "register.json",
                            env=register_file, cwd=tmp_path)

    assert as_csv.returncode == 0, as_csv.stderr
    assert [r["id"] for r in csv.DictReader(io.StringIO(as_csv.stdout))] == ["QR-001", "QR-002"]
    assert as_json.returncode == 0, as_json.stderr
    assert as_json.stderr.strip() == "qms-bot: wrote 2 risks of Payments to register.json"
    assert len(json.loads((tmp_path / "register.json").read_text())["risks"]) == 2


def test_export_risks_names_the_teams_when_it_finds_none(register_file, tmp_path):
    result = processes.run("export", "risks", "--team", "Platform", env=register_file, cwd=tmp_path)

    assert result.returncode != 0
    assert result.stderr.strip() == "qms-bot: no team called 'Platform' (teams: Payments)"
