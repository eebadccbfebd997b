"""`qms-bot`: the command line of QMS Bot."""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import TYPE_CHECKING

import click

from bot.core.settings import Settings, SettingsError
from bot.core.untrusted import excerpt

if TYPE_CHECKING:  # imported where used: `qms-bot --help` loads no database or Slack code
    from app.services import Runtime

log = logging.getLogger("qms-bot")


class Stop(click.ClickException):
    """Stops the command with one line on stderr."""

    def show(self, file=None) -> None:
        click.echo(f"qms-bot: {self.message}", err=True)


class OneLineErrors(click.Group):
    """Every refusal of the command line in one line on stderr, a wrong argument's too: click's own
    usage errors (an unknown command or option, a value of the wrong kind) are said as
    "qms-bot: Missing argument 'FILE': see `qms-bot team import --help`.", never with a traceback."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.NoArgsIsHelpError as error:  # `qms-bot` alone: the help
            error.show()
            sys.exit(error.exit_code)
        except click.UsageError as error:
            command = error.ctx.command_path if error.ctx else "qms-bot"
            said = excerpt(error.format_message(), 300).rstrip(".")
            click.echo(f"qms-bot: {said}: see `{command} --help`.", err=True)
            sys.exit(error.exit_code)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except BrokenPipeError:  # `qms-bot team export … | head`: the reader left, nothing to say
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def load_settings() -> Settings:
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        raise Stop(str(error)) from None
    settings.configure_logging()
    return settings


def require(settings: Settings, *names: str, purpose: str) -> None:
    try:
        settings.require(*names, purpose=purpose)
    except SettingsError as error:
        raise Stop(str(error)) from None


def ready_database(settings: Settings):
    """The database, migrated. SQLite (the embedded default) is migrated on the spot; a shared
    PostgreSQL is left to `qms-bot migrate` (the release phase), so that two web processes
    starting together never race on a schema change."""
    from storage.db import Database

    db = Database(settings.database_url, timeout=settings.database_timeout)
    if not db.is_reachable():
        raise Stop(f"cannot reach the database at DATABASE_URL ({_redacted(settings.database_url)})")
    if not db.is_migrated():
        if not settings.is_sqlite:
            raise Stop("the database is not migrated: run `qms-bot migrate` first")
        db.migrate()
    return db


def connected_app(services: Runtime, *, signing_secret: str):
    """The Bolt app, which checks the bot token with Slack (auth.test) as it starts: a refused token
    or an unreachable SLACK_API_URL stops start-up with one line."""
    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackApiError

    from app.bolt import build_app

    try:
        # serve: app/web.py checks each signature before Bolt sees the request; socket: nothing is signed
        return build_app(services, signing_secret=signing_secret, verified_upstream=True)
    except SlackApiError as error:
        raise Stop(f"SLACK_BOT_TOKEN was refused by Slack ({error.response.get('error')})") from None
    except BoltError as error:  # Bolt's own auth.test check: "`token` is invalid (auth.test result: ...)"
        reason = re.search(r"'error': '([^']+)'", str(error))
        raise Stop(f"SLACK_BOT_TOKEN was refused by Slack ({reason.group(1) if reason else error})") from None
    except OSError as error:  # URLError and socket errors
        raise Stop(f"cannot reach Slack at SLACK_API_URL ({services.settings.slack_api_url}): "
                   f"{getattr(error, 'reason', error)}") from None


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """QMS Bot: risks, reviews, incidents and quality metrics, in Slack.

    Settings come from the environment (see README): SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET,
    SLACK_APP_TOKEN, DATABASE_URL (default sqlite:///qms.db), SLACK_API_URL, PORT (default 3000),
    QMS_TIMEZONE (default UTC), LOG_LEVEL (default INFO), and for GitHub and GitLab webhooks
    PUBLIC_URL, WEBHOOK_SECRET_KEY, GITHUB_TOKEN, GITHUB_API_URL; for installing from Slack into any
    number of workspaces SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET, UNINSTALL_GRACE_DAYS
    (default 30); for GET /metrics METRICS_TOKEN and CLOCK_METRICS_PORT (default 9464).
    """


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Interface to listen on.")
@click.option("--workers", default=None, type=click.IntRange(1, 256),
              help="Worker processes. Default: WEB_CONCURRENCY, else one per CPU.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Threads per worker process.")
@click.option("--local-slack", is_flag=True,
              help="Talk to the built-in Slack stand-in (the console's people and channels) instead of Slack: "
                   "no tokens needed, to try the CI API and the webhooks locally.")
def serve(host: str, workers: int | None, threads: int, local_slack: bool) -> None:
    """Serve the Slack app over HTTP on $PORT: POST /slack/events, GET /healthz, GET /healthz/clock, and the
    webhooks POST /webhooks/github, /webhooks/gitlab and the CI API POST /api/v1/gates, /api/v1/defects;
    GET /metrics (Prometheus); in OAuth mode GET /slack/install and /slack/oauth_redirect.
    Runs gunicorn: worker processes x threads; SIGTERM stops within 10 s, answering what is in flight."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # The workers add up their /metrics in files of a fresh directory; prometheus_client reads the
        # setting when it is first imported, which is below, after this line.
        import tempfile

        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="qms-prometheus-")
    from app import server
    from app.services import build_runtime
    from app.web import create_web_app

    settings = load_settings()
    if local_slack:
        from dataclasses import replace

        from app.console import local_workspace

        stand_in = local_workspace()
        settings = replace(settings, slack_api_url=stand_in.api_url, slack_bot_token="xoxb-local-stand-in",
                           slack_signing_secret=settings.slack_signing_secret or "local-signing-secret")
        click.echo(f"Slack stand-in on {stand_in.api_url} (the console's people and channels); "
                   f"signing secret {settings.slack_signing_secret!r}")
    require(settings, *(() if settings.oauth else ("SLACK_BOT_TOKEN",)), "SLACK_SIGNING_SECRET",
            purpose="`qms-bot serve`")
    try:
        workers = workers or server.default_workers()
    except ValueError as error:
        raise Stop(str(error)) from None
    ready_database(settings).dispose()
    checked = build_runtime(settings)  # the token is checked once here, before any worker starts
    connected_app(checked, signing_secret=settings.slack_signing_secret)
    checked.db.dispose()
    problem = server.port_is_free(host, settings.port)
    if problem is not None:  # the port is taken, the host is no address of this machine
        raise Stop(f"cannot listen on {excerpt(host, 100)}:{settings.port}: {_reason(problem)}")

    def build_web():  # in each worker, after the fork: its own pool, clients and pump
        services = build_runtime(settings)
        web = create_web_app(connected_app(services, signing_secret=settings.slack_signing_secret), services,
                             signing_secret=settings.slack_signing_secret)
        web.config["QMS_SERVICES"] = services
        return web

    log.info("serving Slack requests on http://%s:%d/slack/events (%d workers x %d threads)",
             host, settings.port, workers, threads)
    server.QmsServer(build_web, host=host, port=settings.port, workers=workers, threads=threads,
                     log_level=settings.log_level).run()


@main.command()
def socket() -> None:
    """Run the same app over Socket Mode (needs SLACK_APP_TOKEN): no public URL required."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from app.services import build_runtime

    settings = load_settings()
    require(settings, "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", purpose="`qms-bot socket`")
    ready_database(settings)
    services = build_runtime(settings)
    # Socket Mode requests arrive over an authenticated WebSocket, not signed HTTP.
    app = connected_app(services, signing_secret=settings.slack_signing_secret or "unused-in-socket-mode")
    SocketModeHandler(app, settings.slack_app_token).start()


@main.command()
def clock() -> None:
    """Run the scheduler process: escalations, nudges, digests and outbox delivery; GET /metrics on
    CLOCK_METRICS_PORT."""
    from app import clock as clock_process
    from app.services import build_runtime

    settings = load_settings()
    if not settings.oauth:  # OAuth mode: each workspace's token comes from its installation
        require(settings, "SLACK_BOT_TOKEN", purpose="`qms-bot clock`")
    ready_database(settings)
    clock_process.run(build_runtime(settings))


@main.command()
def migrate() -> None:
    """Apply the database migrations (Alembic) up to the newest."""
    from storage.db import Database

    settings = load_settings()
    db = Database(settings.database_url, timeout=settings.database_timeout)
    if not db.is_reachable():
        raise Stop(f"cannot reach the database at DATABASE_URL ({_redacted(settings.database_url)})")
    db.migrate()
    click.echo("qms-bot: database migrated")


@main.command()
@click.option("--as", "user", default="alice", show_default=True, metavar="NAME",
              help="The local user you type as (alice, bob, carol, …; `users` lists them).")
@click.option("--channel", default="general", show_default=True, help="The channel you type in.")
def shell(user: str, channel: str) -> None:
    """A local console: type `/qms …` as a chosen user, no Slack and no tokens needed.

    Requests go through the same Bolt app and handlers as production; what the bot sends back is
    printed, and modals are filled in field by field. Data is kept in DATABASE_URL (qms.db).
    """
    from app.console import Console, UnknownName

    settings = load_settings()
    if "LOG_LEVEL" not in os.environ:
        logging.getLogger().setLevel(logging.WARNING)  # the console is for reading, not for logs
    ready_database(settings)
    try:
        console = Console(settings, user_name=user, channel_name=channel)
    except UnknownName as error:
        raise Stop(excerpt(error, 300)) from None
    console.run()


@main.command()
def status() -> None:
    """Print when each clock job last ran and the outbox; exit 1 when a job is overdue."""
    from app import clock as clock_process
    from bot.core.timeutil import utcnow
    from storage import outbox, runtime

    settings = load_settings()
    db = ready_database(settings)
    now = utcnow()
    with db.transaction() as session:
        beats = runtime.heartbeats(session)
        counts = outbox.counts_by_status(session)
    if not beats:
        click.echo("clock: never ran")
    for beat in beats:
        click.echo(f"clock: {beat.job_id} last ran {_age(now - beat.last_run_at)} ({beat.worker})")
    stale = clock_process.stale_jobs({b.job_id: b.last_run_at for b in beats}, now=now)
    if beats and stale:
        click.echo("clock: overdue: " + ", ".join(stale))
    click.echo("outbox: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("pending", "sent", "dead")))
    if stale:
        sys.exit(1)


# --- workspaces (OAuth mode: app/workspaces.py) -------------------------------------------------
@main.group()
def workspace() -> None:
    """The workspaces the bot holds data for."""


@workspace.command("purge")
@click.argument("workspace_id", metavar="T…")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def workspace_purge(workspace_id: str, yes: bool) -> None:
    """Delete every row of workspace T… at once (its teams, risks, reviews, incidents, metrics, messages,
    tokens), instead of UNINSTALL_GRACE_DAYS after it uninstalled the app."""
    from storage import workspaces as workspace_store

    if not (workspace_id.isascii() and workspace_id.isalnum() and workspace_id[:1] in "TE" and len(workspace_id) <= 32):
        raise Stop(f"not a workspace ID: {excerpt(workspace_id, 40)} (expected T… or E…)")
    db = ready_database(load_settings())
    if not yes:
        click.confirm(f"Delete all data of workspace {workspace_id}?", abort=True)
    with db.transaction() as session:
        deleted = workspace_store.purge(session, workspace_id)
    click.echo(f"{workspace_id}: " + (", ".join(f"{n} {table}" for table, n in sorted(deleted.items()))
                                      or "no rows") + " deleted")


def _age(span) -> str:
    """A span as people read it: "just now", "40 s ago", "25 min ago", "3 h 5 min ago", "2 d ago", and a
    time ahead of this machine's clock as such."""
    seconds = int(span.total_seconds())
    if seconds < -5:
        return f"{_age(-span).removesuffix(' ago')} ahead of this machine's clock"
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{seconds} s ago"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min ago"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min ago" if minutes else f"{hours} h ago"
    return f"{hours // 24} d ago"


@main.group()
def outbox() -> None:
    """What the bot has queued for Slack: see and resend what Slack refused."""


@outbox.command("list")
@click.option("--dead", is_flag=True, required=True, help="The messages given up on (Slack refused them).")
def outbox_list(dead: bool) -> None:
    """List the messages given up on, newest first, with why."""
    from bot.core.timeutil import utcnow
    from storage import outbox as store

    db = ready_database(load_settings())
    now = utcnow()
    with db.transaction() as session:
        rows = store.dead_rows(session)
        shown = [(row.id, row.method, row.key, (row.payload or {}).get("channel") or "", row.attempts,
                  _age(now - row.created_at), (row.last_error or "").splitlines()[0][:120] if row.last_error else "")
                 for row in rows]
    if not shown:
        click.echo("No dead messages: everything queued was sent or is still being tried.")
    for row_id, method, key, channel, attempts, age, error in shown:
        click.echo(f"{row_id}  {method} {channel}  {key}  queued {age}, {attempts} attempts: {error}")


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=click.IntRange(1, 2**31 - 1), required=True)
def outbox_retry(ids: tuple[int, ...]) -> None:
    """Queue dead messages again (by the IDs `outbox list --dead` shows); the clock sends them."""
    from bot.core.timeutil import utcnow
    from storage import outbox as store

    db = ready_database(load_settings())
    with db.transaction() as session:
        revived = store.revive(session, list(ids), now=utcnow())
    if revived:
        click.echo("Queued again: " + ", ".join(map(str, revived)) + ". The clock (or `qms-bot serve`) sends them.")
    missed = sorted(set(ids) - set(revived))
    if missed:
        click.echo("Not dead, or no such message: " + ", ".join(map(str, missed)), err=True)
        sys.exit(1)


# --- teams as code (bot/teams_as_code/) ---------------------------------------------------------
@main.group()
def team() -> None:
    """Teams as code: export a team to YAML, import (or just check) a YAML file, list teams."""


@team.command("list")
def team_list() -> None:
    """Every team: workspace, name and home channel."""
    from storage import teams as team_store

    db = ready_database(load_settings())
    with db.transaction() as session:
        for found in team_store.all_teams(session):
            click.echo(f"{found.workspace_id}\t{found.name}\t{found.home_channel_id or '-'}")


@team.command("export")
@click.option("--team", "name", required=True, help="The team's name, e.g. Payments.")
@click.option("--workspace", default=None, metavar="T…", help="Its Slack workspace, when several have one so named.")
def team_export(name: str, workspace: str | None) -> None:
    """Write a team as YAML to stdout: `qms-bot team export --team Payments > payments.yaml`."""
    from bot import teams_as_code
    from bot.core.errors import Refusal

    settings = load_settings()
    try:
        name, workspace = teams_as_code.team_name_option(name), teams_as_code.workspace_option(workspace)
        db = ready_database(settings)
        with db.transaction() as session:
            found = teams_as_code.find_team(session, name, workspace)
            click.echo(teams_as_code.export_team(session, found), nl=False)
    except Refusal as refusal:
        raise Stop(_said(refusal.phrase)) from None


@team.command("import")
@click.argument("path", metavar="FILE")
@click.option("--workspace", default=None, metavar="T…", help="Import into this workspace instead of the file's.")
@click.option("--check", is_flag=True, help="Validate the file and say what would change, changing nothing.")
def team_import(path: str, workspace: str | None, check: bool) -> None:
    """Make a team what a YAML file says (FILE, or - for stdin). Nothing changes when any line is wrong.

    With SLACK_BOT_TOKEN set, every user ID is checked with Slack (bots and deactivated accounts
    are refused); without it, only their form is checked. A file over 1 MB, or one with YAML
    anchors or aliases, is refused unread.
    """
    import getpass

    from bot import teams_as_code
    from bot.core import render
    from bot.core.errors import Refusal
    from bot.core.timeutil import utcnow

    settings = load_settings()
    shown = excerpt(path, 200)
    try:
        workspace = teams_as_code.workspace_option(workspace)
        text = teams_as_code.decode(_read_at_most(path, teams_as_code.FILE_MAX + 1, shown=shown))
        db = ready_database(settings)
        result = teams_as_code.import_text(db, text, actor_id=f"cli:{getpass.getuser()}"[:64], now=utcnow(),
                                         workspace=workspace, not_people=_slack_people_check(settings), check=check)
    except Refusal as refusal:
        raise Stop(_said(refusal.phrase)) from None
    except teams_as_code.Unreadable as error:
        where = f"{shown}:{error.problem.line}"
        raise Stop(f"{where}: {render.phrase('teams.config_unreadable', problem=_said(error.problem.phrase))}") \
            from None
    except teams_as_code.ConfigError as error:
        for problem in error.problems:
            where = f" {problem.where}:" if problem.where else ""
            click.echo(f"{shown}:{problem.line}:{where} {_said(problem.phrase)}", err=True)
        raise Stop(render.phrase("teams.config_rejected", count=len(error.problems))) from None
    click.echo(f"qms-bot: {_said(result.phrase(check=check))}")
    if result.no_team_lead:
        warning = render.phrase("teams.no_team_lead", team=result.team)
        click.echo(f"qms-bot: {render.phrase('teams.config_warning', text=_plain(warning))}", err=True)


def _read_at_most(path: str, size: int, *, shown: str) -> bytes:
    """The first `size` bytes of a file (or of stdin for -): enough to know one is too large, and
    never a whole /dev/zero. A file that cannot be read stops the command in one line."""
    from bot.core import render

    try:
        if path == "-":
            return sys.stdin.buffer.read(size)
        with open(path, "rb") as file:
            return file.read(size)
    except OSError as error:
        raise Stop(render.phrase("teams.config_cannot_read", file=shown, reason=_reason(error))) from None


def _reason(error: OSError) -> str:
    """Why a file could not be read or written, as the system says it ("No such file or directory")."""
    return error.strerror or excerpt(error)


def _slack_people_check(settings: Settings):
    """Which user IDs are not people, asked of Slack (users.info); None without a bot token."""
    if not settings.slack_bot_token:
        return None
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    from handlers.core import people

    client = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)

    def not_people(user_ids: set[str]) -> set[str]:
        try:
            return people.not_people(client, user_ids)
        except (SlackApiError, OSError) as error:
            raise Stop(f"cannot check the file's user IDs with Slack: {error}") from None

    return not_people


def _said(phrase) -> str:
    from bot.core import render

    return _plain(render.phrase(phrase.key, **phrase.params))


def _plain(mrkdwn: str) -> str:
    """A phrase written for Slack, for a terminal: <@U123> → U123, &lt; → <."""
    import re

    text = re.sub(r"<[@#]([A-Z0-9]+)(?:\|[^>]*)?>", r"\1", mrkdwn)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# --- webhooks (app/webhooks.py) ---------------------------------------------------------------
@main.group()
def webhook() -> None:
    """GitHub and GitLab webhooks: replay a payload file as if they had sent it."""


@webhook.command("replay")
@click.argument("file", type=click.File("rb"))
@click.option("--event", default=None, metavar="NAME",
              help="X-GitHub-Event (pull_request, pull_request_review, check_run, …) or X-Gitlab-Event; "
                   "guessed from the payload when left out.")
@click.option("--gitlab", is_flag=True, help="Send it as GitLab would (X-Gitlab-Token), to /webhooks/gitlab.")
@click.option("--url", default=None, metavar="URL",
              help="Where `qms-bot serve` runs. Default: PUBLIC_URL, else http://localhost:$PORT.")
@click.option("--secret", envvar="QMS_WEBHOOK_SECRET", default=None, metavar="SECRET",
              help="The webhook secret to sign with (or QMS_WEBHOOK_SECRET). Default: the secret of the team "
                   "whose repository the payload names, made from this database and WEBHOOK_SECRET_KEY "
                   "(or SLACK_SIGNING_SECRET), as serve does.")
@click.option("--delivery", default=None, metavar="ID",
              help="The delivery ID (a new one when left out; give the same one twice to see a redelivery "
                   "handled once).")
def webhook_replay(file, event: str | None, gitlab: bool, url: str | None, secret: str | None,
                   delivery: str | None) -> None:
    """Send a payload FILE to the running app, signed as GitHub (or GitLab) signs it.

    `qms-bot webhook replay opened.json` posts it to /webhooks/github and prints the answer; the
    flow (review request, card, DMs) is the one a real delivery runs. Exits 1 unless the answer is 2xx.
    """
    import urllib.error
    import urllib.request

    from app import webhook_requests

    provider = "gitlab" if gitlab else "github"
    body = file.read()
    payload = webhook_requests.load(body)
    settings = load_settings()
    if secret is None:
        if not settings.webhook_key:
            raise Stop("no secret to sign with: give --secret, or set WEBHOOK_SECRET_KEY (or SLACK_SIGNING_SECRET) "
                       "as for serve")
        db = ready_database(settings)
        with db.transaction() as session:
            secret = webhook_requests.secret_for_payload(session, payload, provider, key=settings.webhook_key)
        if secret is None:
            raise Stop(f"no team has {webhook_requests.repository_of(payload, provider) or 'the repository'} "
                       f"and a {provider} webhook: `/qms setup {provider} add …` first, or give --secret")
    event = event or webhook_requests.event_of(payload, provider)
    headers = webhook_requests.github_headers(secret, body, event=event, delivery=delivery) if provider == "github" \
        else webhook_requests.gitlab_headers(secret, event=event, delivery=delivery)
    target = f"{(url or settings.webhook_url).rstrip('/')}/webhooks/{provider}"
    request = urllib.request.Request(target, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, answer = response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        status, answer = error.code, error.read().decode("utf-8", "replace")
    except OSError as error:
        raise Stop(f"cannot reach {target}: {getattr(error, 'reason', error)}") from None
    click.echo(f"{event} → {target}: HTTP {status} {answer.strip()}")
    if not 200 <= status < 300:
        sys.exit(1)


@main.group()
def export() -> None:
    """Write records locally, as evidence for audits (risks, ...)."""


@export.command("risks")
@click.option("--team", "team_name", required=True, metavar="NAME", help="The team, by its name in /qms setup.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True,
              help="csv: one row per risk; json: with each risk's checklist and full history.")
@click.option("--output", "-o", default="-", metavar="FILE", help="Where to write it; - (the default) is stdout.")
@click.option("--workspace", default=None, metavar="T…",
              help="The Slack workspace ID, when several workspaces have a team of that name.")
def export_risks(team_name: str, fmt: str, output: str, workspace: str | None) -> None:
    """Write a team's risk register, open and closed, as CSV or JSON."""
    from bot import risks, teams_as_code
    from bot.core import render
    from bot.core.errors import Refusal
    from bot.core.timeutil import utcnow
    from storage import teams as team_store

    settings = load_settings()
    try:
        team_name, workspace = teams_as_code.team_name_option(team_name), teams_as_code.workspace_option(workspace)
    except Refusal as refusal:
        raise Stop(_said(refusal.phrase)) from None
    db = ready_database(settings)
    now = utcnow()
    with db.transaction() as session:
        everyone = team_store.all_teams(session)
        named = [t for t in everyone if t.name.casefold() == team_name.casefold()
                 and (workspace is None or t.workspace_id == workspace)]
        if not named:
            known = ", ".join(sorted({t.name for t in everyone})) or "none yet"
            raise Stop(f"no team called {team_name!r} (teams: {known})")
        if len(named) > 1:
            raise Stop(f"teams called {team_name!r} exist in several workspaces "
                       f"({', '.join(t.workspace_id for t in named)}): choose one with --workspace")
        team = named[0]
        views = risks.register_views(session, team, now=now)
        text = risks.to_json(session, team, views, now=now) if fmt == "json" \
            else risks.to_csv(views, excel=output != "-")
    if output == "-":
        click.echo(text, nl=False)
        return
    try:
        with open(output, "w", encoding="utf-8", newline="") as file:
            file.write(text)
    except OSError as error:
        raise Stop(render.phrase("teams.config_cannot_write", file=excerpt(output, 200), reason=_reason(error))) \
            from None
    click.echo(f"qms-bot: wrote {len(views)} risks of {team.name} to {excerpt(output, 200)}", err=True)


@main.command("audit-pack")
@click.option("--team", "team_name", required=True, metavar="NAME", help="The team, by its name in /qms setup.")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="The first day of the period (UTC).")
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="The last day of the period (UTC), included.")
@click.option("--output", "-o", default=None, metavar="FILE",
              help="Where to write the zip (default: audit-pack-<team>-<from>-<to>.zip here).")
@click.option("--workspace", default=None, metavar="T…",
              help="The Slack workspace ID, when several workspaces have a team of that name.")
def audit_pack(team_name: str, start, end, output: str | None, workspace: str | None) -> None:
    """Write a team's audit evidence pack: one zip of risks, incidents, reviews, gate results, DoR/DoD
    checks and the audit log (CSV and JSON), a summary, and the SHA-256 of every file."""
    from bot.core.errors import Refusal
    from bot.core.timeutil import utcnow
    from bot.dashboard import pack
    from storage import teams as team_store

    settings = load_settings()
    db = ready_database(settings)
    with db.transaction() as session:
        everyone = team_store.all_teams(session)
        named = [t for t in everyone if t.name.casefold() == team_name.strip().casefold()
                 and (workspace is None or t.workspace_id == workspace)]
        if not named:
            known = ", ".join(sorted({t.name for t in everyone})) or "none yet"
            raise Stop(f"no team called {team_name!r} (teams: {known})")
        if len(named) > 1:
            raise Stop(f"teams called {team_name!r} exist in several workspaces "
                       f"({', '.join(t.workspace_id for t in named)}): choose one with --workspace")
        team = named[0]
        try:
            content, summary = pack.build(session, team, start.date(), end.date(), now=utcnow())
        except Refusal as refusal:
            raise Stop(_said(refusal.phrase)) from None
    output = output or pack.filename(team, start.date(), end.date())
    try:
        with open(output, "wb") as file:
            file.write(content)
    except OSError as error:
        raise Stop(f"cannot write {excerpt(output, 200)}: {_reason(error)}") from None
    counts = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in summary["counts"].items())
    click.echo(f"qms-bot: wrote the audit pack of {team.name} ({counts}) to {excerpt(output, 200)}", err=True)


if __name__ == "__main__":
    main()
