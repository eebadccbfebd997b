"""Metrics: DoR and DoD checks, quality-gate results and defects from CI, and the KPIs of a period.

- service.py   recording checks, and the KPI figures of a period against the team's targets
- ci.py        what CI sends: the team's bearer tokens and the records of the ingestion API
"""

from bot.metrics.ci import (
    GATE_ALIASES,
    KEY_KEPT,
    RECORD_KINDS,
    TOKEN_VERBS,
    TOKENS_PER_TEAM,
    Answer,
    BatchProblems,
    Kind,
    Problem,
    answered_before,
    batch_fingerprint,
    claim_key,
    create_token,
    hash_token,
    idempotency_key,
    keep_answer,
    parse_batch,
    parse_gate,
    require_token_manager,
    revoke_tokens,
    token_owner,
)
from bot.metrics.service import (
    GATE_KPIS,
    KINDS,
    REASONS,
    CheckForm,
    Figure,
    GateFigure,
    ReasonShare,
    Report,
    figures_by_key,
    kpi_values,
    parse_minutes,
    parse_quick_check,
    recent_bounds,
    record_check,
    report,
    validate_check,
)
from storage.metrics import DOD, DOR  # the two kinds of check: Definition of Ready, of Done

__all__ = [
    "Answer", "answered_before", "batch_fingerprint", "claim_key", "idempotency_key", "keep_answer", "KEY_KEPT",
    "BatchProblems", "CheckForm", "create_token", "DOD", "DOR", "Figure", "figures_by_key", "GATE_ALIASES",
    "GATE_KPIS", "GateFigure", "hash_token", "Kind", "KINDS", "kpi_values", "parse_batch", "parse_gate",
    "parse_minutes", "parse_quick_check", "Problem", "REASONS", "ReasonShare", "recent_bounds", "record_check",
    "RECORD_KINDS", "Report", "report", "require_token_manager", "revoke_tokens", "token_owner", "TOKEN_VERBS",
    "TOKENS_PER_TEAM", "validate_check",
]
