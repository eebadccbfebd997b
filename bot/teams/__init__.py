"""Teams, the base domain: who is who in a team, its reviewer matrix, its targets and working hours.

Every other domain builds on this one; it imports none of them.

- service.py    setting a team up (`/qms setup`), its roles, and who may change what
- reviewers.py  the guide's review coordination matrix: tiers, specializations, capacity, away
- targets.py    the guide's KPIs, their default targets and each team's own
- workhours.py  how much of a span fell inside the team's working days and hours
"""

from bot.teams.reviewers import (
    DEFAULT_SPECIALIZATIONS,
    SPECIALIZATIONS_MAX,
    Matrix,
    MatrixRow,
    ReviewerForm,
    is_away,
    matrix,
    parse_specializations,
    remove_reviewer,
    replace_specializations,
    reviewer_data,
    save_reviewer,
    save_specializations,
    set_away,
    validate_reviewer,
    validate_specializations,
)
from bot.teams.service import (
    MANAGING_ROLES,
    ROLE_FIELDS,
    ROLES,
    TEAM_NAME_MAX,
    TeamForm,
    describe,
    describe_form,
    form_of,
    has_team_lead,
    local_today,
    may_manage,
    no_team_lead_warning,
    people_in,
    require_manager,
    save_team,
    validate_team,
    working_hours,
)
from bot.teams.targets import (
    BY_KEY,
    KPIS,
    Kpi,
    TargetRow,
    parse_targets,
    reset_targets,
    save_targets,
    target_rows,
    target_values,
    target_values_by_team,
)
from bot.teams.workhours import (
    CLOCK_TIME,
    DAY_NAMES,
    WorkingHours,
)

__all__ = [
    "BY_KEY", "CLOCK_TIME", "DAY_NAMES", "DEFAULT_SPECIALIZATIONS", "describe", "describe_form", "form_of",
    "has_team_lead", "is_away", "Kpi", "KPIS", "local_today", "MANAGING_ROLES", "Matrix", "matrix", "MatrixRow",
    "may_manage", "no_team_lead_warning", "parse_specializations", "parse_targets", "people_in", "remove_reviewer",
    "replace_specializations", "require_manager", "reset_targets", "reviewer_data", "ReviewerForm", "ROLE_FIELDS",
    "ROLES", "save_reviewer", "save_specializations", "save_targets", "save_team", "set_away",
    "SPECIALIZATIONS_MAX", "target_rows", "target_values", "target_values_by_team", "TargetRow", "TEAM_NAME_MAX",
    "TeamForm", "validate_reviewer",
    "validate_specializations", "validate_team", "working_hours", "WorkingHours",
]
