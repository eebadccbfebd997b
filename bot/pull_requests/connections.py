"""A team's connection to GitHub or GitLab: its webhook secret, its repositories, its rules, and
which logins are which Slack people.

**Secrets.** GitHub signs each delivery with HMAC-SHA256 keyed by the webhook's secret, so checking
a signature needs the secret itself, not a hash of it. The secret is therefore never stored: it is
derived from the server's key (`WEBHOOK_SECRET_KEY`, else the Slack signing secret) and a random salt
kept per connection, `qmswh_` + HMAC-SHA256(key, salt). A copy of the database alone gives no
secret; rotating draws a new salt, and the old secret stops working at once. The secret's SHA-256 is
kept too: GitLab sends its token as is, and it is found by that hash.

**Logins** ignore case on both providers, so they are kept lower-cased. A person may link themselves;
a team lead, engineering manager or workspace admin may link anyone of their team.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlmodel import Session

from bot import teams
from bot.core.errors import Refusal
from bot.pull_requests.rules import Rules
from storage import audit
from storage import pull_requests as store
from storage import teams as team_store
from storage.pull_requests import GITHUB, GITLAB, PROVIDERS, LoginLink, PullRequestRules, Repository, WebhookConnection
from storage.teams import Team

SECRET_START = "qmswh_"
PROVIDER_NAMES = {GITHUB: "GitHub", GITLAB: "GitLab"}
HOSTS = {GITHUB: "github.com", GITLAB: "gitlab.com"}
# GitHub: owner/name. GitLab: group/subgroup/…/project. Letters, digits, . _ - only, no leading dot.
SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}"
REPOSITORY_NAME = {GITHUB: re.compile(rf"^{SEGMENT}/{SEGMENT}$"), GITLAB: re.compile(rf"^{SEGMENT}(?:/{SEGMENT}){{1,20}}$")}
LOGIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
REPOSITORIES_PER_TEAM = 100


# --- secrets ---------------------------------------------------------------------------------------
def secret_for(key: str, salt: str) -> str:
    digest = hmac.new(key.encode(), f"qms-webhook:{salt}".encode(), hashlib.sha256).digest()
    return SECRET_START + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def connection(session: Session, team: Team, provider: str) -> WebhookConnection | None:
    return store.connection_of(session, team.workspace_id, team.id, provider)


def connect(session: Session, team: Team, provider: str, *, key: str, actor_id: str, workspace_admin: bool,
            now: datetime) -> tuple[WebhookConnection, str | None]:
    """The team's connection; created with a new secret on first use. The secret is returned only
    then (it is shown once); afterwards None."""
    require_connector(session, team, actor_id, workspace_admin=workspace_admin)
    existing = store.connection_of(session, team.workspace_id, team.id, provider, lock=True)
    if existing is not None:
        return existing, None
    salt = secrets.token_hex(16)
    secret = secret_for(key, salt)
    row = WebhookConnection(workspace_id=team.workspace_id, team_id=team.id, provider=provider, salt=salt,
                            secret_hash=hash_secret(secret), created_by=actor_id, created_at=now)
    session.add(row)
    session.flush()
    audit.record(session, workspace_id=team.workspace_id, actor_id=actor_id, entity_type="webhook",
                 entity_id=row.id, action="connected", after={"team": team.id, "provider": provider}, at=now)
    return row, secret


def rotate(session: Session, team: Team, provider: str, *, key: str, actor_id: str, workspace_admin: bool,
           now: datetime) -> str:
    """A new secret for the team's webhook; the old one stops working now."""
    require_connector(session, team, actor_id, workspace_admin=workspace_admin)
    row = store.connection_of(session, team.workspace_id, team.id, provider, lock=True)
    if row is None:
        return connect(session, team, provider, key=key, actor_id=actor_id, workspace_admin=workspace_admin,
                       now=now)[1]
    row.salt = secrets.token_hex(16)
    secret = secret_for(key, row.salt)
    row.secret_hash, row.rotated_at = hash_secret(secret), now
    session.add(row)
    audit.record(session, workspace_id=team.workspace_id, actor_id=actor_id, entity_type="webhook",
                 entity_id=row.id, action="rotated", after={"team": team.id, "provider": provider}, at=now)
    return secret


def github_sender(session: Session, body: bytes, signature: str, *, key: str) -> WebhookConnection | None:
    """The connection whose secret signed `body` (X-Hub-Signature-256: sha256=<hex>), or None.
    Each connection's signature is computed and compared in constant time."""
    if not signature.startswith("sha256=") or len(signature) != 71:
        return None
    found = None
    for row in store.connections(session, GITHUB):
        expected = "sha256=" + hmac.new(secret_for(key, row.salt).encode(), body, hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, signature) and found is None:
            found = row  # no early return: the time taken does not say which connection matched
    return found


def gitlab_sender(session: Session, token: str) -> WebhookConnection | None:
    """The GitLab connection whose secret is `token` (X-Gitlab-Token), or None."""
    if not token.startswith(SECRET_START) or len(token) > 100:
        return None
    wanted = hash_secret(token)
    row = store.connection_by_hash(session, wanted)
    if row is None or row.provider != GITLAB or not hmac.compare_digest(row.secret_hash, wanted):
        return None
    return row


def require_connector(session: Session, team: Team, user_id: str, *, workspace_admin: bool) -> None:
    if not teams.may_manage(session, team, user_id, workspace_admin=workspace_admin):
        raise Refusal("pull_requests.only_managers_may_connect", team=team.name)


# --- repositories ------------------------------------------------------------------------------------
def repository_name(provider: str, text: str) -> str:
    """owner/name from what people paste: the name, or its https://github.com/… address (a trailing
    .git, a path after it such as /pull/12 on GitHub, and Slack's <…> around a link are dropped)."""
    raw = text.strip().strip("<>").split("|", 1)[0].strip()
    if "://" in raw:
        parts = urlsplit(raw)
        raw = parts.path.strip("/")
        if provider == GITHUB:
            raw = "/".join(raw.split("/")[:2])
        elif "/-/" in f"/{raw}/":
            raw = raw.split("/-/", 1)[0]
    raw = raw.removesuffix(".git").strip("/")
    if not REPOSITORY_NAME[provider].match(raw) or len(raw) > store.REPOSITORY_MAX:
        raise Refusal("pull_requests.bad_repository", provider=provider, text=text.strip()[:100])
    return raw.lower()


def add_repository(session: Session, team: Team, provider: str, text: str, *, actor_id: str, workspace_admin: bool,
                   now: datetime) -> tuple[Repository, bool]:
    """The repository, now the team's (True when it was not before). One team owns a repository."""
    require_connector(session, team, actor_id, workspace_admin=workspace_admin)
    name = repository_name(provider, text)
    existing = store.repository(session, team.workspace_id, provider, name)
    if existing is not None:
        if existing.team_id != team.id:
            owner = team_store.get_team(session, team.workspace_id, existing.team_id)
            raise Refusal("pull_requests.repository_taken", repository=name, team=owner.name if owner else "?")
        return existing, False
    if len(store.repositories(session, team.workspace_id, team.id)) >= REPOSITORIES_PER_TEAM:
        raise Refusal("pull_requests.too_many_repositories", limit=REPOSITORIES_PER_TEAM)
    row = Repository(workspace_id=team.workspace_id, team_id=team.id, provider=provider, name=name,
                     added_by=actor_id, added_at=now)
    session.add(row)
    session.flush()
    audit.record(session, workspace_id=team.workspace_id, actor_id=actor_id, entity_type="webhook",
                 entity_id=team.id, action="repository_added", after={"provider": provider, "repository": name},
                 at=now)
    return row, True


def remove_repository(session: Session, team: Team, provider: str, text: str, *, actor_id: str,
                      workspace_admin: bool, now: datetime) -> str:
    require_connector(session, team, actor_id, workspace_admin=workspace_admin)
    name = repository_name(provider, text)
    existing = store.repository(session, team.workspace_id, provider, name)
    if existing is None or existing.team_id != team.id:
        raise Refusal("pull_requests.not_our_repository", repository=name, team=team.name)
    store.remove_repository(session, existing)
    audit.record(session, workspace_id=team.workspace_id, actor_id=actor_id, entity_type="webhook",
                 entity_id=team.id, action="repository_removed", before={"provider": provider, "repository": name},
                 at=now)
    return name


def repositories(session: Session, team: Team, provider: str | None = None) -> list[Repository]:
    """The team's repositories (of one provider, given one), by provider and name."""
    return [row for row in store.repositories(session, team.workspace_id, team.id)
            if provider is None or row.provider == provider]


def repository_owner(session: Session, workspace_id: str, provider: str, name: str) -> Team | None:
    """The team of the workspace that owns a repository (a cleaned name), or None."""
    row = store.repository(session, workspace_id, provider, name)
    return team_store.get_team(session, workspace_id, row.team_id) if row is not None else None


def owning_team(session: Session, sender: WebhookConnection, provider: str, repository: str | None) -> Team | None:
    """The team a delivery is for: the sender's, if the repository is one of that team's. A
    repository of another team, or of none, is not the sender's to drive."""
    if repository is None:
        return None
    row = store.repository(session, sender.workspace_id, provider, repository)
    if row is None or row.team_id != sender.team_id:
        return None
    return team_store.get_team(session, sender.workspace_id, sender.team_id)


# --- rules -------------------------------------------------------------------------------------------
def rules_of(session: Session, team: Team) -> Rules:
    row = store.rules_of(session, team.workspace_id, team.id)
    if row is None:
        return Rules()
    return Rules(labels=dict(row.labels), paths=dict(row.paths), gates=dict(row.gates),
                 default_specialization=row.default_specialization)


def save_rules(session: Session, team: Team, rules: Rules, *, actor_id: str, now: datetime) -> bool:
    """Make the team's rules these (checked by the caller); True, and audited, when they changed."""
    before = rules_of(session, team)
    if before == rules:
        return False
    row = store.rules_of(session, team.workspace_id, team.id) or PullRequestRules(
        team_id=team.id, workspace_id=team.workspace_id, labels={}, paths={}, gates={})
    row.labels, row.paths, row.gates = dict(rules.labels), dict(rules.paths), dict(rules.gates)
    row.default_specialization = rules.default_specialization
    session.add(row)
    audit.record(session, workspace_id=team.workspace_id, actor_id=actor_id, entity_type="team", entity_id=team.id,
                 action="pull_request_rules_changed", before=before.__dict__, after=rules.__dict__, at=now)
    return True


# --- logins ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Linked:
    provider: str
    login: str
    user_id: str
    before: str | None  # who had the login before (None: nobody)

    @property
    def changed(self) -> bool:
        return self.before != self.user_id


def clean_login(provider: str, text: str) -> str:
    login = text.strip().removeprefix("@")
    if not LOGIN.match(login):
        raise Refusal("pull_requests.bad_login", provider=provider, text=text.strip()[:100])
    return login.lower()


def link_login(session: Session, workspace_id: str, provider: str, text: str, user_id: str, *, actor_id: str,
               workspace_admin: bool, now: datetime) -> Linked:
    """Link a login to a Slack person. Someone may link themselves to a login nobody has; linking
    someone else, or taking a login linked to someone else, is for their team leads, engineering
    managers and workspace admins."""
    login = clean_login(provider, text)
    existing = store.link_of(session, workspace_id, provider, login)
    before = existing.user_id if existing is not None else None
    if before == user_id:
        return Linked(provider, login, user_id, before)
    for affected in {user_id, before} - {actor_id, None}:
        require_lead_of(session, workspace_id, affected, actor_id, workspace_admin=workspace_admin)
    if existing is None:
        existing = LoginLink(workspace_id=workspace_id, provider=provider, login=login, user_id=user_id,
                             linked_by=actor_id, linked_at=now)
    existing.user_id, existing.linked_by, existing.linked_at = user_id, actor_id, now
    session.add(existing)
    audit.record(session, workspace_id=workspace_id, actor_id=actor_id, entity_type="login_link",
                 entity_id=f"{provider}:{login}", action="linked", before={"user": before} if before else None,
                 after={"user": user_id}, at=now)
    return Linked(provider, login, user_id, before)


def unlink_login(session: Session, workspace_id: str, provider: str, text: str, *, actor_id: str,
                 workspace_admin: bool, now: datetime) -> LoginLink:
    login = clean_login(provider, text)
    existing = store.link_of(session, workspace_id, provider, login)
    if existing is None:
        raise Refusal("pull_requests.login_not_linked", provider=provider, login=login)
    if existing.user_id != actor_id:
        require_lead_of(session, workspace_id, existing.user_id, actor_id, workspace_admin=workspace_admin)
    store.remove_link(session, existing)
    audit.record(session, workspace_id=workspace_id, actor_id=actor_id, entity_type="login_link",
                 entity_id=f"{provider}:{login}", action="unlinked", before={"user": existing.user_id}, at=now)
    return existing


def require_lead_of(session: Session, workspace_id: str, person: str, actor_id: str, *, workspace_admin: bool) -> None:
    """The actor leads or manages a team the person is in (any team, for someone in none), or is an admin."""
    if workspace_admin:
        return
    theirs = team_store.teams_of_user(session, workspace_id, person) or team_store.teams(session, workspace_id)
    if not any(teams.may_manage(session, team, actor_id, workspace_admin=False) for team in theirs):
        raise Refusal("pull_requests.only_leads_link_others", person=person)


def user_for(session: Session, workspace_id: str, provider: str, login: str | None) -> str | None:
    """The Slack person a login is linked to, or None."""
    if not login:
        return None
    link = store.link_of(session, workspace_id, provider, login.lower())
    return link.user_id if link is not None else None


def person_id(session: Session, workspace_id: str, provider: str, login: str | None) -> str | None:
    """The Slack person a login is, or "github:login" for someone nobody has linked yet."""
    if not login:
        return None
    return user_for(session, workspace_id, provider, login) or f"{provider}:{login}"[:64]


def login_of(session: Session, workspace_id: str, provider: str, user_id: str) -> str | None:
    """A person's login on the provider (the first, if they linked several)."""
    return next((link.login for link in store.links_of_user(session, workspace_id, user_id)
                 if link.provider == provider), None)


def links_of(session: Session, workspace_id: str, user_id: str) -> list[LoginLink]:
    return store.links_of_user(session, workspace_id, user_id)


def links_of_people(session: Session, workspace_id: str, user_ids: set[str]) -> list[LoginLink]:
    return store.links_of_users(session, workspace_id, user_ids)


def provider_named(word: str) -> str | None:
    word = word.strip().lower()
    return word if word in PROVIDERS else None
