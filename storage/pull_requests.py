"""Pull requests and merge requests: which team a repository belongs to, each team's webhook
connection, who is who on GitHub and GitLab, the deliveries already handled, and which review
request follows which pull request.

A webhook secret is never stored: a connection keeps a random salt, from which the secret is
derived with the server's key (bot.pull_requests.connections), and the secret's SHA-256, by which
GitLab's token is found. A GitHub signature cannot be looked up, so `connections` lists a
provider's connections for the caller to try each one's secret.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, delete
from sqlmodel import Field, Session, SQLModel, select

from storage.db import dialect_insert
from storage.types import UTCDateTime

GITHUB, GITLAB = "github", "gitlab"
PROVIDERS = (GITHUB, GITLAB)
REPOSITORY_MAX = 255  # GitLab's group/subgroup/project paths can be long
LOGIN_MAX = 100
# A pull request's state, as we last heard it.
OPEN, DRAFT, CLOSED, MERGED = "open", "draft", "closed", "merged"


class WebhookConnection(SQLModel, table=True):
    """A team's webhook for one provider: the salt its secret is derived from, and the secret's hash."""

    __tablename__ = "webhook_connection"
    __table_args__ = (UniqueConstraint("team_id", "provider", name="uq_webhook_connection_team"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE")
    provider: str = Field(max_length=16)  # github | gitlab
    salt: str = Field(max_length=64)  # random; a new one on every rotation
    secret_hash: str = Field(max_length=64, unique=True)  # SHA-256 of the secret (GitLab sends it as is)
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)
    rotated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_delivery_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Repository(SQLModel, table=True):
    """A repository (GitHub) or project (GitLab) that belongs to one team of a workspace."""

    __tablename__ = "pr_repository"
    __table_args__ = (UniqueConstraint("workspace_id", "provider", "name", name="uq_pr_repository_name"),
                      Index("ix_pr_repository_team", "workspace_id", "team_id"))

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE")
    provider: str = Field(max_length=16)
    name: str = Field(max_length=REPOSITORY_MAX)  # owner/repo, lower-cased: GitHub's names ignore case
    added_by: str = Field(max_length=64)
    added_at: datetime = Field(sa_type=UTCDateTime)


class PullRequestRules(SQLModel, table=True):
    """How a team reads its pull requests: labels and paths to specializations, check names to gates."""

    __tablename__ = "pr_rules"

    team_id: int = Field(foreign_key="team.id", primary_key=True, ondelete="CASCADE")
    workspace_id: str = Field(max_length=32)
    labels: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # {"backend": "Backend/API"}
    paths: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # {"web/": "Frontend/UX"}
    gates: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # {"CI / unit": "unit"}
    default_specialization: str | None = Field(default=None, max_length=80)


class LoginLink(SQLModel, table=True):
    """A GitHub or GitLab login that is a Slack person of the workspace."""

    __tablename__ = "login_link"
    __table_args__ = (Index("ix_login_link_user", "workspace_id", "user_id"),)

    workspace_id: str = Field(max_length=32, primary_key=True)
    provider: str = Field(max_length=16, primary_key=True)
    login: str = Field(max_length=LOGIN_MAX, primary_key=True)  # lower-cased: logins ignore case
    user_id: str = Field(max_length=32)
    linked_by: str = Field(max_length=64)
    linked_at: datetime = Field(sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    """A delivery handled once: GitHub redelivers on a timeout and from its UI with the same ID."""

    __tablename__ = "webhook_delivery"

    provider: str = Field(max_length=16, primary_key=True)
    delivery_id: str = Field(max_length=100, primary_key=True)
    workspace_id: str = Field(max_length=32)
    received_at: datetime = Field(sa_type=UTCDateTime, index=True)


class PullRequestLink(SQLModel, table=True):
    """One pull request and the review request that follows it (None while it is a draft)."""

    __tablename__ = "pull_request_link"
    __table_args__ = (UniqueConstraint("workspace_id", "provider", "repository", "number", name="uq_pull_request"),
                      Index("ix_pull_request_link_request", "workspace_id", "request_id"),
                      Index("ix_pull_request_link_author", "workspace_id", "provider", "author_login"))

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE")
    provider: str = Field(max_length=16)
    repository: str = Field(max_length=REPOSITORY_MAX)
    number: int
    request_id: int | None = Field(default=None, foreign_key="review_request.id", ondelete="SET NULL")
    author_login: str | None = Field(default=None, max_length=LOGIN_MAX)
    state: str = Field(default=OPEN, max_length=8)  # open | draft | closed | merged
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


# --- connections -----------------------------------------------------------------------------------
def connection_of(session: Session, workspace_id: str, team_id: int, provider: str, *,
                  lock: bool = False) -> WebhookConnection | None:
    query = select(WebhookConnection).where(WebhookConnection.workspace_id == workspace_id,
                                            WebhookConnection.team_id == team_id,
                                            WebhookConnection.provider == provider)
    return session.exec(query.with_for_update() if lock else query).first()


def connections(session: Session, provider: str) -> list[WebhookConnection]:
    """Every team's connection to a provider, across workspaces: a webhook's signature names no team,
    so each one's secret is tried (the one lookup that cannot start from a workspace)."""
    query = select(WebhookConnection).where(WebhookConnection.provider == provider).order_by(WebhookConnection.id)
    return list(session.exec(query))


def connection_by_hash(session: Session, secret_hash: str) -> WebhookConnection | None:
    """The connection whose secret has this SHA-256 (GitLab sends the secret itself)."""
    return session.exec(select(WebhookConnection).where(WebhookConnection.secret_hash == secret_hash)).first()


# --- repositories --------------------------------------------------------------------------------------
def repositories(session: Session, workspace_id: str, team_id: int) -> list[Repository]:
    query = (select(Repository).where(Repository.workspace_id == workspace_id, Repository.team_id == team_id)
             .order_by(Repository.provider, Repository.name))
    return list(session.exec(query))


def repository(session: Session, workspace_id: str, provider: str, name: str) -> Repository | None:
    query = select(Repository).where(Repository.workspace_id == workspace_id, Repository.provider == provider,
                                     Repository.name == name)
    return session.exec(query).first()


def repository_everywhere(session: Session, provider: str, name: str) -> list[Repository]:
    """The teams of every workspace that own a repository so named: for `qms-bot webhook replay`, which
    signs a payload file as the team's webhook would and knows no workspace."""
    query = (select(Repository).where(Repository.provider == provider, Repository.name == name)
             .order_by(Repository.workspace_id))
    return list(session.exec(query))


def remove_repository(session: Session, row: Repository) -> None:
    session.exec(delete(Repository).where(Repository.workspace_id == row.workspace_id, Repository.id == row.id))


# --- rules -------------------------------------------------------------------------------------------
def rules_of(session: Session, workspace_id: str, team_id: int) -> PullRequestRules | None:
    found = session.get(PullRequestRules, team_id)
    return found if found is not None and found.workspace_id == workspace_id else None


# --- logins ------------------------------------------------------------------------------------------
def link_of(session: Session, workspace_id: str, provider: str, login: str) -> LoginLink | None:
    return session.get(LoginLink, (workspace_id, provider, login))


def links_of_user(session: Session, workspace_id: str, user_id: str) -> list[LoginLink]:
    query = (select(LoginLink).where(LoginLink.workspace_id == workspace_id, LoginLink.user_id == user_id)
             .order_by(LoginLink.provider, LoginLink.login))
    return list(session.exec(query))


def links_of_users(session: Session, workspace_id: str, user_ids: set[str]) -> list[LoginLink]:
    if not user_ids:
        return []
    query = (select(LoginLink).where(LoginLink.workspace_id == workspace_id, LoginLink.user_id.in_(user_ids))
             .order_by(LoginLink.provider, LoginLink.login))
    return list(session.exec(query))


def remove_link(session: Session, link: LoginLink) -> None:
    session.exec(delete(LoginLink).where(LoginLink.workspace_id == link.workspace_id,
                                         LoginLink.provider == link.provider, LoginLink.login == link.login))


# --- deliveries --------------------------------------------------------------------------------------
def first_delivery(session: Session, provider: str, delivery_id: str, workspace_id: str, *, now: datetime) -> bool:
    """Record a delivery as handled; False when it was handled before. A concurrent copy of the same
    delivery waits here for the first one's transaction, then gets False."""
    table = WebhookDelivery.__table__
    statement = (dialect_insert(session, table)
                 .values(provider=provider, delivery_id=delivery_id, workspace_id=workspace_id, received_at=now)
                 .on_conflict_do_nothing()
                 .returning(table.c.delivery_id))
    return session.execute(statement).scalar_one_or_none() is not None


def forget_deliveries_before(session: Session, cutoff: datetime) -> int:
    return session.execute(delete(WebhookDelivery).where(WebhookDelivery.received_at < cutoff)).rowcount


# --- pull requests -------------------------------------------------------------------------------------
def pull_request(session: Session, workspace_id: str, provider: str, repository_name: str, number: int, *,
                 lock: bool = False) -> PullRequestLink | None:
    query = select(PullRequestLink).where(PullRequestLink.workspace_id == workspace_id,
                                          PullRequestLink.provider == provider,
                                          PullRequestLink.repository == repository_name,
                                          PullRequestLink.number == number)
    return session.exec(query.with_for_update() if lock else query).first()


def add_pull_request(session: Session, *, workspace_id: str, team_id: int, provider: str, repository_name: str,
                     number: int, author_login: str | None, state: str, now: datetime) -> PullRequestLink:
    """The pull request's row, locked: inserted if new (two deliveries about one new pull request
    racing here get one row: the second waits for the first's commit, then finds it)."""
    table = PullRequestLink.__table__
    session.execute(dialect_insert(session, table)
                    .values(workspace_id=workspace_id, team_id=team_id, provider=provider,
                            repository=repository_name, number=number, author_login=author_login, state=state,
                            created_at=now, updated_at=now)
                    .on_conflict_do_nothing(index_elements=[table.c.workspace_id, table.c.provider,
                                                            table.c.repository, table.c.number]))
    return pull_request(session, workspace_id, provider, repository_name, number, lock=True)


def pull_request_of(session: Session, workspace_id: str, request_id: int) -> PullRequestLink | None:
    query = select(PullRequestLink).where(PullRequestLink.workspace_id == workspace_id,
                                          PullRequestLink.request_id == request_id)
    return session.exec(query).first()


def pull_requests_by_author(session: Session, workspace_id: str, provider: str,
                            author_login: str) -> list[PullRequestLink]:
    query = (select(PullRequestLink)
             .where(PullRequestLink.workspace_id == workspace_id, PullRequestLink.provider == provider,
                    PullRequestLink.author_login == author_login, PullRequestLink.request_id.is_not(None))
             .order_by(PullRequestLink.id))
    return list(session.exec(query))
