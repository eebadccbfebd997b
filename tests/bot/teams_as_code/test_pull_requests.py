"""Teams as code carry the pull-request mapping: repositories, labels and paths, gates, logins."""

import yaml
from sqlmodel import select

from bot import pull_requests
from bot.pull_requests import Rules
from storage.pull_requests import LoginLink, Repository
from storage.teams import Team
from tests.bot.teams_as_code.test_service import export, import_, line_of, problems
from tests.harness.teams import add_reviewer, make_team
from tests.harness.webhooks import PROJECT, REPO, connect, link

RULES = Rules(labels={"backend": "Backend/API", "ui": "Frontend/UX"}, paths={"web/": "Frontend/UX"},
              gates={"CI / unit": "unit"}, default_specialization="Backend/API")


def mapping(db):
    with db.transaction() as session:
        team = session.exec(select(Team).where(Team.name == "Payments")).one()
        repos = sorted((r.provider, r.name) for r in session.exec(select(Repository)))
        logins = sorted((l.provider, l.login, l.user_id) for l in session.exec(select(LoginLink)))
        return repos, pull_requests.rules_of(session, team), logins


def connected(db):
    team = make_team(db)
    add_reviewer(db, team, "eve")
    connect(db, team, "github", (REPO,), rules=RULES)
    connect(db, team, "gitlab", (PROJECT,))
    link(db, "github", "Eve-GH", "eve")
    link(db, "gitlab", "alice-gl", "alice")
    link(db, "github", "stranger", "henry")  # no one of the team: not in its file
    return team


def test_the_mapping_is_exported_and_an_import_of_the_same_file_changes_nothing(database):
    connected(database)

    text = export(database)
    result = import_(database, text)

    assert yaml.safe_load(text)["pull_requests"] == {
        "repositories": {"github": [REPO], "gitlab": [PROJECT]},
        "labels": {"backend": "Backend/API", "ui": "Frontend/UX"}, "paths": {"web/": "Frontend/UX"},
        "default_specialization": "Backend/API", "gates": {"CI / unit": "unit"},
        "logins": {"github": {"eve-gh": "UEVE"}, "gitlab": {"alice-gl": "UALICE"}}}
    assert not result.changed


def test_an_import_makes_the_mapping_what_the_file_says(database):
    connected(database)
    text = export(database).replace(f"github: [{REPO}]", "github: [acme/checkout]") \
        .replace("ui: Frontend/UX", "ui: Frontend/UX, db: Database/Performance") \
        .replace("eve-gh: UEVE", "eve-gh: UEVE, frank-gh: UFRANK")

    result = import_(database, text)

    repos, rules, logins = mapping(database)
    assert result.settings == ["pull_requests"]
    assert repos == [("github", "acme/checkout"), ("gitlab", PROJECT)]
    assert rules.labels == {"backend": "Backend/API", "ui": "Frontend/UX", "db": "Database/Performance"}
    assert ("github", "frank-gh", "UFRANK") in logins and ("github", "stranger", "UHENRY") in logins


def test_a_wrong_mapping_changes_nothing_and_names_each_wrong_line(database):
    connected(database)
    make_team(database, "Platform", channel="platform")
    with database.transaction() as session:
        other = session.exec(select(Team).where(Team.name == "Platform")).one()
    connect(database, other, "github", ("acme/platform-infra",))
    before = mapping(database)
    text = export(database).replace(f"github: [{REPO}]", "github: [acme/platform-infra, not-a-repo]") \
        .replace("ui: Frontend/UX", "ui: Frontnd") \
        .replace("eve-gh: UEVE", "eve-gh: eve")

    found = problems(database, text)

    assert [(line, where) for line, where, _ in found] == [
        (line_of(text, "platform-infra"), "pull_requests.repositories.github[1]"),  # not a name; then Platform's
        (line_of(text, "platform-infra"), "pull_requests.repositories.github[0]"),
        (line_of(text, "Frontnd"), "pull_requests.labels.ui"),
        (line_of(text, "eve-gh"), "pull_requests.logins.github.eve-gh")]
    assert "belongs to Platform" in found[1][2] and "not one of the team's specializations" in found[2][2]
    assert mapping(database) == before
