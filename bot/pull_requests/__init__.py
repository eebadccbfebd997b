"""Pull requests drive reviews: GitHub and GitLab webhooks open, move and close review requests.
Built on teams, reviews (what a pull request does to its request: bot/reviews/pull_requests.py) and
metrics (check runs and pipelines as quality-gate results).

- rules.py        payloads read into plain values; labels and paths → a specialization, additions +
                  deletions → a size, check and workflow names → gates (no database, no clock)
- connections.py  a team's webhook secret (derived, hashed, rotatable) and the signature check, its
                  repositories and rules, which logins are which Slack people
- service.py      what each verified delivery does, once
"""

from bot.pull_requests.connections import (
    PROVIDER_NAMES,
    Linked,
    add_repository,
    clean_login,
    connect,
    connection,
    github_sender,
    gitlab_sender,
    hash_secret,
    links_of,
    links_of_people,
    provider_named,
    remove_repository,
    repositories,
    repository_name,
    repository_owner,
    rotate,
    rules_of,
    save_rules,
    secret_for,
    unlink_login,
)
from bot.pull_requests.rules import (
    GITHUB,
    GITLAB,
    MalformedWebhook,
    Rules,
    size_of,
    specialization_of,
)
from bot.pull_requests.service import (
    DELIVERY_RETENTION,
    OUTBOX_RESULTS,
    Handled,
    forget_old_deliveries,
    handle,
    link_login,
)

PROVIDERS = (GITHUB, GITLAB)

__all__ = [
    "add_repository", "clean_login", "connect", "connection", "DELIVERY_RETENTION", "forget_old_deliveries",
    "GITHUB", "github_sender", "GITLAB", "gitlab_sender", "handle", "Handled", "hash_secret", "link_login",
    "Linked", "links_of", "links_of_people", "MalformedWebhook", "OUTBOX_RESULTS", "provider_named",
    "PROVIDER_NAMES", "PROVIDERS", "remove_repository", "repositories", "repository_name", "repository_owner",
    "rotate", "Rules", "rules_of", "save_rules", "secret_for", "size_of", "specialization_of", "unlink_login",
]
