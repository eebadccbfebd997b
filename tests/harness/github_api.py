"""A stand-in for GitHub's REST API on loopback: records the calls the bot makes (the reviewer
requests it sends through the outbox) and answers like GitHub, or with errors on demand."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class GitHubCall:
    method: str
    path: str
    headers: dict[str, str]
    body: dict
    status: int


class FakeGitHubApi:
    def __init__(self) -> None:
        self.calls: list[GitHubCall] = []
        self.files: dict[int, list[str]] = {}  # a pull request's changed paths, by its number
        self._faults: deque[tuple[int, dict[str, str]]] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-github", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def __enter__(self) -> "FakeGitHubApi":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail(self, status: int, times: int = 1, headers: dict[str, str] | None = None) -> None:
        """Answer the next `times` calls with `status` (and these headers)."""
        with self._lock:
            self._faults.extend([(status, headers or {})] * times)

    def answered(self, status: int = 201) -> list[GitHubCall]:
        with self._lock:
            return [call for call in self.calls if call.status == status]

    def _answer(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, object, dict]:
        body = json.loads(raw or b"{}")
        with self._lock:
            status, extra = self._faults.popleft() if self._faults else (201 if method == "POST" else 200, {})
            self.calls.append(GitHubCall(method, path, headers, body, status))
        if status < 400 and method == "GET" and "/files?" in path:
            number, page = int(path.split("/pulls/")[1].split("/")[0]), int(path.rsplit("page=", 1)[1])
            return status, [{"filename": name, "status": "modified"}
                            for name in self.files.get(number, [])[(page - 1) * 100:page * 100]], extra
        if status >= 400:
            return status, {"message": "Reviews may only be requested from collaborators."
                            if status == 422 else "Server Error"}, extra
        number = int(path.split("/pulls/")[1].split("/")[0]) if "/pulls/" in path else 0
        return status, {"number": number, "requested_reviewers": [{"login": r} for r in body.get("reviewers", [])]}, extra


def _handler_for(api: FakeGitHubApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            self._reply(*api._answer("GET", self.path, dict(self.headers), b""))

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._reply(*api._answer("POST", self.path, dict(self.headers), raw))

        def _reply(self, status: int, body: object, extra: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
