"""Config as code: a team as a YAML file, and back.

`qms-bot team export --team Payments > payments.yaml` writes a team (roles by Slack user ID,
reviewers, targets, time zone, working hours, channels, the digest time, the escalation thresholds,
the risk bands, and its pull requests: repositories, labels, paths and checks, logins); `qms-bot
team import payments.yaml` makes the team what the file says, so an
organisation can keep its teams in git and review changes to them like code. The file is the whole
team: a section left out means its default (nobody in a role, no reviewers, the guide's targets,
digests at 09:00, the guide's 24 h / 48 h escalation and its risk bands).

An import reads and validates everything first — YAML, keys, types, Slack IDs, and the same rules
as the setup modals — and changes nothing when any line is wrong, naming each line and its problem.
Importing a file that matches the team changes nothing and audits nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

import yaml
from sqlmodel import Session

from bot import digests, incidents, reviews, risks, teams
from bot.core import render
from bot.core.errors import Invalid, Phrase, Refusal
from bot.risks import DEFAULT_BANDS, bands_from, parse_bands
from bot.core.untrusted import excerpt
from bot.teams import CLOCK_TIME, DAY_NAMES, KPIS, TEAM_NAME_MAX
from bot.teams_as_code import pull_requests
from bot.teams_as_code.yaml_file import Checker, ConfigError, Dumper, Lines, Path, Problem, Unreadable, load
from storage import teams as store
from storage.db import Database
from storage.teams import DEFAULT_DIGEST_TIME, DEFAULT_WORK_END, DEFAULT_WORK_START, Team

VERSION = 1
KEYS = ("version", "workspace", "team", "home_channel", "digest_channel", "timezone", "working_hours",
        "incident_channels", "digest_time", "escalation_hours", "risk_bands", "roles", "specializations",
        "reviewers", "targets", "pull_requests")
HOURS_KEYS = ("days", "start", "end")
REVIEWER_KEYS = ("user", "tier", "specializations", "capacity", "away_until")
ROLE_KEYS = tuple(teams.ROLE_FIELDS.values())  # team_leads, engineering_managers, ...
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,31}$")
WORKSPACE_ID = re.compile(r"^[TE][A-Z0-9]{2,31}$")

# Where each field of the domain's validation lives in the file.
TEAM_FIELDS = {"name": ("team",), "home_channel": ("home_channel",), "digest_channel": ("digest_channel",),
               "timezone": ("timezone",), "work_days": ("working_hours", "days"),
               "work_hours": ("working_hours", "start"),
               **{block: ("roles", block) for block in ROLE_KEYS}}
REVIEWER_FIELDS = {"reviewer": "user", "tier": "tier", "specializations": "specializations",
                   "new_specializations": "specializations", "capacity": "capacity", "away_until": "away_until"}


@dataclass
class TeamFile:
    """A team file read and type-checked; `problems` found so far (the domain's rules come later)."""

    workspace: str | None
    form: teams.TeamForm | None
    specializations: list[str]
    reviewers: list[tuple[Path, teams.ReviewerForm]]
    targets: dict[str, Any]
    lines: "Lines"
    problems: list[Problem] = field(default_factory=list)
    digest_time: str = DEFAULT_DIGEST_TIME
    escalation_hours: dict[str, tuple[float, float]] = field(
        default_factory=lambda: dict.fromkeys(incidents.SEVERITIES, incidents.DEFAULT_HOURS))
    risk_bands: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_BANDS))
    pull_requests: pull_requests.PullRequestSection = field(default_factory=pull_requests.PullRequestSection)

    def user_ids(self) -> set[str]:
        """Every Slack user the file names, to check with Slack that they are people."""
        in_roles = {user for users in (self.form.roles.values() if self.form else ()) for user in users}
        return in_roles | {form.user_id for _, form in self.reviewers if form.user_id} | self.pull_requests.user_ids()


@dataclass
class ImportResult:
    team: str
    workspace: str
    created: bool
    settings: list[str]  # the file's keys whose values changed: timezone, roles, ...
    reviewers_added: int = 0
    reviewers_changed: int = 0
    reviewers_removed: int = 0
    targets_changed: int = 0
    no_team_lead: bool = False

    @property
    def changed(self) -> bool:
        return self.created or bool(self.settings or self.reviewers_added or self.reviewers_changed
                                    or self.reviewers_removed or self.targets_changed)

    def phrase(self, *, check: bool = False) -> Phrase:
        if not self.changed:
            return Phrase("teams.config_unchanged", {"team": self.team, "workspace": self.workspace})
        return Phrase("teams.config_result", {
            "team": self.team, "workspace": self.workspace, "created": self.created, "settings": self.settings,
            "added": self.reviewers_added, "changed": self.reviewers_changed, "removed": self.reviewers_removed,
            "targets": self.targets_changed, "check": check})


# --- export --------------------------------------------------------------------------------------
def workspace_option(value: str | None) -> str | None:
    """A workspace named on the command line (--workspace), checked as the file's `workspace:` is."""
    if value is not None and not WORKSPACE_ID.match(value):
        raise Refusal("teams.config_bad_workspace_option", value=excerpt(value))
    return value


def team_name_option(value: str) -> str:
    """A team named on the command line (--team): a name a team may have."""
    name = value.strip()
    if not name or len(name) > TEAM_NAME_MAX or not name.isprintable():
        raise Refusal("teams.config_bad_team_option", value=excerpt(value), limit=TEAM_NAME_MAX)
    return name


def find_team(session: Session, name: str, workspace_id: str | None = None) -> Team:
    """The team called `name`, in `workspace_id` or, when that is None, in whichever workspace has one."""
    name, workspace_id = team_name_option(name), workspace_option(workspace_id)
    workspaces = [workspace_id] if workspace_id else store.workspaces(session)
    found = [team for ws in workspaces if (team := store.team_by_name(session, ws, name)) is not None]
    if not found:
        raise Refusal("teams.config_no_such_team", team=name, workspace=workspace_id)
    if len(found) > 1:
        raise Refusal("teams.config_which_workspace", team=name, workspaces=[t.workspace_id for t in found])
    return found[0]


def export_team(session: Session, team: Team) -> str:
    """The team as a YAML document that `import_text` turns back into the same team."""
    roles = store.roles(session, team)
    data = {
        "version": VERSION,
        "workspace": team.workspace_id,
        "team": team.name,
        "home_channel": team.home_channel_id,
        "digest_channel": team.digest_channel_id,
        "timezone": team.timezone,
        "working_hours": {"days": team.work_days.split(","), "start": team.work_start, "end": team.work_end},
        "incident_channels": team.incident_channels,
        "digest_time": team.digest_time,
        "escalation_hours": {severity: [_number(hours.level2), _number(hours.level3)]
                             for severity, hours in incidents.all_thresholds(team).items()},
        "risk_bands": bands_from(team.risk_bands),
        "roles": {block: roles.get(role, []) for role, block in teams.ROLE_FIELDS.items()},
        "specializations": list(team.specializations),
        "reviewers": [_reviewer_entry(r) for r in store.reviewers(session, team)],
    }
    people = {user for users in roles.values() for user in users} | {r.user_id for r in store.reviewers(session, team)}
    section = pull_requests.export(session, team, people)
    if section is not None:
        data[pull_requests.KEY] = section
    header = "".join(f"# {line}\n" for line in render.phrase("teams.config_header", team=team.name).splitlines())
    body = yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, default_flow_style=None, width=1000)
    values = teams.target_values(session, team)
    targets = "".join(
        f"  {kpi.key}: {_number(values[kpi.key])}  # "
        f"{render.phrase('teams.config_target_comment', label=kpi.label, guide=kpi.shown(kpi.default))}\n"
        for kpi in KPIS)
    return header + body + "targets:\n" + targets


def _reviewer_entry(reviewer) -> dict:
    data = teams.reviewer_data(reviewer)
    return {"user": data["user"], "tier": data["tier"], "specializations": data["specializations"],
            "capacity": data["capacity"], "away_until": reviewer.away_until}


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


# --- import --------------------------------------------------------------------------------------
def import_text(db: Database, text: str, *, actor_id: str, now: datetime, workspace: str | None = None,
                not_people: Callable[[set[str]], set[str]] | None = None, check: bool = False) -> ImportResult:
    """Read, validate and apply a team file in one transaction; with `check`, roll it back.

    `not_people` asks Slack which of the file's user IDs are bots, deactivated or unknown; it is
    called before the transaction, so that no database lock is held while Slack answers.
    """
    team_file = read(text, workspace=workspace)
    refused = not_people(team_file.user_ids()) if not_people and team_file.user_ids() else set()
    try:
        with db.transaction() as session:
            result = apply(session, team_file, actor_id=actor_id, now=now, not_people=refused)
            if check:
                raise _RollBack(result)
    except _RollBack as rolled_back:
        return rolled_back.result
    return result


class _RollBack(Exception):
    def __init__(self, result: ImportResult):
        super().__init__("check only")
        self.result = result


def read(text: str, *, workspace: str | None = None) -> TeamFile:
    """Parse and type-check a team file. Raises ConfigError only when it cannot be read at all
    (Unreadable); Refusal when `workspace` is not a workspace ID."""
    workspace = workspace_option(workspace)
    node, data = load(text)
    lines = Lines(node)
    checker = Checker(lines)
    checker.problems.extend(lines.problems)
    if not isinstance(data, dict):
        raise Unreadable(1, "teams.config_not_a_team")
    if not any(key in KEYS for key in data):  # some other file: quote none of it
        raise Unreadable(1, "teams.config_not_a_team_file")
    checker.keys(data, (), KEYS)
    if "version" in data and data["version"] != VERSION:
        checker.problem(("version",), "teams.config_bad_version", version=data["version"])
    workspace = workspace or checker.identifier(data, ("workspace",), WORKSPACE_ID, "teams.config_bad_workspace",
                                                required=True)
    form = _team_form(checker, data)
    specializations = checker.strings(data, ("specializations",)) if "specializations" in data \
        else list(teams.DEFAULT_SPECIALIZATIONS)
    reviewers = _reviewer_forms(checker, data.get("reviewers"))
    targets = checker.mapping(data, ("targets",)) or {}
    return TeamFile(workspace, form, specializations, reviewers, targets, lines, checker.problems,
                    digest_time=_digest_time(checker, data), escalation_hours=_escalation_hours(checker, data),
                    risk_bands=_risk_bands(checker, data),
                    pull_requests=pull_requests.read(checker, data, specializations, USER_ID))


def apply(session: Session, team_file: TeamFile, *, actor_id: str, now: datetime,
          not_people: set[str] = frozenset()) -> ImportResult:
    """Validate the file against the team's rules and the database, then make the team what it says.
    Raises ConfigError, having written nothing, when any line is wrong."""
    problems = list(team_file.problems)
    form, workspace = team_file.form, team_file.workspace
    if form is None or workspace is None:
        raise ConfigError(problems)
    existing = store.team_by_name(session, workspace, form.name.strip()) if form.name.strip() else None
    already_wrong = {problem.where for problem in problems}  # one problem per line is enough
    problems += [p for p in _team_problems(session, team_file, existing, not_people) if p.where not in already_wrong]
    targets = _target_problems(team_file, problems)
    problems += pull_requests.problems(session, workspace, existing, team_file.pull_requests, team_file.lines)
    if problems:
        raise ConfigError(problems)

    before = teams.describe(session, existing) if existing else None
    wanted = teams.describe_form(form)
    settings = [] if before is None else _changed_keys(before, wanted)
    team = existing
    if existing is None or settings:
        team = teams.save_team(session, workspace, form, actor_id=actor_id, now=now, editing=existing)
    if teams.replace_specializations(session, team, team_file.specializations, actor_id=actor_id, now=now) \
            and existing is not None:
        settings.append("specializations")
    settings += [name for name in _apply_schedules(session, team, team_file, actor_id=actor_id, now=now)
                 if existing is not None]
    result = ImportResult(team.name, workspace, created=existing is None, settings=settings)
    _apply_reviewers(session, team, team_file, result, actor_id=actor_id, now=now)
    before_targets = teams.target_values(session, team)
    after_targets = teams.save_targets(session, team, targets, actor_id=actor_id, now=now)
    result.targets_changed = sum(before_targets[k] != after_targets[k] for k in after_targets)
    if pull_requests.apply(session, team, team_file.pull_requests, actor_id=actor_id, now=now) and existing is not None:
        result.settings.append(pull_requests.KEY)
    result.no_team_lead = not teams.has_team_lead(session, team)
    return result


def _apply_schedules(session: Session, team: Team, team_file: TeamFile, *, actor_id: str,
                     now: datetime) -> list[str]:
    """The digest time, the escalation thresholds and the risk bands, each changed through its own
    domain (audited there) when the file differs; returns the file's names of those that changed."""
    changed = []
    if team.digest_time != team_file.digest_time:
        digests.set_digest_time(session, team, team_file.digest_time, actor_id=actor_id,
                                        workspace_admin=True, now=now)
        changed.append("digest_time")
    current = {severity: (t.level2, t.level3) for severity, t in incidents.all_thresholds(team).items()}
    if current != team_file.escalation_hours:
        incidents.save_thresholds(session, team, {severity: f"{float(low)!r} / {float(high)!r}"
                                                   for severity, (low, high) in team_file.escalation_hours.items()},
                                   actor_id=actor_id, now=now)
        changed.append("escalation_hours")
    if risks.bands_of(team) != team_file.risk_bands:
        # The risks domain also re-renders the cards of open risks whose band moved.
        risks.set_bands(session, team, {name: str(value) for name, value in team_file.risk_bands.items()},
                        actor_id=actor_id, now=now, workspace_admin=True)
        changed.append("risk_bands")
    return changed


def _team_problems(session: Session, team_file: TeamFile, existing: Team | None,
                   not_people: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    lines = team_file.lines
    try:
        teams.validate_team(session, team_file.workspace, team_file.form, editing=existing, bots=not_people)
    except Invalid as invalid:
        problems += [lines.problem(TEAM_FIELDS.get(name, (name,)), phrase) for name, phrase in invalid.problems.items()]
    try:
        # A reviewer's specializations must be on the list: that is checked on their own line below.
        teams.validate_specializations(None, None, team_file.specializations, still_used=set())
    except Invalid as invalid:
        problems.append(lines.problem(("specializations",), invalid.problems["specializations"]))
    seen: set[str] = set()
    for path, form in team_file.reviewers:
        if form.user_id in seen:
            problems.append(lines.problem(path + ("user",), Phrase("teams.config_repeated_reviewer",
                                                                   {"user": form.user_id})))
            continue
        seen.add(form.user_id)
        try:
            teams.validate_reviewer(team_file.specializations, form, is_bot=form.user_id in not_people)
        except Invalid as invalid:
            problems += [lines.problem(path + (REVIEWER_FIELDS.get(name, name),), phrase)
                         for name, phrase in invalid.problems.items()]
    return problems


def _target_problems(team_file: TeamFile, problems: list[Problem]) -> dict[str, float]:
    """Every KPI's target: the file's, or the guide's default where the file names none."""
    try:
        own = teams.parse_targets(team_file.targets)
    except Invalid as invalid:
        problems += [team_file.lines.problem(("targets", key), phrase) for key, phrase in invalid.problems.items()]
        return {}
    return {kpi.key: own.get(kpi.key, kpi.default) for kpi in KPIS}


def _apply_reviewers(session: Session, team: Team, team_file: TeamFile, result: ImportResult, *, actor_id: str,
                     now: datetime) -> None:
    wanted = {form.user_id: form for _, form in team_file.reviewers}
    for reviewer in store.reviewers(session, team):
        if reviewer.user_id not in wanted:
            reviews.remove_reviewer(session, team, reviewer.user_id, actor_id=actor_id, now=now)
            result.reviewers_removed += 1
    for user_id, form in wanted.items():
        current = store.get_reviewer(session, team, user_id)
        if current is not None and _same_reviewer(current, form):
            continue
        teams.save_reviewer(session, team, form, actor_id=actor_id, now=now)
        if current is None:
            result.reviewers_added += 1
        else:
            result.reviewers_changed += 1


def _same_reviewer(current, form: teams.ReviewerForm) -> bool:
    return (current.tier, list(current.specializations), current.capacity, current.away_until) == \
        (form.tier, list(dict.fromkeys(form.specializations)), int(form.capacity), form.away_until)


def _changed_keys(before: dict, wanted: dict) -> list[str]:
    """The file's names of the settings that differ (work_days/start/end are `working_hours`)."""
    names = {"name": "team", "work_days": "working_hours", "work_start": "working_hours",
             "work_end": "working_hours"}
    return list(dict.fromkeys(names.get(key, key) for key in wanted if before.get(key) != wanted[key]))


# --- reading the file -------------------------------------------------------------------------------
def _team_form(checker: "Checker", data: dict) -> teams.TeamForm | None:
    name = checker.text(data, ("team",), required=True)
    home = checker.identifier(data, ("home_channel",), CHANNEL_ID, "teams.config_bad_channel_id", required=True)
    digest = checker.identifier(data, ("digest_channel",), CHANNEL_ID, "teams.config_bad_channel_id")
    timezone = checker.text(data, ("timezone",)) or "UTC"
    hours = checker.mapping(data, ("working_hours",), HOURS_KEYS) or {}
    days = [d.lower() for d in checker.strings(hours, ("working_hours", "days"))] if "days" in hours \
        else list(DAY_NAMES[:5])
    start = checker.text(hours, ("working_hours", "start")) or DEFAULT_WORK_START
    end = checker.text(hours, ("working_hours", "end")) or DEFAULT_WORK_END
    incident_channels = checker.flag(data, ("incident_channels",))
    roles_data = checker.mapping(data, ("roles",), ROLE_KEYS) or {}
    roles = {role: checker.identifiers(roles_data, ("roles", block), USER_ID, "teams.config_bad_user_id")
             for role, block in teams.ROLE_FIELDS.items()}
    if name is None:
        return None
    return teams.TeamForm(name=name, home_channel_id=home, digest_channel_id=digest, timezone=timezone, roles=roles,
                          work_days=days, work_start=start, work_end=end, incident_channels=incident_channels)


def _digest_time(checker: "Checker", data: dict) -> str:
    value = checker.text(data, ("digest_time",))
    if value is None:
        return DEFAULT_DIGEST_TIME
    value = value.strip()
    if len(value) == 4 and value[1:2] == ":":
        value = "0" + value  # 8:30 is 08:30
    if not CLOCK_TIME.match(value):
        checker.problem(("digest_time",), "teams.config_bad_clock_time", value=value)
        return DEFAULT_DIGEST_TIME
    return value


def _escalation_hours(checker: "Checker", data: dict) -> dict[str, tuple[float, float]]:
    """Hours to Level 2 and to Level 3 per severity; a severity left out keeps the guide's 24 / 48."""
    hours = dict.fromkeys(incidents.SEVERITIES, incidents.DEFAULT_HOURS)
    given = checker.mapping(data, ("escalation_hours",), incidents.SEVERITIES) or {}
    for severity in incidents.SEVERITIES:
        if severity not in given:
            continue
        path = ("escalation_hours", severity)
        pair = given[severity]
        if not (isinstance(pair, list) and len(pair) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pair)):
            checker.problem(path, "teams.config_bad_hours")
        elif not incidents.MIN_HOURS <= pair[0] < pair[1] <= incidents.MAX_HOURS:
            checker.problem(path, "incidents.hours_order", low=incidents.MIN_HOURS, high=incidents.MAX_HOURS)
        else:
            hours[severity] = (float(pair[0]), float(pair[1]))
    return hours


def _risk_bands(checker: "Checker", data: dict) -> dict[str, int]:
    """The lowest score of medium, high and critical; a band left out keeps the guide's."""
    given = checker.mapping(data, ("risk_bands",), tuple(DEFAULT_BANDS)) or {}
    bands = dict(DEFAULT_BANDS)
    wrong = False
    for name in DEFAULT_BANDS:
        if name not in given:
            continue
        value = given[name]
        if isinstance(value, bool) or not isinstance(value, int):
            checker.problem(("risk_bands", name), "risks.bad_threshold")
            wrong = True
        else:
            bands[name] = value
    if wrong:
        return dict(DEFAULT_BANDS)
    try:
        return parse_bands({name: str(value) for name, value in bands.items()})
    except Invalid as invalid:
        for name, phrase in invalid.problems.items():
            checker.problems.append(checker.lines.problem(("risk_bands", name), phrase))
        return dict(DEFAULT_BANDS)


def _reviewer_forms(checker: "Checker", entries: Any) -> list[tuple[Path, teams.ReviewerForm]]:
    if entries is None:
        return []
    if not isinstance(entries, list):
        checker.problem(("reviewers",), "teams.config_expected", kind="reviewers")
        return []
    forms = []
    for index, entry in enumerate(entries):
        path: Path = ("reviewers", index)
        if not isinstance(entry, dict):
            checker.problem(path, "teams.config_expected", kind="reviewer")
            continue
        checker.keys(entry, path, REVIEWER_KEYS)
        user = checker.identifier(entry, path + ("user",), USER_ID, "teams.config_bad_user_id", required=True)
        tier = checker.text(entry, path + ("tier",), required=True)
        specializations = checker.strings(entry, path + ("specializations",))
        away = checker.day(entry, path + ("away_until",))
        if user is not None:
            forms.append((path, teams.ReviewerForm(user_id=user, tier=(tier or "").lower(),
                                                   specializations=specializations,
                                                   capacity=entry.get("capacity", 3), away_until=away)))
    return forms
