"""Typed settings, read once from the environment.

A missing or malformed setting stops start-up with one line that names it (`SettingsError`).
Which settings are required depends on the command: the console needs none, `serve` needs the
bot token and the signing secret, `socket` the bot and app tokens.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DATABASE_URL = "sqlite:///qms.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_GITHUB_API_URL = "https://api.github.com/"
DEFAULT_CLOCK_METRICS_PORT = 9464
DEFAULT_UNINSTALL_GRACE_DAYS = 30
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line naming it."""


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None
    slack_signing_secret: str | None
    slack_app_token: str | None
    database_url: str
    slack_api_url: str
    port: int
    timezone: ZoneInfo
    log_level: str
    public_url: str | None = None  # where serve is reached from outside: the webhook URLs /qms setup github shows
    webhook_secret_key: str | None = None  # derives the teams' webhook secrets (default: the Slack signing secret)
    github_token: str | None = None  # lets the bot request the reviewers it chose on GitHub too
    github_api_url: str = DEFAULT_GITHUB_API_URL
    slack_channel_rate: float = 1.0  # outbox messages per second per channel (Slack allows about one)
    outbox_lease_seconds: float = 15.0  # how long a sender holds rows it claimed (renewed while sending)
    outbox_give_up_hours: float = 24.0  # a message Slack keeps failing is given up after this long
    database_timeout: float = 5.0  # seconds: connecting to, and each statement on, PostgreSQL
    metrics_token: str | None = None  # lets a scraper that is not on loopback read /metrics (as a bearer token)
    clock_metrics_port: int = DEFAULT_CLOCK_METRICS_PORT  # where `clock` serves /metrics; 0: not at all
    slack_client_id: str | None = None  # with the secret and the state secret: install from Slack (OAuth)
    slack_client_secret: str | None = None
    slack_state_secret: str | None = None
    uninstall_grace_days: int = DEFAULT_UNINSTALL_GRACE_DAYS  # an uninstalled workspace's data is kept this long

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        return cls(
            slack_bot_token=_token(env, "SLACK_BOT_TOKEN", "xoxb-"),
            slack_signing_secret=_optional(env, "SLACK_SIGNING_SECRET"),
            slack_app_token=_token(env, "SLACK_APP_TOKEN", "xapp-"),
            database_url=_database_url(env),
            slack_api_url=_slack_api_url(env),
            port=_port(env),
            timezone=_timezone(env),
            log_level=_log_level(env),
            public_url=_public_url(env),
            webhook_secret_key=_optional(env, "WEBHOOK_SECRET_KEY"),
            github_token=_optional(env, "GITHUB_TOKEN"),
            github_api_url=_http_url(env, "GITHUB_API_URL", DEFAULT_GITHUB_API_URL),
            slack_channel_rate=_number(env, "SLACK_CHANNEL_RATE", 1.0, low=0.0),
            outbox_lease_seconds=_number(env, "OUTBOX_LEASE_SECONDS", 15.0, low=3.0),
            outbox_give_up_hours=_number(env, "OUTBOX_GIVE_UP_HOURS", 24.0, low=0.01),
            database_timeout=_number(env, "DATABASE_TIMEOUT", 5.0, low=0.5),
            metrics_token=_optional(env, "METRICS_TOKEN"),
            clock_metrics_port=_port(env, "CLOCK_METRICS_PORT", DEFAULT_CLOCK_METRICS_PORT, allow_zero=True),
            slack_client_id=_optional(env, "SLACK_CLIENT_ID"),
            slack_client_secret=_optional(env, "SLACK_CLIENT_SECRET"),
            slack_state_secret=_optional(env, "SLACK_STATE_SECRET"),
            uninstall_grace_days=_days(env, "UNINSTALL_GRACE_DAYS", DEFAULT_UNINSTALL_GRACE_DAYS),
        )

    def require(self, *names: str, purpose: str) -> None:
        """Stop with a clear line when a setting this command needs is unset."""
        for name in names:
            if not getattr(self, name.lower()):
                raise SettingsError(f"{name} is not set: {purpose} needs it")

    @property
    def webhook_url(self) -> str:
        """The address GitHub and GitLab post to, without its /webhooks/… path."""
        return (self.public_url or f"http://localhost:{self.port}").rstrip("/")

    @property
    def webhook_key(self) -> str | None:
        """The key webhook secrets are derived from: WEBHOOK_SECRET_KEY, else the Slack signing secret."""
        return self.webhook_secret_key or self.slack_signing_secret

    @property
    def oauth(self) -> bool:
        """Installed from Slack in any number of workspaces (OAuth), rather than with one bot token."""
        return bool(self.slack_client_id and self.slack_client_secret and self.slack_state_secret)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def configure_logging(self) -> None:
        logging.basicConfig(
            level=self.log_level,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        # Alembic narrates every schema check at INFO; start-up output should be about the bot.
        logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(self.log_level)))


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _token(env: Mapping[str, str], name: str, prefix: str) -> str | None:
    value = _optional(env, name)
    if value is not None and not value.startswith(prefix):
        raise SettingsError(f"{name} is malformed: a Slack token of this kind starts with '{prefix}'")
    return value


def _database_url(env: Mapping[str, str]) -> str:
    url = _optional(env, "DATABASE_URL") or DEFAULT_DATABASE_URL
    # Heroku and most PaaS hand out postgres:// URLs; SQLAlchemy needs the driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    if not (url.startswith("sqlite:///") or url.startswith("postgresql+psycopg://")):
        raise SettingsError(
            "DATABASE_URL is malformed: use sqlite:///path.db or postgresql+psycopg://user@host/db"
        )
    return url


def _slack_api_url(env: Mapping[str, str]) -> str:
    url = _optional(env, "SLACK_API_URL") or DEFAULT_SLACK_API_URL
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError(f"SLACK_API_URL is malformed: expected an http(s) URL, got {url!r}")
    return url if url.endswith("/") else url + "/"


def _http_url(env: Mapping[str, str], name: str, default: str) -> str:
    url = _optional(env, name) or default
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError(f"{name} is malformed: expected an http(s) URL, got {url!r}")
    return url if url.endswith("/") else url + "/"


def _public_url(env: Mapping[str, str]) -> str | None:
    url = _optional(env, "PUBLIC_URL")
    if url is not None:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query or parsed.fragment:
            raise SettingsError(f"PUBLIC_URL is malformed: expected an http(s) URL such as https://qms.example.com, "
                                f"got {url!r}")
    return url


def _number(env: Mapping[str, str], name: str, default: float, *, low: float) -> float:
    raw = _optional(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value >= low or value > 1e6:
        raise SettingsError(f"{name} is malformed: expected a number of at least {low:g}, got {raw!r}")
    return value


def _port(env: Mapping[str, str], name: str = "PORT", default: int = 3000, *, allow_zero: bool = False) -> int:
    raw = _optional(env, name) or str(default)
    lowest = 0 if allow_zero else 1
    if not (raw.isascii() and raw.isdecimal() and len(raw) <= 5) or not lowest <= int(raw) < 65536:
        raise SettingsError(f"{name} is malformed: expected a number from {lowest} to 65535, got {raw!r}")
    return int(raw)


def _timezone(env: Mapping[str, str]) -> ZoneInfo:
    name = _optional(env, "QMS_TIMEZONE") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"QMS_TIMEZONE is malformed: {name!r} is not an IANA time zone") from None


def _log_level(env: Mapping[str, str]) -> str:
    level = (_optional(env, "LOG_LEVEL") or "INFO").upper()
    if level not in LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL is malformed: expected one of {', '.join(LOG_LEVELS)}, got {level!r}")
    return level


def _days(env: Mapping[str, str], name: str, default: int) -> int:
    raw = _optional(env, name) or str(default)
    if not (raw.isascii() and raw.isdecimal() and len(raw) <= 4):
        raise SettingsError(f"{name} is malformed: expected a number of days from 0 to 9999, got {raw!r}")
    return int(raw)
