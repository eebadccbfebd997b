"""Any number of workspaces (OAuth mode): installing from Slack, each workspace's token, uninstalls.

Selected when SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET are set; otherwise the one
SLACK_BOT_TOKEN serves the one workspace, as before. Installations live in slack_sdk's tables in our
database (created by migration 0015): Bolt's OAuth flow writes them (/slack/install,
/slack/oauth_redirect) and authorizes each request with them; the outbox sender and the clock look a
workspace's token up here (`Workspaces.client_for`), cached for a minute at most and never past the
token's expiry, and forgotten at once when the workspace uninstalls or its tokens are revoked.

Token rotation: an installation with a refresh token has its bot token refreshed (oauth.v2.access,
grant_type=refresh_token) when it has less than ROTATE_BEFORE left, by whoever needs it first.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta

from slack_bolt import App
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator

from bot.core.settings import Settings
from bot.core.timeutil import utcnow
from storage import workspaces as store
from storage.db import Database

log = logging.getLogger(__name__)

SCOPES = ["commands", "chat:write", "chat:write.public", "im:write", "users:read", "channels:read",
          "channels:manage", "channels:join", "groups:read", "files:write"]
INSTALL_PATH, REDIRECT_PATH = "/slack/install", "/slack/oauth_redirect"
CACHE_FOR = 60.0  # seconds a looked-up token is reused before the database is asked again
ROTATE_BEFORE = timedelta(minutes=10)  # refresh a rotating token when less than this is left
STATE_EXPIRES = 600


class SignedStateStore(SQLAlchemyOAuthStateStore):
    """slack_sdk's state store, each state signed with SLACK_STATE_SECRET: a forged or altered state is
    refused before the database is asked. The stored state is the signed one."""

    def __init__(self, secret: str, **kwargs):
        super().__init__(**kwargs)
        self._secret = secret.encode()

    def _sign(self, value: str) -> str:
        return hmac.new(self._secret, value.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, *args, **kwargs) -> str:
        value = secrets.token_urlsafe(24)
        state = f"{value}.{self._sign(value)}"
        expires = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=self.expiration_seconds)
        with self.engine.begin() as conn:
            conn.execute(self.oauth_states.insert(), {"state": state, "expire_at": expires})
        return state

    def consume(self, state: str) -> bool:
        value, _, signature = state.rpartition(".")
        if not value or not hmac.compare_digest(signature.encode(), self._sign(value).encode()):
            return False
        return super().consume(state)


class Installations(SQLAlchemyInstallationStore):
    """slack_sdk's installation store; an install into a workspace that had uninstalled revives it."""

    def __init__(self, db: Database, **kwargs):
        super().__init__(engine=db.engine, **kwargs)
        self.db = db

    def save(self, installation) -> None:
        super().save(installation)
        if installation.team_id:
            with self.db.transaction() as session:
                store.reinstalled(session, installation.team_id)


class Workspaces:
    """Who each workspace's messages go out as: its bot token (OAuth), or the one token."""

    def __init__(self, settings: Settings, db: Database, *, default: WebClient):
        self.settings, self.db, self.default = settings, db, default
        self.oauth = settings.oauth
        self._cache: dict[str, tuple[WebClient, float]] = {}
        self._lock = threading.Lock()
        if self.oauth:
            self.installations = Installations(db, client_id=settings.slack_client_id)
            self.states = SignedStateStore(settings.slack_state_secret, expiration_seconds=STATE_EXPIRES,
                                           engine=db.engine)
            self.rotator = TokenRotator(client_id=settings.slack_client_id, client_secret=settings.slack_client_secret,
                                        client=WebClient(base_url=settings.slack_api_url))

    def oauth_settings(self) -> OAuthSettings:
        return OAuthSettings(
            client_id=self.settings.slack_client_id, client_secret=self.settings.slack_client_secret,
            scopes=SCOPES, installation_store=self.installations, state_store=self.states,
            install_path=INSTALL_PATH, redirect_uri_path=REDIRECT_PATH, install_page_rendering_enabled=False,
            token_rotation_expiration_minutes=int(ROTATE_BEFORE.total_seconds() // 60))

    def client_for(self, workspace_id: str) -> WebClient | None:
        """The client that speaks for `workspace_id`; None when the app is not installed there (any more)."""
        if not self.oauth:
            return self.default
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(workspace_id)
            if cached and cached[1] > now:
                return cached[0]
        bot = self.installations.find_bot(enterprise_id=None, team_id=workspace_id)
        if bot is None or not bot.bot_token:
            self.forget(workspace_id)
            return None
        if bot.bot_refresh_token:
            refreshed = self.rotator.perform_bot_token_rotation(
                bot=bot, minutes_before_expiration=int(ROTATE_BEFORE.total_seconds() // 60))
            if refreshed is not None:
                self.installations.save_bot(refreshed)
                log.info("workspace %s: bot token rotated", workspace_id)
                bot = refreshed
        keep = CACHE_FOR
        if bot.bot_token_expires_at:
            keep = min(keep, max(bot.bot_token_expires_at - time.time() - ROTATE_BEFORE.total_seconds(), 0.0))
        client = WebClient(token=bot.bot_token, base_url=self.settings.slack_api_url, retry_handlers=[])
        with self._lock:
            self._cache[workspace_id] = (client, now + keep)
        return client

    def forget(self, workspace_id: str) -> None:
        with self._lock:
            self._cache.pop(workspace_id, None)

    def uninstall(self, workspace_id: str, *, now: datetime) -> None:
        """app_uninstalled or tokens_revoked: nothing more goes out to the workspace, its tokens are
        deleted, and its data is deleted after the grace period."""
        self.forget(workspace_id)
        with self.db.transaction() as session:
            store.delete_tokens(session, workspace_id)
            stopped = store.stop_sending(session, workspace_id, reason="the workspace uninstalled the app")
            store.mark_uninstalled(session, workspace_id, now=now)
        self.forget(workspace_id)
        log.warning("workspace %s: uninstalled or tokens revoked; %d queued messages dropped", workspace_id, stopped)


def purge_expired(db: Database, *, now: datetime, grace: timedelta) -> list[str]:
    """The clock's job: delete the data of the workspaces uninstalled more than `grace` ago."""
    with db.transaction() as session:
        expired = store.uninstalled_before(session, now - grace)
    for workspace_id in expired:
        with db.transaction() as session:
            if store.is_uninstalled(session, workspace_id):  # not reinstalled meanwhile
                deleted = store.purge(session, workspace_id)
                log.warning("workspace %s: data deleted after the grace period (%s)", workspace_id,
                            ", ".join(f"{n} {table}" for table, n in sorted(deleted.items())) or "no rows")
    return expired


def register(app: App, workspaces: Workspaces) -> None:
    """The events that end an installation."""

    @app.event("app_uninstalled")
    def app_uninstalled(body, ack):
        ack()
        workspaces.uninstall(body.get("team_id", ""), now=utcnow())

    @app.event("tokens_revoked")
    def tokens_revoked(body, event, ack):
        ack()
        if (event.get("tokens") or {}).get("bot"):
            workspaces.uninstall(body.get("team_id", ""), now=utcnow())
