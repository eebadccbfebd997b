"""What each verified webhook delivery does, in the caller's transaction.

    pull request opened, ready for review, reopened    → its review request, filed or opened again
    converted to draft / ready again                    → reminders paused / resumed
    reviewer requested / removed                        → a named reviewer of the request, or not
    review approved / changes requested                 → that review done / the card and the author told
    merged / closed unmerged                            → the request closes as merged / is withdrawn
    check run, workflow run, GitLab pipeline or job     → quality-gate results of the team

A delivery is handled once (its ID is recorded in the same transaction as what it changed); a
pull request's row is locked first, so two deliveries about one pull request happen one after the
other. A repository that is not the sending team's changes nothing. Messages go through the outbox,
and so do reviewer requests on GitHub (when a token is configured), under keys that make a repeat
impossible.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot import metrics, reviews
from bot.core.errors import Invalid
from bot.pull_requests import connections, rules
from bot.pull_requests.rules import Event, MalformedWebhook, PullRequest
from storage import audit, outbox
from storage import metrics as metric_store
from storage import pull_requests as store
from storage import reviews as review_store
from storage.pull_requests import GITHUB, PullRequestLink, WebhookConnection
from storage.reviews import ReviewRequest
from storage.teams import Team

log = logging.getLogger(__name__)

# Outbox methods the sender calls GitHub's REST API for (with GITHUB_TOKEN set).
GITHUB_REVIEWERS = "github.request_reviewers"
GITHUB_FILES = "github.pull_files"  # a pull request's changed paths, for a team whose rules map paths
# GitHub redelivers from its UI for 3 days; a week of delivery IDs is ample.
DELIVERY_RETENTION = timedelta(days=7)


@dataclass
class Handled:
    """What a delivery did, for the answer and the log."""

    status: int = 200  # 202: accepted, but nothing of ours (a repository no team of the sender owns)
    team: str | None = None
    did: list[str] = field(default_factory=list)
    duplicate: bool = False
    gates: dict[str, int] | None = None

    def answer(self) -> dict[str, Any]:
        body: dict[str, Any] = {"team": self.team, "did": self.did}
        if self.duplicate:
            body = {"duplicate": True}
        if self.gates is not None:
            body["gates"] = self.gates
        return body


def handle(session: Session, sender: WebhookConnection, provider: str, event_name: str, payload: Any, *,
           delivery_id: str | None, github_api: bool, now: datetime) -> Handled:
    """Handle one verified delivery from `sender` (the connection whose secret signed it).
    Raises MalformedWebhook for a payload not shaped as the provider documents it."""
    events = (rules.read_github if provider == GITHUB else rules.read_gitlab)(event_name, payload)
    # Per connection: two teams' webhooks on one GitLab project get the same event UUID.
    if delivery_id and not store.first_delivery(session, provider, f"{sender.id}:{delivery_id}"[:100],
                                                sender.workspace_id, now=now):
        return Handled(duplicate=True)
    sender.last_delivery_at = now
    session.add(sender)
    handled = Handled()
    for event in events:
        if event.kind == rules.PING:
            team = connections.owning_team(session, sender, provider, event.repository)
            handled.team, handled.did = (team.name if team else None), ["ping"]
            continue
        team = connections.owning_team(session, sender, provider, event.repository)
        if team is None:
            log.warning("webhook %s %s (%s): repository %s is not one of the sending team's; nothing changed",
                     provider, delivery_id or "-", event.action, event.repository or "(none)")
            return Handled(status=202, did=["unknown_repository"])
        handled.team = team.name
        handled.did.append(_apply(session, team, event, handled, github_api=github_api, now=now))
    return handled


def forget_old_deliveries(session: Session, *, now: datetime) -> int:
    """Forget the IDs of deliveries older than DELIVERY_RETENTION (the clock's events.forget)."""
    return store.forget_deliveries_before(session, now - DELIVERY_RETENTION)


def _apply(session: Session, team: Team, event: Event, handled: Handled, *, github_api: bool,
           now: datetime) -> str:
    if event.kind == rules.GATES:
        handled.gates = record_gates(session, team, event, now=now)
        return "gates"
    if event.pull is None or event.kind == rules.IGNORED:
        return "ignored"
    link = store.pull_request(session, team.workspace_id, event.provider, event.pull.repository, event.pull.number,
                              lock=True)
    if link is None and event.kind not in (*rules.FILES_A_REQUEST, rules.DRAFT):
        return "ignored"  # a pull request we never saw opened, now closed or reviewed: nothing to follow
    if link is None:
        author = event.pull.author
        link = store.add_pull_request(session, workspace_id=team.workspace_id, team_id=team.id,
                                      provider=event.provider, repository_name=event.pull.repository,
                                      number=event.pull.number, author_login=author.lower() if author else None,
                                      state=store.OPEN, now=now)
    request = review_store.get_request(session, team.workspace_id, link.request_id) if link.request_id else None
    did = _act(session, team, event, link, request, github_api=github_api, now=now)
    link.updated_at = now
    session.add(link)
    if github_api and event.provider == GITHUB and link.request_id is not None:
        _request_on_github(session, team, link, now=now)
    return did


def _act(session: Session, team: Team, event: Event, link: PullRequestLink, request: ReviewRequest | None, *,
         github_api: bool, now: datetime) -> str:
    pull, kind = event.pull, event.kind
    actor = connections.person_id(session, team.workspace_id, event.provider, event.actor) or f"{event.provider}:"
    still_draft = pull.draft and (kind != rules.REVIEW_REQUESTED or request is None)  # a draft can name reviewers
    if kind == rules.DRAFT or (kind in rules.FILES_A_REQUEST and still_draft):
        link.state = store.DRAFT
        if request is not None:
            reviews.pause(session, team, request, actor_id=actor, now=now)
        return "draft"
    if kind in rules.FILES_A_REQUEST and request is None:
        link.state = store.OPEN
        ruleset = connections.rules_of(session, team)
        if github_api and event.provider == GITHUB and ruleset.paths and \
                rules.label_specialization(pull, ruleset, team.specializations) is None:
            return _ask_for_files(session, team, event, link, actor=actor, now=now)
        return _file(session, team, event.provider, pull, link, actor=actor, now=now)
    if request is None:
        return "ignored"
    if kind in (rules.READY, rules.REOPENED, rules.OPENED):
        link.state = store.OPEN
        resumed = reviews.resume(session, team, request, actor_id=actor, now=now)
        reopened = kind == rules.REOPENED and reviews.reopen(session, team, request, actor_id=actor, now=now)
        return "reopened" if reopened else "resumed" if resumed else "unchanged"
    if kind == rules.MERGED:
        link.state = store.MERGED
        reviews.close_merged(session, team, request, actor_id=actor, at=event.at or now, now=now)
        return "merged"
    if kind == rules.CLOSED:
        link.state = store.CLOSED
        return "withdrawn" if reviews.close_unmerged(session, team, request, actor_id=actor, now=now) else "unchanged"
    user = connections.user_for(session, team.workspace_id, event.provider, event.reviewer)
    if kind == rules.CHANGES_REQUESTED:
        by = user or connections.person_id(session, team.workspace_id, event.provider, event.reviewer)
        return "changes_requested" if by and reviews.request_changes(session, team, request, by, at=event.at or now,
                                                                  now=now) else "unchanged"
    if user is None:
        return "reviewer_not_linked"
    if kind == rules.REVIEW_REQUESTED:
        named = reviews.name_reviewer(session, team, request, user, source=event.provider, actor_id=actor, now=now)
        return "reviewer_added" if named.assignment else f"reviewer_not_added:{named.why_not}"
    if kind == rules.REVIEW_REQUEST_REMOVED:
        return "reviewer_removed" if reviews.unname_reviewer(session, team, request, user, actor_id=actor,
                                                          now=now) else "unchanged"
    if kind == rules.APPROVED:
        done = reviews.approve(session, team, request, user, at=event.at or now, now=now)
        return "review_done" if done else "not_a_reviewer"
    return "ignored"


def _file(session: Session, team: Team, provider: str, pull: PullRequest, link: PullRequestLink, *, actor: str,
          now: datetime) -> str:
    ruleset = connections.rules_of(session, team)
    # "gitlab:" when the payload does not say who the author is (GitLab names only whoever acted).
    author = connections.person_id(session, team.workspace_id, provider, pull.author) or f"{provider}:"
    named = [user for login in pull.requested
             if (user := connections.user_for(session, team.workspace_id, provider, login))]
    form = reviews.RequestForm(url=pull.url, summary=pull.title or None,
                       specialization=rules.specialization_of(pull, ruleset, team.specializations),
                       size=rules.size_of(pull.changed_lines))
    try:
        filed, _ = reviews.file_pull_request(session, team, form, author_id=author, named=named, source=provider,
                                          actor_id=actor, now=now)
    except Invalid as invalid:  # a link that is no http(s) address, a team without specializations
        raise MalformedWebhook(f"cannot file a review request: {invalid}") from None
    link.request_id = filed.request.id
    return "filed"


def _ask_for_files(session: Session, team: Team, event: Event, link: PullRequestLink, *, actor: str,
                   now: datetime) -> str:
    """The team maps paths and no label decides: the request is filed once GitHub has said which files
    changed (`files_listed`, called by the outbox sender; or without them, when GitHub keeps failing)."""
    asked = outbox.messages(session, team.workspace_id, key_prefix=f"pr:{link.id}:files:")
    if any(row.status == outbox.PENDING for row in asked):
        return "waiting_for_files"
    pull = event.pull
    snapshot = {"title": pull.title, "url": pull.url, "author": pull.author, "draft": pull.draft,
                "labels": list(pull.labels), "changed_lines": pull.changed_lines, "requested": list(pull.requested)}
    outbox.enqueue(session, workspace_id=team.workspace_id, key=f"pr:{link.id}:files:{len(asked) + 1}",
                   method=GITHUB_FILES, now=now,
                   payload={"repository": pull.repository, "number": pull.number, "link": link.id, "actor": actor,
                            "pull": snapshot})
    return "waiting_for_files"


def files_listed(session: Session, message: outbox.OutboxMessage, result: dict | None, *, now: datetime) -> None:
    """GitHub listed a pull request's files (`result`), or gave up (None): file its request now, if it
    is still open and has none, choosing the specialization by its paths when they are known. Called
    by the outbox sender in the transaction that marks the row sent or dead."""
    payload = message.payload
    found = session.get(PullRequestLink, payload.get("link"))
    if found is None or found.workspace_id != message.workspace_id:
        return
    link = store.pull_request(session, found.workspace_id, found.provider, found.repository, found.number, lock=True)
    team = session.get(Team, link.team_id)
    if link.request_id is not None or link.state != store.OPEN or team is None:
        return
    files = tuple(result.get("files", ())) if result else ()
    pull = PullRequest(repository=link.repository, number=link.number, files=files,
                       **{k: tuple(v) if isinstance(v, list) else v for k, v in payload["pull"].items()})
    _file(session, team, link.provider, pull, link, actor=payload.get("actor") or "github:", now=now)
    link.updated_at = now
    session.add(link)
    _request_on_github(session, team, link, now=now)


OUTBOX_RESULTS = {GITHUB_FILES: files_listed}  # what the sender hands a github.* row's answer to


def _request_on_github(session: Session, team: Team, link: PullRequestLink, *, now: datetime) -> None:
    """Ask GitHub to request the reviewers the matrix chose (those named on GitHub already are).
    One outbox row per reviewer, under a key that is never queued twice."""
    request = review_store.get_request(session, team.workspace_id, link.request_id)
    for assignment in review_store.assignments_of(session, request):
        if not assignment.is_active or assignment.requested_on is not None:
            continue
        login = connections.login_of(session, team.workspace_id, GITHUB, assignment.reviewer_id)
        if login is None:
            continue
        outbox.enqueue(session, workspace_id=team.workspace_id, key=f"pr:{link.id}:github_reviewer:{assignment.id}",
                       method=GITHUB_REVIEWERS, now=now,
                       payload={"repository": link.repository, "number": link.number, "reviewers": [login]})


def record_gates(session: Session, team: Team, event: Event, *, now: datetime) -> dict[str, int]:
    """The event's finished runs that are gates, stored as the CI API stores them (a run posted
    again is stored once; one that did not run is counted, not stored)."""
    records = rules.gate_records(event.gates, connections.rules_of(session, team))
    rows, not_run = [], 0
    for index, record in enumerate(records):
        try:
            row = metrics.parse_gate(record, index, now)
        except metrics.Problem as problem:  # a timestamp from the future, a name too long: that run is skipped
            log.warning("webhook %s: check %r of %s not recorded: %s", event.provider, record.get("gate"),
                        event.repository, problem.key)
            continue
        if row is None:
            not_run += 1
            continue
        rows.append(row | {"workspace_id": team.workspace_id, "team_id": team.id})
    stored = metric_store.add_gate_results(session, rows)
    counts = {"stored": stored, "duplicates": len(rows) - stored, "not_run": not_run}
    if stored:
        audit.record(session, workspace_id=team.workspace_id, actor_id=f"{event.provider}:webhook",
                     entity_type="gates", entity_id=team.id, action="ingested", at=now, after=counts)
    return counts


# --- linking a login ---------------------------------------------------------------------------------------
def link_login(session: Session, workspace_id: str, provider: str, login: str, user_id: str, *, actor_id: str,
               workspace_admin: bool, now: datetime) -> tuple[connections.Linked, list[ReviewRequest]]:
    """Link a login; the open requests of that login's pull requests become the person's."""
    linked = connections.link_login(session, workspace_id, provider, login, user_id, actor_id=actor_id,
                                    workspace_admin=workspace_admin, now=now)
    moved = []
    if linked.changed:
        for link in store.pull_requests_by_author(session, workspace_id, provider, linked.login):
            request = review_store.get_request(session, workspace_id, link.request_id)
            team = session.get(Team, link.team_id)
            if request is not None and team is not None and request.is_active and \
                    reviews.set_author(session, team, request, user_id, actor_id=actor_id, now=now):
                moved.append(request)
    return linked, moved
