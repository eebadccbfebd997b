"""Reading GitHub's and GitLab's webhook payloads into plain values, and a team's rules for them:
which labels or paths mean which specialization, how big a change is, and which checks are which
quality gates. Plain functions of plain values: no database, no clock, no Slack.

A payload that is not shaped as the provider documents it raises `MalformedWebhook` (HTTP 400),
naming the field; fields we do not use are not looked at, so an addition on the provider's side
never breaks us.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Iterable

from bot import metrics

GITHUB, GITLAB = "github", "gitlab"

# What an event does (one delivery may carry several: a GitLab update can change reviewers and draft at once).
OPENED, READY, DRAFT, CLOSED, MERGED, REOPENED = "opened", "ready", "draft", "closed", "merged", "reopened"
REVIEW_REQUESTED, REVIEW_REQUEST_REMOVED = "review_requested", "review_request_removed"
APPROVED, CHANGES_REQUESTED = "approved", "changes_requested"
GATES, PING, IGNORED = "gates", "ping", "ignored"
FILES_A_REQUEST = (OPENED, READY, REOPENED, REVIEW_REQUESTED)  # on a pull request not seen before

# Changed lines (additions + deletions) below which a change is S, then M; L from the second on.
SIZE_LIMITS = (("S", 100), ("M", 500))
STANDARD_GATES = ("unit", "integration", "security", "performance", "coverage")
# Check and workflow outcomes, read as the CI API reads a result ("skipped", "cancelled" and
# "neutral" did not run); the few the CI API has no word for are said in its words first.
GITHUB_CONCLUSIONS = {"success": "success", "failure": "failure", "timed_out": "failure",
                      "startup_failure": "failure", "cancelled": "cancelled", "skipped": "skipped",
                      "neutral": "neutral"}  # action_required, stale: not finished, nothing to record
GITLAB_STATUSES = {"success": "success", "failed": "failed", "canceled": "canceled", "skipped": "skipped"}
GITLAB_FINAL = ("success", "failed", "canceled", "skipped")
TEXT_MAX = 3000
REPOSITORY_MAX = 255


class MalformedWebhook(ValueError):
    """The payload is not shaped like anything the provider sends."""


@dataclass(frozen=True)
class PullRequest:
    """A pull request (GitHub) or merge request (GitLab), as a review request needs it."""

    repository: str  # owner/name, lower-cased
    number: int
    title: str
    url: str
    author: str | None  # login, as the provider spells it
    draft: bool
    labels: tuple[str, ...] = ()
    changed_lines: int | None = None  # additions + deletions, when the payload says
    requested: tuple[str, ...] = ()  # logins asked to review it
    files: tuple[str, ...] = ()  # changed paths, when known (webhooks do not carry them)


@dataclass(frozen=True)
class GateRun:
    """One finished check run, workflow run or CI job."""

    name: str
    result: str  # in the CI API's words: success, failure, failed, skipped, cancelled, ...
    source_id: str
    started_at: datetime | None = None
    completed_at: datetime | None = None
    commit: str | None = None
    ref: str | None = None


@dataclass(frozen=True)
class Event:
    provider: str
    kind: str
    repository: str | None
    pull: PullRequest | None = None
    actor: str | None = None  # login of whoever did it
    reviewer: str | None = None  # login the event is about: requested, removed, approving
    at: datetime | None = None  # when it happened, per the provider
    gates: tuple[GateRun, ...] = ()
    action: str = ""  # the provider's own word, for the log


@dataclass(frozen=True)
class Rules:
    """A team's reading of its pull requests (`qms-bot team export` writes them, `import` sets them)."""

    labels: dict[str, str] = field(default_factory=dict)  # label → specialization
    paths: dict[str, str] = field(default_factory=dict)  # glob or directory/ → specialization
    gates: dict[str, str] = field(default_factory=dict)  # check, workflow or job name → gate
    default_specialization: str | None = None


# --- a team's rules -------------------------------------------------------------------------------
def specialization_of(pull: PullRequest, rules: Rules, known: Iterable[str]) -> str:
    """The first label the rules map (in the rules' order), else a label that names one of the team's
    specializations, else the specialization most changed files fall under, else the rules'
    default, else the team's first specialization."""
    known = list(known)
    usable = {name.lower(): name for name in known}
    by_label = label_specialization(pull, rules, known)
    if by_label is not None:
        return by_label
    counts: dict[str, int] = {}
    for path in pull.files:
        for pattern, specialization in rules.paths.items():
            if path_matches(path, pattern) and specialization.lower() in usable:
                counts[usable[specialization.lower()]] = counts.get(usable[specialization.lower()], 0) + 1
                break
    if counts:
        order = {name: index for index, name in enumerate(rules.paths.values())}
        return min(counts, key=lambda name: (-counts[name], order.get(name, len(order))))
    default = (rules.default_specialization or "").lower()
    return usable.get(default) or (known[0] if known else "")


def label_specialization(pull: PullRequest, rules: Rules, known: Iterable[str]) -> str | None:
    """The specialization the pull request's labels say: the rules' first label that matches, else a
    label that names one of the team's specializations or uniquely starts one ("backend"); or None."""
    usable = {name.lower(): name for name in known}
    labels = {label.lower() for label in pull.labels}
    for label, specialization in rules.labels.items():
        if label.lower() in labels and specialization.lower() in usable:
            return usable[specialization.lower()]
    for label in pull.labels:
        named = [name for key, name in usable.items() if key == label.lower()] or \
            [name for key, name in usable.items() if key.startswith(label.lower())]
        if len(named) == 1:
            return named[0]
    return None


def path_matches(path: str, pattern: str) -> bool:
    """`web/` is everything under web/; anything else is a glob (`*.sql`, `services/*/api/**`)."""
    if pattern.endswith("/"):
        return path.startswith(pattern)
    return fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], pattern)


def size_of(changed_lines: int | None) -> str:
    if changed_lines is None:
        return "M"
    return next((size for size, limit in SIZE_LIMITS if changed_lines < limit), "L")


def gate_of(name: str, rules: Rules) -> str | None:
    """The quality gate a check, workflow or job reports: the team's mapping, else a name that is
    one of the guide's gates in one of the CI API's spellings ("unit-tests" → unit); other checks
    (lint, build, …) are no gate."""
    wanted = name.strip().lower()
    for check, gate in rules.gates.items():
        if check.strip().lower() == wanted:
            return gate
    plain = wanted.replace(" ", "_")
    gate = metrics.GATE_ALIASES.get(plain, plain)
    return gate if gate in STANDARD_GATES else None


def gate_records(runs: Iterable[GateRun], rules: Rules) -> list[dict[str, Any]]:
    """The runs that are gates, as records of the CI API (bot.metrics.parse_gate reads them)."""
    records = []
    for run in runs:
        gate = gate_of(run.name, rules)
        if gate is None:
            continue
        record: dict[str, Any] = {"gate": gate, "result": run.result, "id": run.source_id, "commit": run.commit,
                                  "ref": run.ref}
        if run.completed_at is not None:
            record["timestamp"] = run.completed_at.isoformat()
            if run.started_at is not None and run.started_at <= run.completed_at:
                record["duration"] = (run.completed_at - run.started_at).total_seconds()
        records.append(record)
    return records


# --- GitHub -----------------------------------------------------------------------------------------
def read_github(event_name: str, payload: Any) -> list[Event]:
    """The events of one GitHub delivery (`X-GitHub-Event` and its JSON body)."""
    data = _object(payload, "the body")
    action = _text(data, "action", default="")
    repository = _repository(data, "repository", "full_name")
    event = Event(GITHUB, IGNORED, repository, action=f"{event_name}.{action}".strip("."),
                  actor=_text(data, "sender", "login", default=None))
    if event_name == "ping":
        return [_with(event, kind=PING)]
    if event_name == "pull_request":
        return [_github_pull_request(event, data, action)]
    if event_name == "pull_request_review":
        return [_github_review(event, data, action)]
    if event_name == "check_run" and action == "completed":
        return [_with(event, kind=GATES, gates=_runs([_github_check_run(data)]))]
    if event_name == "workflow_run" and action == "completed":
        return [_with(event, kind=GATES, gates=_runs([_github_workflow_run(data)]))]
    return [event]


def _github_pull_request(event: Event, data: dict, action: str) -> Event:
    pull = _github_pull(data, event.repository)
    kinds = {"opened": OPENED, "ready_for_review": READY, "converted_to_draft": DRAFT, "reopened": REOPENED,
             "review_requested": REVIEW_REQUESTED, "review_request_removed": REVIEW_REQUEST_REMOVED}
    raw = _object(data, "pull_request")
    if action == "closed":
        merged = raw.get("merged") is True
        return _with(event, kind=MERGED if merged else CLOSED, pull=pull,
                     at=_moment(raw, "merged_at" if merged else "closed_at"))
    kind = kinds.get(action, IGNORED)
    reviewer = None
    if kind in (REVIEW_REQUESTED, REVIEW_REQUEST_REMOVED):
        reviewer = _text(data, "requested_reviewer", "login", default=None)
        if reviewer is None:  # a team was requested: people are what the matrix counts
            kind = IGNORED
    return _with(event, kind=kind, pull=pull, reviewer=reviewer, at=_moment(raw, "updated_at"))


def _github_review(event: Event, data: dict, action: str) -> Event:
    pull = _github_pull(data, event.repository)
    if action != "submitted":
        return _with(event, pull=pull)
    review = _object(data, "review")
    state = _text(review, "state", default="").lower()  # "approved" in webhooks, "APPROVED" in the REST API
    kind = {"approved": APPROVED, "changes_requested": CHANGES_REQUESTED}.get(state, IGNORED)
    return _with(event, kind=kind, pull=pull, reviewer=_text(review, "user", "login"),
                 at=_moment(review, "submitted_at"), action=f"{event.action}.{state}")


def _github_pull(data: dict, repository: str | None) -> PullRequest:
    raw = _object(data, "pull_request")
    if repository is None:
        raise MalformedWebhook("repository.full_name is missing")
    additions, deletions = _count(raw, "additions"), _count(raw, "deletions")
    return PullRequest(
        repository=repository, number=_number(raw, "number"), title=_text(raw, "title", default="")[:TEXT_MAX],
        url=_text(raw, "html_url"), author=_text(raw, "user", "login", default=None),
        draft=raw.get("draft") is True, labels=_names(raw, "labels", "name"),
        changed_lines=additions + deletions if additions is not None and deletions is not None else None,
        requested=_names(raw, "requested_reviewers", "login"))


def _github_check_run(data: dict) -> GateRun | None:
    run = _object(data, "check_run")
    result = GITHUB_CONCLUSIONS.get(_text(run, "conclusion", default="") or "")
    if result is None:
        return None
    suite = run.get("check_suite") if isinstance(run.get("check_suite"), dict) else {}
    return GateRun(name=_text(run, "name"), result=result, source_id=f"github:check_run:{_number(run, 'id')}",
                   started_at=_moment(run, "started_at"), completed_at=_moment(run, "completed_at"),
                   commit=_text(run, "head_sha", default=None), ref=_text(suite, "head_branch", default=None))


def _github_workflow_run(data: dict) -> GateRun | None:
    run = _object(data, "workflow_run")
    result = GITHUB_CONCLUSIONS.get(_text(run, "conclusion", default="") or "")
    if result is None:
        return None
    name = _text(run, "name", default="") or _text(data, "workflow", "name", default="") or ""
    attempt = _count(run, "run_attempt") or 1
    return GateRun(name=name, result=result, source_id=f"github:workflow_run:{_number(run, 'id')}:{attempt}",
                   started_at=_moment(run, "run_started_at"), completed_at=_moment(run, "updated_at"),
                   commit=_text(run, "head_sha", default=None), ref=_text(run, "head_branch", default=None))


# --- GitLab -------------------------------------------------------------------------------------------
def read_gitlab(event_name: str, payload: Any) -> list[Event]:
    """The events of one GitLab delivery (`X-Gitlab-Event` and its JSON body)."""
    data = _object(payload, "the body")
    kind = _text(data, "object_kind", default="")
    repository = _repository(data, "project", "path_with_namespace")
    actor = _text(data, "user", "username", default=None) or _text(data, "user_username", default=None)
    event = Event(GITLAB, IGNORED, repository, actor=actor, action=kind or event_name)
    if kind == "merge_request":
        return _gitlab_merge_request(event, data)
    if kind == "pipeline":
        attrs = _object(data, "object_attributes")
        if _text(attrs, "status", default="") not in GITLAB_FINAL:
            return [event]
        builds = data.get("builds") or []
        if not isinstance(builds, list):
            raise MalformedWebhook("builds is not a list")
        runs = [_gitlab_job(_object({"build": b}, "build"), commit=_text(attrs, "sha", default=None),
                            ref=_text(attrs, "ref", default=None)) for b in builds]
        return [_with(event, kind=GATES, gates=_runs(runs))]
    if kind == "build":
        run = GateRun(name=_text(data, "build_name"), result=GITLAB_STATUSES.get(_text(data, "build_status"), ""),
                      source_id=f"gitlab:job:{_number(data, 'build_id')}",
                      started_at=_moment(data, "build_started_at"), completed_at=_moment(data, "build_finished_at"),
                      commit=_text(data, "sha", default=None), ref=_text(data, "ref", default=None))
        return [_with(event, kind=GATES, gates=_runs([run if run.result else None]))]
    return [event]


def _gitlab_merge_request(event: Event, data: dict) -> list[Event]:
    attrs = _object(data, "object_attributes")
    if event.repository is None:
        raise MalformedWebhook("project.path_with_namespace is missing")
    user = data.get("user") if isinstance(data.get("user"), dict) else {}
    author = event.actor if user.get("id") is not None and user.get("id") == attrs.get("author_id") else None
    labels = data.get("labels") if isinstance(data.get("labels"), list) else attrs.get("labels") or []
    pull = PullRequest(
        repository=event.repository, number=_number(attrs, "iid"), title=_text(attrs, "title", default="")[:TEXT_MAX],
        url=_text(attrs, "url"), author=author,
        draft=attrs.get("draft") is True or attrs.get("work_in_progress") is True,
        labels=_names({"labels": labels}, "labels", "title"), requested=_names(data, "reviewers", "username"))
    action = _text(attrs, "action", default="")
    # No payload field says when an approval was given: it counts from its delivery. A merge says
    # when since GitLab 18 (merged_at); otherwise, from its delivery too.
    event = _with(event, pull=pull, action=f"merge_request.{action}")
    simple = {"open": OPENED, "reopen": REOPENED, "close": CLOSED, "merge": MERGED}
    if action in simple:
        return [_with(event, kind=simple[action], at=_moment(attrs, "merged_at") if action == "merge" else None)]
    if action in ("approved", "approval"):  # all required approvals given / one person's approval
        return [_with(event, kind=APPROVED, reviewer=event.actor)]
    if action != "update":
        return [event]
    changes = data.get("changes") if isinstance(data.get("changes"), dict) else {}
    found = []
    draft = changes.get("draft") if isinstance(changes.get("draft"), dict) else None
    if draft is not None and draft.get("current") in (True, False) and draft.get("previous") != draft.get("current"):
        found.append(_with(event, kind=DRAFT if draft["current"] else READY))
    reviewers = changes.get("reviewers") if isinstance(changes.get("reviewers"), dict) else None
    if reviewers is not None:
        before = _names(reviewers, "previous", "username")
        after = _names(reviewers, "current", "username")
        # Removals first: a reviewer swapped for another frees the role the new one takes.
        found += [_with(event, kind=REVIEW_REQUEST_REMOVED, reviewer=login) for login in before if login not in after]
        found += [_with(event, kind=REVIEW_REQUESTED, reviewer=login) for login in after if login not in before]
    return found or [event]


def _gitlab_job(build: dict, *, commit: str | None, ref: str | None) -> GateRun | None:
    result = GITLAB_STATUSES.get(_text(build, "status", default=""))
    if result is None:
        return None
    return GateRun(name=_text(build, "name"), result=result, source_id=f"gitlab:job:{_number(build, 'id')}",
                   started_at=_moment(build, "started_at"), completed_at=_moment(build, "finished_at"),
                   commit=commit, ref=ref)


# --- reading JSON safely ----------------------------------------------------------------------------
def _with(event: Event, **changes: Any) -> Event:
    return replace(event, **changes)


def _runs(runs: Iterable[GateRun | None]) -> tuple[GateRun, ...]:
    return tuple(run for run in runs if run is not None and run.name)


def _object(data: Any, name: str) -> dict:
    value = data if name == "the body" else (data.get(name) if isinstance(data, dict) else None)
    if not isinstance(value, dict):
        raise MalformedWebhook(f"{name} is not an object")
    return value


def _value(data: dict, path: tuple[str, ...]) -> Any:
    value: Any = data
    for step in path:
        value = value.get(step) if isinstance(value, dict) else None
    return value


def _text(data: dict, *path: str, default: Any = ...) -> Any:
    value = _value(data, path)
    if value is None or value == "":
        if default is ...:
            raise MalformedWebhook(f"{'.'.join(path)} is missing")
        return default
    if not isinstance(value, str) or "\x00" in value:
        raise MalformedWebhook(f"{'.'.join(path)} is not text")
    return value


def _number(data: dict, name: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise MalformedWebhook(f"{name} is not a positive whole number")
    return value


def _count(data: dict, name: str) -> int | None:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        return None
    return value


def _names(data: dict, name: str, key: str) -> tuple[str, ...]:
    items = data.get(name) or []
    if not isinstance(items, list):
        raise MalformedWebhook(f"{name} is not a list")
    return tuple(item[key] for item in items
                 if isinstance(item, dict) and isinstance(item.get(key), str) and item[key] and "\x00" not in item[key])


def _repository(data: dict, *path: str) -> str | None:
    name = _text(data, *path, default=None)
    if name is None:
        return None
    if len(name) > REPOSITORY_MAX:
        raise MalformedWebhook(f"{'.'.join(path)} is too long")
    return name.lower()


def _moment(data: dict, name: str) -> datetime | None:
    """An ISO 8601 time ("2019-05-15T15:20:33Z") or GitLab's "2017-09-15 16:52:00 UTC"; None if absent."""
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MalformedWebhook(f"{name} is not a time")
    text = value.strip().replace(" UTC", "+00:00").replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise MalformedWebhook(f"{name} is not a time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise MalformedWebhook(f"{name} is out of range") from None
