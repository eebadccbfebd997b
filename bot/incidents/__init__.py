"""Incidents: declaring, the crisis checklist, the timeline, and the escalation matrix.

- rules.py     the guide's escalation matrix (section 5.2): levels, severities, the 24 h / 48 h defaults
               (DEFAULT_HOURS) and each team's thresholds
- service.py   declare, acknowledge, update, escalate, tick, resolve, the team's thresholds
- messages.py  what an incident says in Slack, through the outbox; the crisis checklist
- clock.py     escalating what came due, post-incident review reminders
"""

from bot.incidents.clock import (
    apply_escalation,
    due_escalations,
    escalate_due,
    remind_reviews,
    sweep,
)
from bot.incidents.messages import (
    CHECKLIST,
    CHECKLIST_KEYS,
    card_context,
    reference,
)
from bot.incidents.rules import (
    DEFAULT_HOURS,
    MAX_HOURS,
    MIN_HOURS,
    SEVERITIES,
    Thresholds,
    all_thresholds,
    escalation_groups,
    parse_hours,
    thresholds,
    validate_thresholds,
)
from bot.incidents.service import (
    REVIEW_DAYS_DEFAULT,
    TITLE_MAX,
    IncidentForm,
    UpdateForm,
    acknowledge,
    channel_name,
    check_may_resolve,
    declare,
    escalate_now,
    find,
    parse_reference,
    place_card,
    possible_duplicate,
    post_update,
    resolve,
    save_thresholds,
    tick,
    titles_match,
    validate,
)

__all__ = [
    "acknowledge", "all_thresholds", "apply_escalation", "card_context", "channel_name", "check_may_resolve",
    "CHECKLIST", "CHECKLIST_KEYS", "declare", "DEFAULT_HOURS", "due_escalations", "escalate_due", "escalate_now",
    "escalation_groups", "find", "IncidentForm", "MAX_HOURS", "MIN_HOURS", "parse_hours", "parse_reference",
    "place_card", "possible_duplicate", "post_update", "reference", "remind_reviews", "resolve",
    "REVIEW_DAYS_DEFAULT", "save_thresholds", "SEVERITIES", "sweep", "Thresholds", "thresholds", "tick",
    "TITLE_MAX", "titles_match", "UpdateForm", "validate", "validate_thresholds",
]
