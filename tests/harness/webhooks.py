"""GitHub and GitLab deliveries for tests: teams connected through the domain, payloads written as
the providers document them, GitHub's own example payloads read from a local mirror of
octokit/webhooks, and deliveries signed as the providers sign them, posted over HTTP.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app import webhook_requests
from bot.pull_requests import connections
from bot.pull_requests import Rules
from storage import teams as team_store
from storage.db import Database
from storage.teams import Team
from tests.harness.bot import SIGNING_SECRET, BotUnderTest, user_id

OCTOKIT_ENV = "QMS_OCTOKIT_WEBHOOKS"
OCTOKIT_DEFAULT = "/work/.mirror/octokit+webhooks/repo"  # a git directory, as the library's `fetch` leaves it
SETUP_TIME = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
REPO = "acme/payments-api"
PROJECT = "acme/platform/payments-web"


# --- connecting a team ---------------------------------------------------------------------------
def connect(db: Database, team: Team, provider: str = "github", repositories=(REPO,), *,
            rules: Rules | None = None, key: str = SIGNING_SECRET) -> str:
    """Connect a team as `/qms setup github add …` would; returns the webhook secret."""
    with db.transaction() as session:
        team = team_store.get_team(session, team.workspace_id, team.id)
        _, secret = connections.connect(session, team, provider, key=key, actor_id="UALICE", workspace_admin=True,
                                        now=SETUP_TIME)
        if secret is None:
            row = connections.connection(session, team, provider)
            secret = connections.secret_for(key, row.salt)
        for name in repositories:
            connections.add_repository(session, team, provider, name, actor_id="UALICE", workspace_admin=True,
                                       now=SETUP_TIME)
        if rules is not None:
            connections.save_rules(session, team, rules, actor_id="UALICE", now=SETUP_TIME)
    return secret


def link(db: Database, provider: str, login: str, person: str, workspace_id: str = "T0TEST") -> None:
    with db.transaction() as session:
        connections.link_login(session, workspace_id, provider, login, user_id(person), actor_id="UALICE",
                               workspace_admin=True, now=SETUP_TIME)


# --- delivering ------------------------------------------------------------------------------------
def as_body(payload: Any) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode()


def deliver_github(bot: BotUnderTest, secret: str, payload: Any, event: str | None = None, *,
                   delivery: str | None = None, wait: bool = True):
    body = as_body(payload)
    event = event or webhook_requests.event_of(json.loads(body), "github")
    return bot.post("/webhooks/github", body, webhook_requests.github_headers(secret, body, event=event,
                                                                              delivery=delivery), wait=wait)


def deliver_gitlab(bot: BotUnderTest, secret: str, payload: Any, event: str | None = None, *,
                   delivery: str | None = None, wait: bool = True):
    body = as_body(payload)
    event = event or webhook_requests.event_of(json.loads(body), "gitlab")
    return bot.post("/webhooks/gitlab", body, webhook_requests.gitlab_headers(secret, event=event, delivery=delivery),
                    wait=wait)


# --- GitHub's own examples -------------------------------------------------------------------------
def octokit_mirror() -> Path:
    return Path(os.environ.get(OCTOKIT_ENV, OCTOKIT_DEFAULT))


def octokit_payload(name: str) -> bytes:
    """payload-examples/api.github.com/<name> of octokit/webhooks, read from the mirror at test time
    (never copied into this repository). Skips the test when the mirror is not there."""
    mirror = octokit_mirror()
    if not (mirror / "HEAD").exists() and not (mirror / ".git").exists():
        pytest.skip(f"no octokit/webhooks mirror at {mirror} (set {OCTOKIT_ENV} to a clone or git directory of "
                    f"github.com/octokit/webhooks): GitHub's example payloads are read from it")
    found = _git_show(mirror, f"payload-examples/api.github.com/{name}")
    if found is None:
        pytest.skip(f"the octokit/webhooks mirror at {mirror} has no payload-examples/api.github.com/{name}")
    return found


@functools.lru_cache(maxsize=None)
def _git_show(mirror: Path, path: str) -> bytes | None:
    """One `git show` per example for the whole run, however many tests read it."""
    git_dir = mirror / ".git" if (mirror / ".git").exists() else mirror
    found = subprocess.run(["git", f"--git-dir={git_dir}", "show", f"HEAD:{path}"], capture_output=True, timeout=30)
    return found.stdout if found.returncode == 0 else None


# --- payloads as GitHub documents them (docs.github.com: webhook events and payloads) ------------------
def github_pull(action: str, *, number: int = 12, repo: str = REPO, author: str = "dave-gh", draft: bool = False,
                labels=("backend",), additions: int = 40, deletions: int = 12, requested=(), merged: bool = False,
                title: str = "Retry card payments on 502 from the PSP", reviewer: str | None = None,
                at: str = "2026-03-02T10:00:00Z") -> dict:
    """A `pull_request` delivery: opened, ready_for_review, converted_to_draft, closed, reopened,
    review_requested (with `reviewer`), review_request_removed, …"""
    payload = {
        "action": action, "number": number,
        "pull_request": {
            "number": number, "html_url": f"https://github.com/{repo}/pull/{number}", "title": title,
            "state": "closed" if action == "closed" else "open", "draft": draft, "merged": merged,
            "user": {"login": author, "type": "User"}, "labels": [{"name": name} for name in labels],
            "additions": additions, "deletions": deletions, "changed_files": 3,
            "requested_reviewers": [{"login": login} for login in requested], "requested_teams": [],
            "created_at": "2026-03-02T09:55:00Z", "updated_at": at,
            "merged_at": at if merged else None, "closed_at": at if action == "closed" else None,
        },
        "repository": {"full_name": repo, "name": repo.split("/")[1], "owner": {"login": repo.split("/")[0]}},
        "sender": {"login": author},
    }
    if reviewer is not None:
        payload["requested_reviewer"] = {"login": reviewer}
    return payload


def github_review(state: str, reviewer: str, *, number: int = 12, repo: str = REPO,
                  submitted_at: str = "2026-03-02T12:30:00Z") -> dict:
    """A `pull_request_review` delivery, action submitted: state approved, changes_requested or commented."""
    pull = github_pull("submitted", number=number, repo=repo)
    return {"action": "submitted", "review": {"id": 80, "user": {"login": reviewer}, "state": state,
                                              "submitted_at": submitted_at, "body": None},
            "pull_request": pull["pull_request"], "repository": pull["repository"], "sender": {"login": reviewer}}


def github_check_run(name: str, conclusion: str | None, *, run_id: int = 4001, repo: str = REPO) -> dict:
    return {"action": "completed",
            "check_run": {"id": run_id, "name": name, "status": "completed", "conclusion": conclusion,
                          "head_sha": "9f2c1ab", "started_at": "2026-03-02T10:00:00Z",
                          "completed_at": "2026-03-02T10:05:12Z", "check_suite": {"head_branch": "retry-502"},
                          "pull_requests": [{"number": 12}]},
            "repository": {"full_name": repo}, "sender": {"login": "github-actions[bot]"}}


# --- payloads as GitLab documents them (docs.gitlab.com: webhook events) ---------------------------
def gitlab_merge_request(action: str, *, iid: int = 3, project: str = PROJECT, user: str = "dave-gl",
                         user_id_: int = 51, author_id: int = 51, draft: bool = False, labels=("backend",),
                         reviewers=(), changes: dict | None = None, title: str = "Show the refund state") -> dict:
    """An `object_kind: merge_request` delivery (X-Gitlab-Event: Merge Request Hook)."""
    return {
        "object_kind": "merge_request", "event_type": "merge_request",
        "user": {"id": user_id_, "name": user.title(), "username": user},
        "project": {"id": 14, "name": project.rsplit("/", 1)[1], "path_with_namespace": project,
                    "web_url": f"https://gitlab.example.com/{project}"},
        "object_attributes": {
            "id": 99, "iid": iid, "title": title, "author_id": author_id, "state": "opened", "action": action,
            "draft": draft, "work_in_progress": draft, "created_at": "2026-03-02T10:00:00Z",
            "updated_at": "2026-03-02 10:00:00 UTC", "url": f"https://gitlab.example.com/{project}/-/merge_requests/{iid}",
            "labels": [{"id": 206, "title": name} for name in labels],
        },
        "labels": [{"id": 206, "title": name} for name in labels],
        "changes": changes or {},
        "reviewers": [{"id": 60 + n, "username": login} for n, login in enumerate(reviewers)],
    }


def gitlab_pipeline(status: str, builds: list[tuple[int, str, str]], *, project: str = PROJECT) -> dict:
    """An `object_kind: pipeline` delivery; `builds`: (job id, name, status)."""
    return {
        "object_kind": "pipeline",
        "object_attributes": {"id": 31, "iid": 3, "ref": "refund-state", "sha": "bcbb5ec396a2",
                              "status": status, "finished_at": "2026-03-02 10:26:29 UTC"},
        "project": {"id": 14, "path_with_namespace": project},
        "user": {"id": 1, "username": "root"},
        "builds": [{"id": job, "stage": "test", "name": name, "status": job_status,
                    "started_at": "2026-03-02 10:26:12 UTC", "finished_at": "2026-03-02 10:26:29 UTC"}
                   for job, name, job_status in builds],
    }
