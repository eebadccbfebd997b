"""The web dashboard's HTTP side: sign-in by single-use link, the session cookie, CSRF on every POST,
and the pages (overview, team, heat map, audit). What the pages show is bot/dashboard; how they look
is templates/dashboard/.

- GET /dashboard/signin?token=… uses a link once and sets the session cookie (HttpOnly, SameSite=Lax,
  Secure unless the host is loopback); an expired, used or forged link gets a page saying so (403)
  and no cookie.
- Pages without a live session redirect to /dashboard/signin, which says how to get a link.
- A team of another workspace, or one the viewer may not see, is a 404.
- Every POST carries the session's CSRF token (a hidden field); without it, 403.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import wraps
from typing import Callable

from flask import Blueprint, Response, redirect, request

from app.services import Runtime
from bot import dashboard
from bot.core import render
from bot.dashboard import audit, pack
from bot.core.errors import Refusal
from bot.core.timeutil import utcnow

COOKIE = "qms_dashboard"
ROW_ID_LIMIT = 2**31  # a row id in a URL: 1 to 2³¹−1, like handlers/core/payload.py: row_id
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def blueprint(services: Runtime, *, now: Callable[[], datetime] = utcnow) -> Blueprint:
    pages = Blueprint("dashboard", __name__)
    minutes = int(dashboard.LINK_LIFETIME.total_seconds() // 60)

    def html(body: str, status: int = 200) -> Response:
        response = Response(body, status, content_type="text/html; charset=utf-8")
        response.headers.update(SECURITY_HEADERS)
        return response

    def message(kind: str, status: int) -> Response:
        return html(dashboard.page("message", kind=kind, minutes=minutes, viewer=None), status)

    def signed_in(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            with services.transaction() as session:
                who = dashboard.viewer(session, request.cookies.get(COOKIE), now=now())
            if who is None:
                return redirect("/dashboard/signin", 303)
            if request.method == "POST" and not who.csrf_ok(request.form.get("csrf_token")):
                return message("forbidden", 403)
            return view(who, *args, **kwargs)
        return wrapper

    @pages.get("/dashboard/signin")
    def signin() -> Response:
        token = request.args.get("token")
        if token is None:
            return message("signin", 200)
        try:
            with services.transaction() as session:
                session_id = dashboard.redeem(session, token, now=now())
        except Refusal:
            return message("bad_link", 403)
        response = redirect("/dashboard", 303)
        response.set_cookie(COOKIE, session_id, max_age=int(dashboard.SESSION_LIFETIME.total_seconds()),
                            httponly=True, secure=_secure(), samesite="Lax", path="/dashboard")
        response.headers.update(SECURITY_HEADERS)
        return response

    @pages.post("/dashboard/signout")
    @signed_in
    def signout(who) -> Response:
        with services.transaction() as session:
            dashboard.sign_out(session, who)
        response = message("signed_out", 200)
        response.delete_cookie(COOKIE, path="/dashboard", httponly=True, secure=_secure(), samesite="Lax")
        return response

    @pages.get("/dashboard")
    @signed_in
    def overview(who) -> Response:
        moment = now()
        with services.transaction() as session:
            summaries = dashboard.summaries(session, dashboard.visible_teams(session, who), now=moment)
        return html(dashboard.page("overview", viewer=who, summaries=summaries))

    @pages.get("/dashboard/teams/<int:team_id>")
    @signed_in
    def team(who, team_id: int) -> Response:
        if not 0 < team_id < ROW_ID_LIMIT:
            return message("not_found", 404)
        with services.transaction() as session:
            found = dashboard.visible_team(session, who, team_id)
            if found is None:
                return message("not_found", 404)
            page = dashboard.team_page(session, found, now=now())
        return html(dashboard.page("team", viewer=who, page=page))

    @pages.get("/dashboard/audit")
    @signed_in
    def audit_log(who) -> Response:
        with services.transaction() as session:
            found = audit.audit_page(session, who, request.args)
        today = now().date()
        return html(dashboard.page("audit", viewer=who, page=found, notes=[_said(n) for n in found.filters.notes],
                                   pack_from=(today - timedelta(days=90)).isoformat(), pack_to=today.isoformat()))

    @pages.post("/dashboard/audit/pack")
    @signed_in
    def audit_pack(who) -> Response:
        with services.transaction() as session:
            team_id = request.form.get("team", "")
            found = dashboard.visible_team(session, who, int(team_id)) \
                if team_id.isascii() and team_id.isdecimal() and 0 < int(team_id) < ROW_ID_LIMIT else None
            if found is None:
                return message("not_found", 404)
            try:
                start, end = (date.fromisoformat(request.form.get(k, "")) for k in ("from", "to"))
                content, _summary = pack.build(session, found, start, end, now=now())
            except (ValueError, Refusal):
                return html(dashboard.page("message", kind="bad_pack", minutes=minutes, viewer=who), 400)
        response = Response(content, 200, content_type="application/zip")
        response.headers["Content-Disposition"] = f'attachment; filename="{pack.filename(found, start, end)}"'
        response.headers.update(SECURITY_HEADERS)
        return response

    return pages


def _said(phrase) -> str:
    return render.phrase(phrase.key, **phrase.params)


def _secure() -> bool:
    """Secure cookies everywhere but on loopback (http://localhost while trying the dashboard)."""
    return request.host.rsplit(":", 1)[0] not in LOOPBACK if request.host.count(":") <= 1 else \
        not request.host.startswith("[::1]")
