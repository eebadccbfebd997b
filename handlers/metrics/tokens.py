"""`/qms setup token [list | revoke <prefix> | revoke all]`: the team's bearer tokens for the CI API."""

from __future__ import annotations

from slack_bolt import App

from bot import metrics
from bot.core import render
from bot.core.timeutil import utcnow
from handlers.core import people
from handlers.core.commands import Command, Subcommands
from handlers.core.deps import Services
from storage import metrics as metric_store


def register(app: App, services: Services, subcommands: Subcommands) -> None:
    subcommands.add("setup token", lambda command: ci_token(services, command))


def ci_token(services: Services, command: Command) -> None:
    """`/qms setup token` creates a token (shown once, in this ephemeral answer only);
    `list` shows the live ones; `revoke <prefix>` or `revoke all` revokes."""
    verb, _, rest = command.args.partition(" ")
    verb = verb.lower()
    if verb not in ("", "new", "create", "list", "revoke"):
        return command.ack(response_type="ephemeral", text=render.phrase("metrics.token_usage"))
    person = people.lookup(command.client, command.user_id)
    now = utcnow()
    with services.transaction() as session:
        team = command.team(session)
        metrics.require_token_manager(session, team, command.user_id, workspace_admin=person.is_workspace_admin,
                                      verb=verb if verb in metrics.TOKEN_VERBS else "create")
        if verb == "list":
            tokens, revoked, token = _live(session, team), [], None
        elif verb == "revoke":
            revoked = metrics.revoke_tokens(session, team, rest, actor_id=command.user_id, now=now)
            tokens, token = _live(session, team), None
        else:
            token, _row = metrics.create_token(session, team, actor_id=command.user_id, now=now)
    if token is not None:
        return command.reply("metrics/token_created.json.j2", token=token, team_name=team.name)
    command.reply("metrics/tokens.json.j2", team_name=team.name, tokens=tokens, revoked=revoked)


def _live(session, team):
    return metric_store.live_tokens(session, team.workspace_id, team.id)
