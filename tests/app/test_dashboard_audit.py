"""The audit page (filters by team, domain, person and period; unknown ones noted, never a 500) and the
audit evidence pack, from its button and from `qms-bot audit-pack`."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile

from storage.db import Database
from tests.app.test_dashboard import signed_in
from tests.harness import processes
from tests.harness.metrics import add_gates, at, declare_incident, log_risk
from tests.harness.teams import make_team


def seed(db):
    payments = make_team(db)
    platform = make_team(db, "Platform", channel="platform", leads=("dave",), managers=(), executives=())
    log_risk(db, payments, "=cmd|' /C calc'!A0 vault", 4, 4, owner="UBOB", now="2026-03-02 10:00")
    log_risk(db, platform, "Platform risk", 2, 2, owner="UDAVE", now="2026-03-03 10:00")
    declare_incident(db, payments, "Checkout down", now="2026-03-04 10:00")
    add_gates(db, payments, "unit", at("2026-03-04 11:00"), runs=3, passed=2)
    return payments, platform


def test_the_audit_log_filters_by_team_domain_person_and_period(bot):
    payments, platform = seed(bot.db)
    carol = signed_in(bot, "carol")
    everything = carol.get("/dashboard/audit").body
    assert "risk 1" in everything and "risk 2" in everything and "incident" in everything
    only_platform = carol.get(f"/dashboard/audit?team={platform.id}").body
    assert "risk 2" in only_platform and "risk 1" not in only_platform and "incident 1" not in only_platform
    incidents = carol.get(f"/dashboard/audit?team={payments.id}&domain=incidents").body
    assert "declared" in incidents and "risk 1" not in incidents
    by_dave = carol.get("/dashboard/audit?person=UDAVE").body
    assert "risk 2" in by_dave and "risk 1" not in by_dave
    march_4 = carol.get("/dashboard/audit?from=2026-03-04&to=2026-03-04").body
    assert "incident" in march_4 and "risk 1" not in march_4


def test_unknown_and_malformed_filters_give_the_unfiltered_page_with_a_note(bot):
    payments, _ = seed(bot.db)
    carol = signed_in(bot, "carol")
    for query, note in (("colour=red", "colour"), ("team=abc", "team"), ("team=99999999999999999999", "team"),
                        ("domain=%3Cscript%3E", "domain"), ("from=2026-13-45", "from"), ("page=-1", "page"),
                        ("person=%00%FF", "person")):
        page = carol.get(f"/dashboard/audit?{query}")
        assert page.status == 200, query
        assert 'class="note"' in page.body and note in page.body and "risk 1" in page.body, query
        assert "<script>" not in page.body


def test_the_pack_button_gives_a_zip_whose_manifest_matches_its_files(bot):
    payments, _ = seed(bot.db)
    carol = signed_in(bot, "carol")
    page = carol.get(f"/dashboard/audit?team={payments.id}").body
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"team": str(payments.id), "from": "2026-03-01", "to": "2026-03-31"}
    assert carol.post("/dashboard/audit/pack", form).status == 403  # no CSRF token
    answer = carol.post("/dashboard/audit/pack", form | {"csrf_token": token})
    assert answer.status == 200 and answer.header("Content-Type") == "application/zip"
    assert "audit-pack-payments-2026-03-01-2026-03-31.zip" in answer.header("Content-Disposition")
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    check_pack(archive, risks=1, incidents=1, gates=3)
    bad = carol.post("/dashboard/audit/pack", form | {"csrf_token": token, "to": "2026-02-01"})
    assert bad.status == 400 and "No audit pack for that period" in bad.body


def check_pack(archive: zipfile.ZipFile, *, risks: int, incidents: int, gates: int) -> None:
    names = set(archive.namelist())
    for table in ("risks", "incidents", "review_requests", "gate_results", "dor_dod_checks", "audit_log"):
        assert {f"{table}.csv", f"{table}.json"} <= names
    manifest = json.loads(archive.read("manifest.json"))
    assert set(manifest["files"]) == names - {"manifest.json", "SHA256SUMS"}
    for name, digest in manifest["files"].items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest
    sums = archive.read("SHA256SUMS").decode().splitlines()
    assert sorted(line.split("  ")[1] for line in sums) == sorted(manifest["files"])
    assert manifest["counts"]["risks"] == risks and manifest["counts"]["incidents"] == incidents
    assert manifest["counts"]["gate_results"] == gates
    risk_rows = json.loads(archive.read("risks.json"))
    assert risk_rows[0]["key"] == "QR-001" and risk_rows[0]["history"][0]["action"] == "created"
    assert "'=cmd" in archive.read("risks.csv").decode()  # a spreadsheet must not run it
    timeline = json.loads(archive.read("incidents.json"))[0]["timeline"]
    assert timeline[0]["kind"] == "declared"
    assert "Audit evidence pack · Payments" in archive.read("summary.html").decode()


def test_the_cli_writes_the_same_pack(database: Database, tmp_path):
    seed(database)
    env = processes.environment(DATABASE_URL=database.url, LOG_LEVEL="WARNING")
    result = processes.run("audit-pack", "--team", "payments", "--from", "2026-03-01", "--to", "2026-03-31",
                           env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "wrote the audit pack of Payments (1 risks" in result.stderr
    check_pack(zipfile.ZipFile(tmp_path / "audit-pack-payments-2026-03-01-2026-03-31.zip"), risks=1, incidents=1,
               gates=3)
    backwards = processes.run("audit-pack", "--team", "Payments", "--from", "2026-03-31", "--to", "2026-03-01",
                              env=env, cwd=tmp_path)
    assert backwards.returncode == 1 and "the first not after the second" in backwards.stderr


def test_webhook_and_login_link_events_are_found_by_their_team(bot):
    """Webhook connections, repositories and GitHub/GitLab logins concern a team: filtering the audit log by
    that team finds them (and by another team does not), the audit pack included."""
    from datetime import datetime, timezone

    from bot import pull_requests
    from tests.harness.bot import user_id

    payments, platform = seed(bot.db)
    when = datetime(2026, 3, 5, 10, 0, tzinfo=timezone.utc)
    with bot.db.transaction() as session:
        # Platform connects first: its connection's row id is Payments' team id, which must not confuse them.
        for team in (platform, payments):
            pull_requests.connect(session, team, "github", key="k" * 32, actor_id="UALICE", workspace_admin=True,
                                  now=when)
        pull_requests.add_repository(session, payments, "github", "acme/checkout", actor_id="UALICE",
                                     workspace_admin=True, now=when)
        pull_requests.link_login(session, bot.team_id, "github", "bobcat", user_id("bob"), actor_id="UALICE",
                                 workspace_admin=True, now=when)  # bob manages Payments
        pull_requests.link_login(session, bot.team_id, "gitlab", "davedev", user_id("dave"), actor_id="UALICE",
                                 workspace_admin=True, now=when)  # dave leads Platform
    carol = signed_in(bot, "carol")

    ours = carol.get(f"/dashboard/audit?team={payments.id}&domain=pull_requests").body
    theirs = carol.get(f"/dashboard/audit?team={platform.id}&domain=pull_requests").body

    assert ours.count("connected") == 1 and "repository_added" in ours and "github:bobcat" in ours
    assert "davedev" not in ours
    assert theirs.count("connected") == 1 and "repository_added" not in theirs and "gitlab:davedev" in theirs
    assert "bobcat" not in theirs
