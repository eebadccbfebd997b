"""App Home: what is on one person's plate — reviews assigned to them and requested by them, the
risks they own, the incidents they command or that are open in their teams — and their teams' KPIs
over the last 7 days against targets.

Each list shows its first few items (with buttons into their flows) and counts the rest, so the
Home tab stays within Slack's 100 blocks whatever a person has open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Generic, TypeVar

from sqlmodel import Session

from bot import digests, metrics, teams
from bot.risks import band_of, bands_of, label
from storage import incidents as incident_store
from storage import reviews as review_store
from storage import risks as risk_store
from storage import teams as team_store
from storage.teams import Team

SHOWN = 5  # items of each list shown with their buttons; the rest are counted
TEAMS_SHOWN = 5
RECENT = timedelta(days=7)  # the KPI summary's period

T = TypeVar("T")


@dataclass(frozen=True)
class Clipped(Generic[T]):
    """The first items of a list, and how many there are in all."""

    items: list[T]
    total: int

    @property
    def more(self) -> int:
        return max(self.total - len(self.items), 0)


@dataclass(frozen=True)
class ReviewToDo:
    """A review assigned to the person: waiting for their Accept, or accepted and in progress."""

    assignment_id: int
    key: str  # CR-007
    url: str
    specialization: str
    size: str
    author_id: str
    role: str  # primary | secondary
    status: str  # assigned | accepted
    hours_waiting: float  # working hours since it was assigned
    stalled: bool
    team_name: str


@dataclass(frozen=True)
class RequestedReview:
    """A review the person asked for that is not finished yet."""

    key: str
    url: str
    specialization: str
    status: str  # waiting (nobody could take it yet) | open
    reviewers: list[tuple[str, str, str]]  # (user, role, assigned | accepted | done), who is on it now
    hours_open: float  # working hours since it was requested
    stalled: bool
    team_name: str


@dataclass(frozen=True)
class OwnedRisk:
    risk_id: int
    key: str  # QR-001
    title: str
    score: int
    band: str
    review_by: date | None
    review_due: bool  # its review date has come
    team_name: str


@dataclass(frozen=True)
class HomeIncident:
    incident_id: int
    key: str  # INC-004
    title: str
    severity: str
    level: int
    commander_id: str
    channel_id: str | None
    hours_open: float  # wall-clock hours since declared
    acknowledged: bool
    may_resolve: bool  # the person is its commander or leads its team
    team_name: str


@dataclass
class HomePage:
    reviews_to_do: Clipped[ReviewToDo]
    reviews_requested: Clipped[RequestedReview]
    risks: Clipped[OwnedRisk]
    incidents: Clipped[HomeIncident]
    reports: list[metrics.Report] = field(default_factory=list)  # the KPI summary, one per team shown
    own: bool = False  # the reports are the person's own teams (else: the workspace's)
    more_teams: int = 0
    any_team: bool = False


def home_page(session: Session, workspace_id: str, user_id: str, *, now: datetime) -> HomePage:
    """Everything the person's Home tab shows, as of `now`."""
    mine = team_store.teams_of_user(session, workspace_id, user_id)
    shown = mine or team_store.teams(session, workspace_id)
    known = _TeamCache(session, workspace_id)
    reports = [digests.figures(session, team, metrics.recent_bounds(now, RECENT))[0] for team in shown[:TEAMS_SHOWN]]
    return HomePage(
        reviews_to_do=reviews_to_do(session, workspace_id, user_id, known, now=now),
        reviews_requested=reviews_requested(session, workspace_id, user_id, known, now=now),
        risks=owned_risks(session, workspace_id, user_id, known, now=now),
        incidents=incidents_of(session, workspace_id, user_id, [team.id for team in mine], known, now=now),
        reports=reports, own=bool(mine), more_teams=max(len(shown) - TEAMS_SHOWN, 0), any_team=bool(shown))


def reviews_to_do(session: Session, workspace_id: str, user_id: str, known: "_TeamCache", *,
                  now: datetime) -> Clipped[ReviewToDo]:
    pairs, total = review_store.open_reviews_of(session, workspace_id, user_id, limit=SHOWN)
    items = []
    for assignment, request in pairs:
        team = known.get(request.team_id)
        items.append(ReviewToDo(
            assignment_id=assignment.id, key=request.label, url=request.url, specialization=request.specialization,
            size=request.size, author_id=request.author_id, role=assignment.role, status=assignment.status,
            hours_waiting=_working_hours(team, assignment.assigned_at, now), stalled=request.stalled_at is not None,
            team_name=team.name))
    return Clipped(items, total)


def reviews_requested(session: Session, workspace_id: str, user_id: str, known: "_TeamCache", *,
                      now: datetime) -> Clipped[RequestedReview]:
    requests, total = review_store.open_requests_of(session, workspace_id, user_id, limit=SHOWN)
    assignments = review_store.assignments_of_requests(session, workspace_id, [r.id for r in requests])
    items = []
    for request in requests:
        team = known.get(request.team_id)
        on_it = [(a.reviewer_id, a.role, a.status) for a in assignments[request.id]
                 if a.is_active or a.status == review_store.FINISHED]
        items.append(RequestedReview(
            key=request.label, url=request.url, specialization=request.specialization, status=request.status,
            reviewers=on_it, hours_open=_working_hours(team, request.created_at, now),
            stalled=request.stalled_at is not None, team_name=team.name))
    return Clipped(items, total)


def owned_risks(session: Session, workspace_id: str, user_id: str, known: "_TeamCache", *,
                now: datetime) -> Clipped[OwnedRisk]:
    page = risk_store.register_page(session, workspace_id, owner_id=user_id, limit=SHOWN)
    items = []
    for risk in page.risks:
        team = known.get(risk.team_id)
        items.append(OwnedRisk(
            risk_id=risk.id, key=label(risk.number), title=risk.title, score=risk.score,
            band=band_of(risk.score, bands_of(team)), review_by=risk.review_by,
            review_due=risk.review_by is not None and risk.review_by <= teams.local_today(team, now), team_name=team.name))
    return Clipped(items, page.total)


def incidents_of(session: Session, workspace_id: str, user_id: str, team_ids: list[int], known: "_TeamCache", *,
                 now: datetime) -> Clipped[HomeIncident]:
    found, total = incident_store.open_incidents_for(session, workspace_id, user_id, team_ids, limit=SHOWN)
    items = []
    for incident in found:
        team = known.get(incident.team_id)
        items.append(HomeIncident(
            incident_id=incident.id, key=f"INC-{incident.number:03d}", title=incident.title,
            severity=incident.severity, level=incident.level, commander_id=incident.commander_id,
            channel_id=incident.channel_id, hours_open=max((now - incident.declared_at).total_seconds(), 0) / 3600,
            acknowledged=incident.acknowledged_by is not None,
            # Workspace admins may resolve too; Home does not ask Slack who they are: the card has the button.
            may_resolve=teams.may_manage(session, team, user_id, workspace_admin=False, also=[incident.commander_id]),
            team_name=team.name))
    return Clipped(items, total)


def _working_hours(team: Team, since: datetime, now: datetime) -> float:
    return teams.working_hours(team).elapsed(since, max(now, since)).total_seconds() / 3600


class _TeamCache:
    """Teams by id, each read once per page."""

    def __init__(self, session: Session, workspace_id: str):
        self.session, self.workspace_id, self.found = session, workspace_id, {}

    def get(self, team_id: int) -> Team:
        if team_id not in self.found:
            self.found[team_id] = team_store.get_team(self.session, self.workspace_id, team_id)
        return self.found[team_id]
