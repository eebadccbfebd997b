"""The web dashboard: sign-in links and sessions (access), and read models over every domain (views,
audit). The HTTP side is app/dashboard.py; the pages are templates/dashboard/*.html.j2."""

from bot.dashboard.access import (
    LINK_LIFETIME,
    SESSION_LIFETIME,
    Viewer,
    issue_link,
    redeem,
    sign_out,
    viewer,
    visible_team,
    visible_teams,
)
from bot.dashboard.pages import page
from bot.dashboard.views import summaries, summary, team_page

__all__ = ["issue_link", "LINK_LIFETIME", "page", "redeem", "SESSION_LIFETIME", "sign_out", "summaries", "summary",
           "team_page",
           "viewer", "Viewer", "visible_team", "visible_teams"]
