"""Samples of the pull-request templates: a fresh connection, a used one, a read-only look, and
extremes (200 repositories with long names, rules with 10,000-character names)."""

from datetime import UTC, datetime
from types import SimpleNamespace

from bot.pull_requests import Rules
from storage.pull_requests import LoginLink, WebhookConnection
from tests.templates.samples import LONG, MANY

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
TEAM = SimpleNamespace(name="Payments", specializations=["Backend/API", "Frontend/UX"])
LONG_TEAM = SimpleNamespace(name=LONG, specializations=[LONG[:80]])
CONNECTION = WebhookConnection(id=1, workspace_id="T1", team_id=1, provider="github", salt="s", secret_hash="h",
                               created_by="UALICE", created_at=NOW, rotated_at=NOW, last_delivery_at=NOW)
SECRET = "qmswh_" + "A" * 43
RULES = Rules(labels={"backend": "Backend/API", "ui": "Frontend/UX"}, paths={"web/": "Frontend/UX"},
              gates={"CI / unit": "unit"}, default_specialization="Backend/API")
HUGE_RULES = Rules(labels={f"{LONG[:200]}{n}": LONG for n in range(MANY)},
                   paths={f"{LONG[:200]}{n}/": LONG for n in range(MANY)},
                   gates={f"{LONG[:200]}{n}": "unit" for n in range(MANY)}, default_specialization=LONG)


def setup(**overrides) -> dict:
    values = dict(provider="github", team=TEAM, url="https://qms.example.com/webhooks/github", secret=None,
                  connection=CONNECTION, repositories=["acme/payments-api", "acme/checkout"], rules=RULES, added=[],
                  removed=[], may_change=True, rotated=False, requests_reviewers=False)
    return values | overrides


SAMPLES = {
    "pull_requests/setup.json.j2": ("message", [
        setup(secret=SECRET, connection=None, repositories=[], rules=Rules()),
        setup(secret=SECRET, rotated=True, requests_reviewers=True),
        setup(added=["acme/checkout"], removed=["acme/old"]),
        setup(provider="gitlab", url="http://localhost:3000/webhooks/gitlab", repositories=["acme/platform/web"]),
        setup(connection=None, may_change=False, repositories=[]),
        setup(team=LONG_TEAM, url="https://" + "q" * 2000 + ".example.com/webhooks/github",
              repositories=[f"{'o' * 100}/{'r' * 100}-{n}" for n in range(MANY)], rules=HUGE_RULES,
              added=[LONG] * 50, removed=[LONG] * 50),
    ]),
    "pull_requests/links.json.j2": ("message", [
        {"links": [], "providers": ("github", "gitlab"), "unknown": None},
        {"links": [LoginLink(workspace_id="T1", provider="github", login="octocat", user_id="UALICE",
                             linked_by="UALICE", linked_at=NOW),
                   LoginLink(workspace_id="T1", provider="gitlab", login="jsmith", user_id="UALICE",
                             linked_by="UBOB", linked_at=NOW)], "providers": ("github", "gitlab"), "unknown": "bitbucket"},
        {"links": [LoginLink(workspace_id="T1", provider="github", login=f"{'&<>' * 33}{n}", user_id="UALICE",
                             linked_by="UALICE", linked_at=NOW) for n in range(MANY)],
         "providers": ("github", "gitlab"), "unknown": LONG},
    ]),
}
