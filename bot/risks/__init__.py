"""Risks: the guide's Quality Risk Register (section 5.1), per team, numbered per workspace (QR-001).

- rules.py     IDs, levels, score bands (a risk's band is decided here: band_of), forms, the quick add
- service.py   logging, editing, re-scoring, ticking, closing, the bands, listing
- view.py      a risk as plain values for templates and exports, and its history
- messages.py  what the register says in Slack (cards, DMs, notes), through the outbox
- clock.py     reminders of review dates
- export.py    the register as CSV and JSON
"""

from bot.risks.clock import (
    remind_due_reviews,
)
from bot.risks.export import (
    queue_csv_for,
    register_views,
    safe_cell,
    to_csv,
    to_json,
)
from bot.risks.rules import (
    BANDS,
    DEFAULT_BANDS,
    RiskForm,
    action_lines,
    band_counts,
    band_of,
    band_ranges,
    bands_from,
    checkbox_text,
    label,
    level,
    parse_bands,
    parse_label,
    parse_quick_add,
    review_date,
    validate,
)
from bot.risks.service import (
    bands_of,
    checklist_part,
    close_risk,
    edit_risk,
    listing,
    log_risk,
    open_risk,
    require_closer,
    require_editor,
    rescore,
    risk_detail,
    set_bands,
    tick,
)
from bot.risks.view import (
    ActionView,
    HistoryEntry,
    RiskView,
    describe,
)

__all__ = [
    "action_lines", "ActionView", "band_counts", "band_of", "band_ranges", "BANDS", "bands_from", "bands_of",
    "checkbox_text", "checklist_part", "close_risk", "DEFAULT_BANDS", "describe", "edit_risk", "HistoryEntry",
    "label", "level", "listing", "log_risk", "open_risk", "parse_bands", "parse_label", "parse_quick_add",
    "queue_csv_for", "register_views", "remind_due_reviews", "require_closer", "require_editor", "rescore",
    "review_date", "risk_detail", "RiskForm", "RiskView", "safe_cell", "set_bands", "tick", "to_csv", "to_json",
    "validate",
]
