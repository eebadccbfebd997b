"""The `pull_requests:` section of a team file (see bot/teams_as_code/service.py): the team's repositories,
what its labels and paths mean, which checks are quality gates, and who is who on GitHub and GitLab.

    pull_requests:
      repositories: {github: [acme/payments-api], gitlab: [acme/platform/payments-web]}
      labels: {backend: Backend/API, ui: Frontend/UX}     # the first label that matches decides
      paths: {'web/': Frontend/UX, '*.sql': Database/Performance}   # else most changed files
      default_specialization: Backend/API                  # else this (else the first specialization)
      gates: {'CI / unit': unit, security-scan: security}  # check, workflow or job name → gate
      logins: {github: {octocat: U012ABC}, gitlab: {jsmith: U012ABC}}

As for the rest of the file, the section is the whole of it: repositories left out stop being the
team's, and rules left out are dropped. Logins are the workspace's, not the team's: a file adds or
changes the ones it names, and never unlinks anyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from bot import pull_requests
from bot.core.errors import Phrase, Refusal
from bot.pull_requests import PROVIDERS, Rules
from bot.teams_as_code.yaml_file import Checker, Lines, Path, Problem
from storage.teams import Team

KEY = "pull_requests"
KEYS = ("repositories", "labels", "paths", "default_specialization", "gates", "logins")
GATE_MAX = 40


@dataclass
class PullRequestSection:
    """The section read and type-checked."""

    repositories: dict[str, list[tuple[Path, str]]] = field(default_factory=dict)  # provider → (path, name)
    rules: Rules = field(default_factory=Rules)
    logins: dict[str, dict[str, tuple[Path, str]]] = field(default_factory=dict)  # provider → login → (path, user)

    def user_ids(self) -> set[str]:
        return {user for names in self.logins.values() for _, user in names.values()}


# --- export ----------------------------------------------------------------------------------------
def export(session: Session, team: Team, people: set[str]) -> dict | None:
    """The section for a team (None when the team has set none of it). `people`: the team's users,
    whose logins are written."""
    repositories: dict[str, list[str]] = {}
    for row in pull_requests.repositories(session, team):
        repositories.setdefault(row.provider, []).append(row.name)
    rules = pull_requests.rules_of(session, team)
    logins: dict[str, dict[str, str]] = {}
    for link in pull_requests.links_of_people(session, team.workspace_id, people):
        logins.setdefault(link.provider, {})[link.login] = link.user_id
    if not (repositories or logins or rules != Rules()):
        return None
    section: dict = {"repositories": repositories, "labels": rules.labels, "paths": rules.paths}
    if rules.default_specialization:
        section["default_specialization"] = rules.default_specialization
    return section | {"gates": rules.gates, "logins": logins}


# --- reading ---------------------------------------------------------------------------------------
def read(checker: Checker, data: dict, specializations: list[str], user_pattern) -> PullRequestSection:
    """Type-check the section; problems go to `checker`, each with its line."""
    root = (KEY,)
    section = checker.mapping(data, root, KEYS)
    if section is None:
        return PullRequestSection()
    known = {name.lower(): name for name in specializations}
    result = PullRequestSection()
    for provider, names in (checker.mapping(section, root + ("repositories",), PROVIDERS) or {}).items():
        path = root + ("repositories", provider)
        for index, name in enumerate(checker.strings({provider: names}, path)):
            try:
                cleaned = pull_requests.repository_name(provider, name)
            except Refusal as refusal:
                checker.problems.append(checker.lines.problem(path + (index,), refusal.phrase))
                continue
            result.repositories.setdefault(provider, []).append((path + (index,), cleaned))
    labels = _mapping_to_specializations(checker, section, root + ("labels",), known)
    paths = _mapping_to_specializations(checker, section, root + ("paths",), known)
    default = checker.text(section, root + ("default_specialization",))
    if default is not None and default.lower() not in known:
        checker.problem(root + ("default_specialization",), "pull_requests.config_unknown_specialization",
                        name=default, known=specializations)
        default = None
    gates = {}
    for check, gate in (checker.mapping(section, root + ("gates",)) or {}).items():
        if not isinstance(gate, str) or not gate.strip() or len(gate.strip()) > GATE_MAX:
            checker.problem(root + ("gates", str(check)), "pull_requests.config_bad_gate", limit=GATE_MAX)
            continue
        gates[str(check)] = gate.strip().lower().replace(" ", "_")
    result.rules = Rules(labels=labels, paths=paths, gates=gates,
                         default_specialization=known[default.lower()] if default else None)
    for provider, names in (checker.mapping(section, root + ("logins",), PROVIDERS) or {}).items():
        path = root + ("logins", provider)
        if not isinstance(names, dict):
            checker.problem(path, "teams.config_expected", kind="mapping")
            continue
        for login, user in names.items():
            where = path + (str(login),)
            try:
                cleaned = pull_requests.clean_login(provider, str(login))
            except Refusal as refusal:
                checker.problems.append(checker.lines.problem(where, refusal.phrase))
                continue
            if not isinstance(user, str) or not user_pattern.match(user):
                checker.problem(where, "teams.config_bad_user_id", value=user)
                continue
            result.logins.setdefault(provider, {})[cleaned] = (where, user)
    return result


def _mapping_to_specializations(checker: Checker, section: dict, path: Path, known: dict[str, str]) -> dict[str, str]:
    found = {}
    for key, value in (checker.mapping(section, path) or {}).items():
        if not isinstance(value, str) or value.lower() not in known:
            checker.problem(path + (str(key),), "pull_requests.config_unknown_specialization", name=value,
                            known=list(known.values()))
            continue
        found[str(key)] = known[value.lower()]
    return found


# --- validating against the database, then applying ------------------------------------------------------
def problems(session: Session, workspace_id: str, team: Team | None, section: PullRequestSection,
             lines: Lines) -> list[Problem]:
    """A repository that is another team's cannot be the file's team's too."""
    found = []
    for provider, names in section.repositories.items():
        for path, name in names:
            owner = pull_requests.repository_owner(session, workspace_id, provider, name)
            if owner is not None and (team is None or owner.id != team.id):
                found.append(lines.problem(path, Phrase("pull_requests.repository_taken",
                                                        {"repository": name, "team": owner.name})))
    return found


def apply(session: Session, team: Team, section: PullRequestSection, *, actor_id: str, now: datetime) -> bool:
    """Make the team's repositories and rules what the section says, and link the logins it names.
    True when anything changed (each change is audited where it is made)."""
    changed = False
    wanted = {(provider, name) for provider, names in section.repositories.items() for _, name in names}
    current = {(row.provider, row.name) for row in pull_requests.repositories(session, team)}
    for provider, name in sorted(current - wanted):
        pull_requests.remove_repository(session, team, provider, name, actor_id=actor_id, workspace_admin=True, now=now)
        changed = True
    for provider, name in sorted(wanted - current):
        pull_requests.add_repository(session, team, provider, name, actor_id=actor_id, workspace_admin=True, now=now)
        changed = True
    changed |= pull_requests.save_rules(session, team, section.rules, actor_id=actor_id, now=now)
    for provider, names in section.logins.items():
        for login, (_, user) in names.items():
            linked, _ = pull_requests.link_login(session, team.workspace_id, provider, login, user, actor_id=actor_id,
                                           workspace_admin=True, now=now)
            changed |= linked.changed
    return changed
