from datetime import UTC, date, datetime
from types import SimpleNamespace

from bot.incidents import escalation_groups
from bot.reviews import Handover
from bot.teams import DEFAULT_SPECIALIZATIONS, KPIS, ROLES, Matrix, MatrixRow, TargetRow, TeamForm
from tests.templates.samples import LONG, WORD, many_users

REALISTIC_FORM = TeamForm(name="Payments", home_channel_id="CPAYMENTS", digest_channel_id="CDIGEST",
                          timezone="Europe/Berlin", roles={"team_lead": ["UALICE"], "engineering_manager": ["UBOB"]},
                          incident_channels=True)
EXTREME_FORM = TeamForm(name=LONG, home_channel_id="CPAYMENTS", timezone=LONG,
                        roles={role: many_users() for role in ROLES}, work_start="00:00", work_end="23:59")
TEAM = SimpleNamespace(id=1, name="Payments", home_channel_id="CPAYMENTS", digest_channel_id="CDIGEST",
                       timezone="Europe/Berlin", work_start="09:00", work_end="17:00", incident_channels=False,
                       specializations=list(DEFAULT_SPECIALIZATIONS))
LONG_SPECIALIZATIONS = [f"{LONG[:30]} {index}" for index in range(50)]  # 50 is a team's most
LONG_TEAM = SimpleNamespace(**{**vars(TEAM), "id": 2**31, "name": LONG, "timezone": LONG, "incident_channels": True,
                               "specializations": LONG_SPECIALIZATIONS})

REVIEWERS = [
    MatrixRow("UBOB", "gold", ["Frontend/UX"], 3, None, False),
    MatrixRow("UEVE", "gold", ["Backend/API", "Security"], 4, date(2026, 2, 6), True),
    MatrixRow("UCAROL", "silver", ["Frontend/UX"], 2, date(2025, 12, 24), False),
    MatrixRow("UIVY", "bronze", ["Database/Performance"], 1, None, False),
]
REALISTIC_MATRIX = Matrix(REVIEWERS, list(DEFAULT_SPECIALIZATIONS), ["Infrastructure", "Mobile"])
MANY_REVIEWERS = [MatrixRow(user, "gold", LONG_SPECIALIZATIONS, 20, date(2026, 12, 31), True) for user in many_users()]
EXTREME_MATRIX = Matrix(MANY_REVIEWERS, LONG_SPECIALIZATIONS, LONG_SPECIALIZATIONS)
REVIEWER = SimpleNamespace(user_id="UEVE", tier="gold", specializations=["Backend/API", "Security"], capacity=3,
                           away_until=date(2026, 2, 6))
LONG_REVIEWER = SimpleNamespace(user_id="U" + "9" * 30, tier="bronze", specializations=LONG_SPECIALIZATIONS,
                                capacity=20, away_until=None)
REQUEST = SimpleNamespace(number=7, label="CR-007", url="https://github.com/acme/payments/pull/812",
                          specialization="Backend/API")
LONG_REQUEST = SimpleNamespace(number=10**9, label="CR-1000000000", url="https://example.com/" + "a" * 1980,
                               specialization=LONG)
METADATA = '{"team": 1, "user": "UEVE", "page": 0, "url": "https://hooks.slack.com/actions/T0/1/abc", "channel": null}'

DEFAULT_TARGETS = [TargetRow(kpi, kpi.default) for kpi in KPIS]
CHANGED_TARGETS = [TargetRow(kpi, kpi.highest if index % 2 else kpi.lowest) for index, kpi in enumerate(KPIS)]
MATRIX_PAGE = dict(viewer="UBOB", notice=None, warning=None)

SAMPLES = {
    "teams/setup_modal.json.j2": ("view", [
        {"form": REALISTIC_FORM, "metadata": '{"team_id": 1, "channel_id": "CPAYMENTS"}', "no_team_lead": False,
         "escalation": escalation_groups(None), "name_yourself": False},
        {"form": TeamForm(name="", home_channel_id=None), "metadata": "{}", "no_team_lead": True,
         "escalation": escalation_groups(SimpleNamespace(escalation_hours={"SEV1": [4, 8]})), "name_yourself": True},
        {"form": EXTREME_FORM, "metadata": "{}", "no_team_lead": True,
         "escalation": escalation_groups(SimpleNamespace(escalation_hours={
             "SEV1": [0.25, 719.75], "SEV2": [1.5, 2.5], "SEV3": [700, 720], "SEV4": [3, 4]})),
         "name_yourself": True},
    ]),
    "teams/remove_modal.json.j2": ("view", [
        {"team": TEAM, "user_id": "UEVE", "open": [], "metadata": METADATA},
        {"team": TEAM, "user_id": "UEVE", "metadata": METADATA, "open": [
            (SimpleNamespace(role="primary", status="accepted"), REQUEST),
            (SimpleNamespace(role="secondary", status="assigned"), SimpleNamespace(**{**vars(REQUEST), "number": 9}))]},
        {"team": LONG_TEAM, "user_id": "U" + "9" * 30, "metadata": METADATA,
         "open": [(SimpleNamespace(role="secondary", status="assigned"), LONG_REQUEST)] * 200},
    ]),
    "reviews/reviewer_removed.json.j2": ("message", [
        {"team": TEAM, "user_id": "UEVE", "actor_id": "UALICE", "handed": []},
        {"team": TEAM, "user_id": "UEVE", "actor_id": "UALICE", "handed": [
            Handover(REQUEST, SimpleNamespace(role="primary"), SimpleNamespace(reviewer_id="UIVY")),
            Handover(REQUEST, SimpleNamespace(role="primary"), None),
            Handover(REQUEST, SimpleNamespace(role="secondary"), None)]},
        {"team": LONG_TEAM, "user_id": "UEVE", "actor_id": "UALICE",
         "handed": [Handover(LONG_REQUEST, SimpleNamespace(role="secondary"), None)] * 200},
    ]),
    "teams/setup_view.json.j2": ("message", [
        {"team": SimpleNamespace(**vars(TEAM), work_days="mon,tue,wed,thu,fri", digest_time="09:00"),
         "roles": {"team_lead": ["UALICE"], "engineering_manager": ["UBOB"]}, "escalation": escalation_groups(None),
         "managers": ["UALICE", "UBOB"], "no_team_lead": False},
        {"team": SimpleNamespace(**vars(LONG_TEAM), work_days="mon,tue,wed,thu,fri,sat,sun", digest_time="23:59"),
         "roles": {role: many_users() for role in ROLES}, "managers": many_users(), "no_team_lead": True,
         "escalation": escalation_groups(SimpleNamespace(escalation_hours={
             "SEV1": [0.25, 719.75], "SEV2": [1.5, 2.5], "SEV3": [700, 720], "SEV4": [3, 4]}))},
        {"team": SimpleNamespace(**vars(TEAM), work_days="sat", digest_time="07:00", escalation_hours=None),
         "roles": {}, "escalation": escalation_groups(None), "managers": [], "no_team_lead": True},
    ]),
    "teams/saved.json.j2": ("message", [
        {"team": TEAM, "roles": {"team_lead": ["UALICE"]}, "created": True, "no_team_lead": False},
        {"team": LONG_TEAM, "roles": {role: many_users() for role in ROLES}, "created": False, "no_team_lead": True},
    ]),
    "teams/reviewers.json.j2": ("message", [
        {**MATRIX_PAGE, "team": TEAM, "matrix": REALISTIC_MATRIX, "rows": REVIEWERS, "page": 0, "can_manage": True},
        {**MATRIX_PAGE, "team": TEAM, "matrix": REALISTIC_MATRIX, "rows": REVIEWERS, "page": 0, "can_manage": False,
         "viewer": "UEVE"},
        {**MATRIX_PAGE, "team": TEAM, "matrix": Matrix([], list(DEFAULT_SPECIALIZATIONS), []), "rows": [],
         "page": 0, "can_manage": True, "warning": "Payments has no team lead yet."},
        {**MATRIX_PAGE, "team": LONG_TEAM, "matrix": EXTREME_MATRIX, "rows": EXTREME_MATRIX.page(7)[0], "page": 7,
         "can_manage": True, "notice": LONG, "warning": LONG},
        {**MATRIX_PAGE, "team": LONG_TEAM, "matrix": EXTREME_MATRIX, "rows": EXTREME_MATRIX.page(0)[0], "page": 0,
         "can_manage": False, "notice": LONG, "warning": LONG},
    ]),
    "teams/reviewer_modal.json.j2": ("view", [
        {"team": TEAM, "reviewer": None, "metadata": METADATA},
        {"team": TEAM, "reviewer": REVIEWER, "metadata": METADATA},
        {"team": LONG_TEAM, "reviewer": LONG_REVIEWER, "metadata": METADATA},
    ]),
    "teams/away_modal.json.j2": ("view", [
        {"team": TEAM, "reviewer": REVIEWER, "metadata": METADATA, "today": date(2026, 1, 5)},
        {"team": LONG_TEAM, "reviewer": LONG_REVIEWER, "metadata": METADATA, "today": date(2026, 1, 5)},
    ]),
    "teams/specializations_modal.json.j2": ("view", [
        {"team": TEAM, "metadata": METADATA, "limit": 50},
        {"team": LONG_TEAM, "metadata": METADATA, "limit": 50},
    ]),
    "teams/reviewer_added.json.j2": ("message", [
        {"team": TEAM, "reviewer": REVIEWER, "actor_id": "UALICE"},
        {"team": LONG_TEAM, "reviewer": LONG_REVIEWER, "actor_id": "U" + WORD},
    ]),
    "teams/targets.json.j2": ("message", [
        {"team": TEAM, "rows": DEFAULT_TARGETS, "can_manage": True, "notice": None, "warning": None},
        {"team": TEAM, "rows": CHANGED_TARGETS, "can_manage": False, "notice": "2 targets are changed.",
         "warning": "Payments has no team lead yet."},
        {"team": LONG_TEAM, "rows": CHANGED_TARGETS, "can_manage": True, "notice": LONG, "warning": LONG},
    ]),
    "teams/targets_modal.json.j2": ("view", [
        {"team": TEAM, "rows": DEFAULT_TARGETS, "metadata": METADATA},
        {"team": LONG_TEAM, "rows": CHANGED_TARGETS, "metadata": METADATA},
    ]),
}

SAMPLES["teams/pick_team.json.j2"] = ("message", [
    {"choices": [(1, "Payments", '{"team": 1, "text": "risk list"}'), (2, "Platform", '{"team": 2, "text": "risk list"}')],
     "channels": ["CPAYMENTS", "CPLATFORM"]},
    {"choices": [(n, LONG, '{"team": %d, "text": "%s"}' % (n, "x" * 1900)) for n in range(200)],
     "channels": [f"C{n:08d}" for n in range(200)]},
])

SAMPLES["teams/settings.json.j2"] = ("message", [
    {"quiet": None, "timezone": None, "waiting": 0, "next": None, "changed": False},
    {"quiet": "18:00-09:00", "timezone": "Europe/Berlin", "waiting": 3,
     "next": datetime(2026, 3, 3, 8, tzinfo=UTC), "changed": True},
])

SAMPLES["teams/remind_later_modal.json.j2"] = ("view", [
    {"timezone": "Europe/Berlin", "day": "2026-03-03", "at": "09:00", "days": 30,
     "metadata": '{"item_id": 41, "channel_id": "D0EVE"}'},
    {"timezone": "America/Argentina/ComodRivadavia", "day": "2026-12-31", "at": "23:00", "days": 30,
     "metadata": '{"item_id": 2147483647, "channel_id": null}'},
])
