"""A minimal cookie-keeping HTTP client for the dashboard's tests: real requests, no redirects followed,
so each answer (303, Set-Cookie, 403, 404) can be checked as the server gave it."""

from __future__ import annotations

import http.client
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit


@dataclass
class Answer:
    status: int
    content: bytes
    headers: http.client.HTTPMessage

    @property
    def body(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def set_cookies(self) -> list[str]:
        return self.headers.get_all("Set-Cookie") or []


@dataclass
class Client:
    base: str
    cookies: dict[str, str] = field(default_factory=dict)

    def get(self, path: str, *, host: str | None = None) -> Answer:
        return self._send("GET", path, None, host)

    def post(self, path: str, form: dict[str, str]) -> Answer:
        return self._send("POST", path, urlencode(form), None)

    def _send(self, method: str, path: str, body: str | None, host: str | None) -> Answer:
        parts = urlsplit(self.base)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        headers = {"Host": host} if host else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            answer = Answer(response.status, response.read(), response.headers)
        finally:
            connection.close()
        for raw in answer.set_cookies:
            for name, morsel in SimpleCookie(raw).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return answer
