"""The audit page's filters (team, domain, person, period), read from a query string, and its events.

A filter that is unknown, malformed, or names a team the viewer may not see is dropped, and the page
says so in a note (`Filters.notes`, phrase keys); the page is never refused for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Mapping

from sqlmodel import Session

from bot.core.errors import Phrase
from bot.dashboard.access import Viewer, visible_teams
from storage import dashboard as store
from storage.audit import AuditEvent
from storage.teams import Team

KNOWN = ("team", "domain", "person", "from", "to", "page")
DOMAINS = tuple(store.DOMAIN_TYPES)
PAGE_SIZE = 200
PAGES_MAX = 1000


@dataclass
class Filters:
    team: Team | None = None
    domain: str | None = None
    person: str | None = None
    start: date | None = None
    end: date | None = None  # inclusive
    page: int = 0
    notes: list[Phrase] = field(default_factory=list)

    def query(self, **changes) -> dict[str, str]:
        values = {"team": str(self.team.id) if self.team else "", "domain": self.domain or "",
                  "person": self.person or "", "from": self.start.isoformat() if self.start else "",
                  "to": self.end.isoformat() if self.end else ""} | changes
        return {k: v for k, v in values.items() if v}


@dataclass
class AuditPage:
    filters: Filters
    teams: list[Team]
    events: list[AuditEvent]
    domains: tuple[str, ...] = DOMAINS

    @property
    def has_next(self) -> bool:
        return len(self.events) == PAGE_SIZE


def read_filters(session: Session, who: Viewer, args: Mapping[str, str]) -> tuple[Filters, list[Team]]:
    teams = visible_teams(session, who)
    filters = Filters()
    for name in args:
        if name not in KNOWN:
            filters.notes.append(Phrase("dashboard.unknown_filter", {"name": name}))
    raw = {name: (args.get(name) or "").strip() for name in KNOWN}
    if raw["team"]:
        filters.team = next((t for t in teams if raw["team"].isascii() and raw["team"].isdecimal()
                             and t.id == int(raw["team"])), None)
        if filters.team is None:
            filters.notes.append(Phrase("dashboard.bad_filter", {"name": "team", "value": raw["team"]}))
    if raw["domain"]:
        filters.domain = raw["domain"] if raw["domain"] in DOMAINS else None
        if filters.domain is None:
            filters.notes.append(Phrase("dashboard.bad_filter", {"name": "domain", "value": raw["domain"]}))
    if raw["person"]:
        person = raw["person"].lstrip("@")
        if person.isascii() and person.replace(":", "").replace("-", "").isalnum() and len(person) <= 64:
            filters.person = person
        else:
            filters.notes.append(Phrase("dashboard.bad_filter", {"name": "person", "value": raw["person"]}))
    for name, attribute in (("from", "start"), ("to", "end")):
        if raw[name]:
            try:
                setattr(filters, attribute, date.fromisoformat(raw[name]))
            except ValueError:
                filters.notes.append(Phrase("dashboard.bad_filter", {"name": name, "value": raw[name]}))
    if raw["page"]:
        if raw["page"].isascii() and raw["page"].isdecimal() and int(raw["page"]) < PAGES_MAX:
            filters.page = int(raw["page"])
        else:
            filters.notes.append(Phrase("dashboard.bad_filter", {"name": "page", "value": raw["page"]}))
    return filters, teams


def audit_page(session: Session, who: Viewer, args: Mapping[str, str]) -> AuditPage:
    filters, teams = read_filters(session, who, args)
    team_ids = [filters.team.id] if filters.team else [t.id for t in teams]
    events = store.audit_events(
        session, who.workspace_id, team_ids=team_ids, domain=filters.domain, actor_id=filters.person,
        start=day_start(filters.start), end=day_start(filters.end + timedelta(days=1)) if filters.end else None,
        offset=filters.page * PAGE_SIZE, limit=PAGE_SIZE)
    return AuditPage(filters, teams, events)


def day_start(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time(0), tzinfo=UTC)
