"""A stand-in for Slack's Web API on loopback.

The console (`qms-bot shell`) points the bot's Web API client here so that it runs without
Slack, and the tests do the same so that every call the bot makes is recorded and can be
checked. It answers like Slack: `{"ok": true, ...}`, `ok: false` errors such as
`channel_not_found`, and on demand HTTP 429 with Retry-After or a 5xx.

It keeps a small workspace in memory (users, channels, messages, views, files), enough for the
methods QMS Bot calls. It is not a general Slack emulator.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

JSON_FIELDS = {"blocks", "attachments", "view", "files", "users", "metadata"}


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    token: str | None = None  # the token the call carried
    at: float = field(default_factory=time.monotonic)  # when it arrived


@dataclass
class Fault:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None


class LocalSlack:
    """A loopback Web API server with an in-memory workspace."""

    def __init__(self, *, team_id: str = "T0LOCAL", team_name: str = "Local workspace", host: str = "127.0.0.1",
                 port: int = 0, remember_updates: bool = False):
        self.team_id = team_id
        # The console keeps its data between runs but this stand-in does not keep its messages: with
        # remember_updates, an update of a message from an earlier run posts it again instead of failing.
        self.remember_updates = remember_updates
        self.team_name = team_name
        self.bot_user_id = "UQMSBOT"
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []  # bodies POSTed to response_url
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.install_codes: dict[str, dict[str, Any]] = {}  # OAuth: code → the workspace it installs into
        self.token_teams: dict[str, str] = {}  # bot tokens handed out by oauth.v2.access → their workspace
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self.revoked: set[str] = set()
        self._current_token: str | None = None
        self._holds: dict[str, threading.Event] = {}
        self.down = False  # an outage: while True, every call answers HTTP 503
        self.latency = 0.0  # seconds every call takes (Slack being slow)
        self._pace: tuple[float, float, float] | None = None  # per channel: interval, tolerance, leeway
        self._next_at: dict[str, float] = {}
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._clock = itertools.count(1)
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.add_user(self.bot_user_id, "qms-bot", real_name="QMS Bot", is_bot=True)

    # --- lifecycle -------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, token: str = "r") -> str:
        return f"{self.base_url}/respond/{token}"

    def start(self) -> "LocalSlack":
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="local-slack", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "LocalSlack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- the workspace -----------------------------------------------------------------
    def add_user(self, user_id: str, name: str, *, real_name: str | None = None, is_admin: bool = False,
                 is_owner: bool = False, is_bot: bool = False, deleted: bool = False, tz: str = "UTC") -> dict:
        user = {
            "id": user_id, "team_id": self.team_id, "name": name, "real_name": real_name or name.title(),
            "is_admin": is_admin, "is_owner": is_owner, "is_bot": is_bot, "deleted": deleted, "tz": tz,
            "profile": {"real_name": real_name or name.title(), "display_name": name},
        }
        with self._lock:
            self.users[user_id] = user
        return user

    def add_channel(self, channel_id: str, name: str, *, members: tuple[str, ...] = (), is_private: bool = False) -> dict:
        channel = {"id": channel_id, "name": name, "is_channel": True, "is_private": is_private,
                   "members": list(members), "is_member": True}
        with self._lock:
            self.channels[channel_id] = channel
        return channel

    def user_by_name(self, name: str) -> dict | None:
        return next((u for u in self.users.values() if u["name"] == name.lstrip("@")), None)

    def channel_by_name(self, name: str) -> dict | None:
        return next((c for c in self.channels.values() if c["name"] == name.lstrip("#")), None)

    # --- faults on demand -----------------------------------------------------------------
    def fail(self, method: str, error: str, times: int = 1) -> None:
        """The next `times` calls of `method` answer `ok: false` with `error`."""
        self._faults[method].extend(Fault(error=error) for _ in range(times))

    def rate_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """The next `times` calls of `method` answer HTTP 429 with Retry-After."""
        self._faults[method].extend(Fault(status=429, error="ratelimited", retry_after=retry_after)
                                    for _ in range(times))

    def hold(self, method: str) -> threading.Event:
        """Calls of `method` wait until the returned event is set: Slack being slow, on demand."""
        gate = self._holds[method] = threading.Event()
        return gate

    def pace_channels(self, rate: float, burst: int, leeway: float = 0.05) -> None:
        """Rate-limit messages per channel as Slack does: past `rate` a second with bursts of `burst`
        (give or take `leeway` seconds), chat.postMessage and chat.update answer HTTP 429."""
        self._pace = (1.0 / rate, (max(burst, 1) - 1) / rate, leeway)

    def _over_pace(self, method: str, args: dict[str, Any]) -> bool:
        if self._pace is None or method not in ("chat.postMessage", "chat.update"):
            return False
        interval, tolerance, leeway = self._pace
        channel, now = str(args.get("channel")), time.monotonic()
        next_at = max(self._next_at.get(channel, now), now)
        if next_at - tolerance - leeway > now:
            return True
        self._next_at[channel] = next_at + interval
        return False

    def server_error(self, method: str, status: int = 503, times: int = 1) -> None:
        self._faults[method].extend(Fault(status=status) for _ in range(times))

    # --- what the bot did -----------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and c.status == 200 and c.response.get("ok")]

    def posted(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages the bot posted, in order (optionally in one channel or DM, by ID or user)."""
        with self._lock:
            channel = self._dm_channel(channel) if channel and channel[0] in "UW" else channel
            if channel:
                return list(self.messages.get(channel, []))
            return sorted((m for ms in self.messages.values() for m in ms), key=lambda m: float(m["ts"]))

    def reset_calls(self) -> None:
        with self._lock:
            self.calls.clear()
            self.responses.clear()

    # --- dispatch -------------------------------------------------------------------------
    def handle(self, method: str, args: dict[str, Any], token: str | None) -> tuple[int, dict[str, Any], dict]:
        gate = self._holds.get(method)
        if gate is not None:
            gate.wait(timeout=60)
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            if self.down:
                body = {"ok": False, "error": "service_unavailable"}
                self.calls.append(Call(method, args, 503, body))
                return 503, body, {}
            if self._faults.get(method):
                fault = self._faults[method].popleft()
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
                body = {"ok": False, "error": fault.error or "internal_error"}
                self.calls.append(Call(method, args, fault.status, body))
                return fault.status, body, headers
            if self._over_pace(method, args):
                body = {"ok": False, "error": "ratelimited"}
                self.calls.append(Call(method, args, 429, body))
                return 429, body, {"Retry-After": "1"}
            if method == "oauth.v2.access":
                body = self._oauth_access(args)
            elif method != "api.test" and not (token and token.startswith("xoxb-")):
                body = {"ok": False, "error": "not_authed"}
            elif token in self.revoked:
                body = {"ok": False, "error": "token_revoked"}
            else:
                implementation = getattr(self, "_m_" + method.replace(".", "_"), None)
                if implementation is None:
                    body = {"ok": False, "error": "unknown_method"}
                else:
                    try:
                        self._current_token = token
                        body = implementation(args)
                    except KeyError as missing:
                        body = {"ok": False, "error": "invalid_arguments", "detail": f"missing {missing}"}
            self.calls.append(Call(method, args, 200, body, token))
            return 200, body, {}

    def _ok(self, **values: Any) -> dict[str, Any]:
        return {"ok": True, **values}

    def _error(self, error: str) -> dict[str, Any]:
        return {"ok": False, "error": error}

    def _ts(self) -> str:
        return f"{1700000000 + next(self._clock)}.{next(self._ids):06d}"

    def _dm_channel(self, user_id: str) -> str:
        dm = "D" + user_id
        if dm not in self.channels:
            self.channels[dm] = {"id": dm, "name": dm, "is_im": True, "user": user_id, "members": [user_id]}
        return dm

    def _resolve_channel(self, channel: str | None) -> str | None:
        if not channel:
            return None
        if channel[0] in "UW":
            return self._dm_channel(channel) if channel in self.users else None
        if channel not in self.channels and self.remember_updates and channel[0] in "CGD" and channel.isalnum():
            # a channel of an earlier console run (an incident's own): known again, so its card can be updated
            self.channels[channel] = {"id": channel, "name": channel.lower(), "is_channel": True, "is_private": False,
                                      "members": [], "is_member": True}
        return channel if channel in self.channels else None

    # --- methods --------------------------------------------------------------------------
    def _m_api_test(self, args):
        return self._ok(args=args)

    def _m_auth_test(self, args):
        team_id = self.token_teams.get(self._current_token, self.team_id)
        return self._ok(url=f"{self.base_url}/", team=self.team_name, team_id=team_id,
                        user="qms-bot", user_id=self.bot_user_id, bot_id="BQMSBOT")

    # --- installing the app (OAuth) -------------------------------------------------------
    def install_code(self, team_id: str, team_name: str, *, code: str | None = None, installer: str = "UALICE",
                     enterprise_id: str | None = None, rotating: bool = False) -> str:
        """A code that oauth.v2.access exchanges for a bot token of `team_id` (as Slack's redirect hands
        it to the app once a person approved the install)."""
        code = code or f"code-{team_id}-{next(self._ids)}"
        self.install_codes[code] = dict(team_id=team_id, team_name=team_name, installer=installer,
                                        enterprise_id=enterprise_id, rotating=rotating)
        return code

    def tokens_of(self, team_id: str) -> list[str]:
        return [token for token, team in self.token_teams.items() if team == team_id]

    def revoke(self, team_id: str) -> None:
        """The workspace's tokens stop working (an uninstall, a revocation)."""
        self.revoked.update(self.tokens_of(team_id))

    def _oauth_access(self, args):
        if args.get("grant_type") == "refresh_token":
            grant = self.refresh_tokens.pop(args.get("refresh_token", ""), None)
            if grant is None:
                return self._error("invalid_refresh_token")
        else:
            grant = self.install_codes.pop(args.get("code", ""), None)
            if grant is None:
                return self._error("invalid_code")
        token = f"xoxb-{grant['team_id']}-{next(self._ids)}"
        self.token_teams[token] = grant["team_id"]
        answer = dict(access_token=token, token_type="bot", scope="commands,chat:write", bot_user_id=self.bot_user_id,
                      app_id="AQMSBOT", team={"id": grant["team_id"], "name": grant["team_name"]},
                      enterprise={"id": grant["enterprise_id"], "name": "Grid"} if grant["enterprise_id"] else None,
                      is_enterprise_install=False, authed_user={"id": grant["installer"]})
        if grant["rotating"]:
            refresh = f"xoxe-1-{grant['team_id']}-{next(self._ids)}"
            self.refresh_tokens[refresh] = grant
            answer.update(refresh_token=refresh, expires_in=43200)
        return self._ok(**answer)

    def _m_users_info(self, args):
        user = self.users.get(args["user"])
        return self._ok(user=user) if user else self._error("user_not_found")

    def _m_users_list(self, args):
        return self._ok(members=list(self.users.values()), response_metadata={"next_cursor": ""})

    def _m_conversations_info(self, args):
        channel = self.channels.get(args["channel"])
        return self._ok(channel=channel) if channel else self._error("channel_not_found")

    def _m_conversations_open(self, args):
        users = args.get("users")
        users = users.split(",") if isinstance(users, str) else users
        if not users or any(u not in self.users for u in users):
            return self._error("user_not_found")
        return self._ok(channel={"id": self._dm_channel(users[0])})

    def _m_conversations_create(self, args):
        name = args["name"]
        if not name or len(name) > 80 or any(c not in "abcdefghijklmnopqrstuvwxyz0123456789-_" for c in name):
            return self._error("invalid_name_specials")
        if self.channel_by_name(name):
            return self._error("name_taken")
        channel_id = f"C{next(self._ids):08d}"
        return self._ok(channel=self.add_channel(channel_id, name, members=(self.bot_user_id,),
                                                 is_private=bool(args.get("is_private"))))

    def _m_conversations_invite(self, args):
        channel = self.channels.get(args["channel"])
        if channel is None:
            return self._error("channel_not_found")
        users = args["users"].split(",") if isinstance(args["users"], str) else args["users"]
        for user in users:
            if user not in self.users:
                return self._error("user_not_found")
            if user not in channel["members"]:
                channel["members"].append(user)
        return self._ok(channel=channel)

    def _m_conversations_join(self, args):
        channel = self.channels.get(args["channel"])
        return self._ok(channel=channel) if channel else self._error("channel_not_found")

    def _m_chat_postMessage(self, args):
        channel = self._resolve_channel(args.get("channel"))
        if channel is None:
            return self._error("channel_not_found")
        if not args.get("text") and not args.get("blocks"):
            return self._error("no_text")
        problem = _block_problem(args.get("blocks"), limit=50)
        if problem:
            return self._error(problem)
        message = {"type": "message", "user": self.bot_user_id, "ts": self._ts(), "channel": channel,
                   "text": args.get("text", ""), "blocks": args.get("blocks") or [],
                   "thread_ts": args.get("thread_ts")}
        self.messages[channel].append(message)
        return self._ok(channel=channel, ts=message["ts"], message=message)

    def _m_chat_postEphemeral(self, args):
        channel = self._resolve_channel(args.get("channel"))
        if channel is None:
            return self._error("channel_not_found")
        if args.get("user") not in self.users:
            return self._error("user_not_in_channel")
        return self._ok(message_ts=self._ts())

    def _m_chat_update(self, args):
        channel = self._resolve_channel(args.get("channel"))
        message = next((m for m in self.messages.get(channel or "", []) if m["ts"] == args.get("ts")), None)
        if message is None and self.remember_updates and channel:
            message = {"type": "message", "user": self.bot_user_id, "ts": args["ts"], "channel": channel,
                       "text": "", "blocks": []}
            self.messages[channel].append(message)
        if message is None:
            return self._error("message_not_found")
        problem = _block_problem(args.get("blocks"), limit=50)
        if problem:
            return self._error(problem)
        message.update(text=args.get("text", message["text"]), blocks=args.get("blocks", message["blocks"]),
                       edited=True)
        return self._ok(channel=channel, ts=message["ts"], text=message["text"])

    def _m_views_open(self, args):
        if not args.get("trigger_id"):
            return self._error("invalid_trigger_id")
        return self._store_view(args["view"])

    def _m_views_push(self, args):
        return self._m_views_open(args)

    def _m_views_update(self, args):
        view_id = args.get("view_id") or next(
            (v["id"] for v in self.views.values() if v.get("external_id") == args.get("external_id")), None)
        if view_id not in self.views:
            return self._error("not_found")
        return self._store_view(args["view"], view_id=view_id)

    def _m_views_publish(self, args):
        if args["user_id"] not in self.users:
            return self._error("user_not_found")
        problem = _block_problem(args["view"].get("blocks"), limit=100)
        if problem:
            return self._error(problem)
        self.home_views[args["user_id"]] = args["view"]
        return self._ok(view=args["view"])

    def _store_view(self, view: dict[str, Any], view_id: str | None = None):
        problem = _block_problem(view.get("blocks"), limit=100)
        if problem or not 0 < len(view.get("title", {}).get("text", "")) <= 24:
            return self._error(problem or "invalid_arguments")
        view = {**view, "id": view_id or f"V{next(self._ids):08d}", "team_id": self.team_id}
        self.views[view["id"]] = view
        return self._ok(view=view)

    def _m_files_getUploadURLExternal(self, args):
        file_id = f"F{next(self._ids):08d}"
        self.files[file_id] = {"id": file_id, "name": args["filename"], "length": int(args["length"]), "data": b""}
        return self._ok(file_id=file_id, upload_url=f"{self.base_url}/upload/{file_id}")

    def _m_files_completeUploadExternal(self, args):
        files = args["files"]
        stored = []
        for entry in files:
            record = self.files.get(entry["id"])
            if record is None or not record["data"]:
                return self._error("file_not_found")
            record["title"] = entry.get("title")
            stored.append({"id": record["id"], "name": record["name"], "title": record.get("title")})
        channel = self._resolve_channel(args.get("channel_id"))
        if args.get("channel_id") and channel is None:
            return self._error("channel_not_found")
        if channel:
            self.messages[channel].append({"type": "message", "user": self.bot_user_id, "ts": self._ts(),
                                           "channel": channel, "text": args.get("initial_comment", ""),
                                           "blocks": [], "files": stored, "thread_ts": args.get("thread_ts")})
        return self._ok(files=stored)

    def receive_upload(self, file_id: str, data: bytes) -> bool:
        with self._lock:
            record = self.files.get(file_id)
            if record is None:
                return False
            record["data"] = data
            self.calls.append(Call("upload", {"file_id": file_id, "bytes": len(data)}, 200, {"ok": True}))
            return True

    def receive_response(self, token: str, body: dict[str, Any]) -> None:
        with self._lock:
            self.responses.append({"token": token, **body})
            self.calls.append(Call("response_url", body, 200, {"ok": True}))


def _block_problem(blocks: Any, *, limit: int) -> str | None:
    if blocks is None:
        return None
    if not isinstance(blocks, list):
        return "invalid_blocks_format"
    if len(blocks) > limit:
        return "invalid_blocks"
    return None


def _handler_for(slack: LocalSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test and console output clean
            pass

        def do_GET(self) -> None:
            self._api(dict(parse_qsl(urlparse(self.path).query)))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            path = urlparse(self.path).path
            if path.startswith("/upload/"):
                ok = slack.receive_upload(path.rsplit("/", 1)[-1], raw)
                return self._reply(200 if ok else 404, {}, {}, text="OK" if ok else "not found")
            if path.startswith("/respond/"):
                slack.receive_response(path.rsplit("/", 1)[-1], json.loads(raw or b"{}"))
                return self._reply(200, {}, {}, text="ok")
            content_type = self.headers.get("Content-Type", "")
            if "application/json" in content_type:
                args = json.loads(raw or b"{}")
            else:
                args = dict(parse_qsl(raw.decode()))
            args.update(dict(parse_qsl(urlparse(self.path).query)))
            self._api(args)

        def _api(self, args: dict[str, Any]) -> None:
            path = urlparse(self.path).path
            if not path.startswith("/api/"):
                return self._reply(404, {"ok": False, "error": "unknown_method"}, {})
            for key in JSON_FIELDS & args.keys():
                if isinstance(args[key], str) and args[key][:1] in "[{":
                    args[key] = json.loads(args[key])
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ").strip() or args.pop("token", None)
            status, body, headers = slack.handle(path[len("/api/"):], args, token)
            self._reply(status, body, headers)

        def _reply(self, status: int, body: dict, headers: dict, text: str | None = None) -> None:
            payload = (text if text is not None else json.dumps(body)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if text is not None else "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

    return Handler

