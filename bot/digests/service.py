"""The daily and weekly digests: what they say, and their outbox rows.

When each is due and which period it reports on is bot/digests/rules.py:
- Daily: at the team's `digest_time` (local, 09:00 by default) on its working days, about the time
  since the start of the previous working day (on a Monday: Friday to Sunday).
- Weekly: Monday at `digest_time`, about the ISO week before, against the week before that, with a
  chart of the last 8 weeks.

Posting each once, when it came due, is bot/digests/clock.py.

A digest is a `Digest`: the team's own metrics (`bot.metrics.Report`, with review time and quality
among its KPIs) plus the sections the other domains' figures fill in — reviews, incidents, risks
(bot/digests/sections.py) — and, weekly, the 8 weeks of the chart. The action items are derived from
all of them, most pressing first. `figures` is the one entry point `/qms metrics`, App Home and the
digests share.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import metrics
from bot.core import render
from bot.core.errors import Phrase, Refusal
from bot.digests import charts, sections
from bot.risks import heatmap
from bot.digests.rules import WEEKLY, Due, week_bounds
from bot.digests.sections import IncidentSection, ReviewSection, RiskSection
from bot.teams import CLOCK_TIME, require_manager
from storage import audit, outbox
from storage import metrics as store
from storage import reviews as review_store
from storage.metrics import Bucket
from storage.reviews import ReviewBucket
from storage.teams import Team

log = logging.getLogger(__name__)

CHART_WEEKS = 8
ACTIONS_MAX = 8
UTILIZATION_BAND = (70, 85)  # the guide's reviewer utilization target, in %


# --- what ------------------------------------------------------------------------------------------
@dataclass
class Digest:
    kind: str
    period: str
    team_id: int
    team_name: str
    timezone: str
    report: metrics.Report
    reviews: ReviewSection | None = None
    incidents: IncidentSection | None = None
    risks: RiskSection | None = None
    weeks: list[Bucket] = field(default_factory=list)  # weekly: the last CHART_WEEKS weeks, oldest first
    review_weeks: list[ReviewBucket] = field(default_factory=list)  # the same weeks' finished reviews
    actions: list[Phrase] = field(default_factory=list)

    @property
    def start_local(self) -> datetime:
        return self.report.start.astimezone(ZoneInfo(self.timezone))

    @property
    def last_day_local(self) -> datetime:
        return (self.report.end - timedelta(seconds=1)).astimezone(ZoneInfo(self.timezone))


def optional_sections(session: Session, team: Team, *, start: datetime, end: datetime,
                      previous_start: datetime, now: datetime | None = None) -> dict[str, object]:
    """The other domains' figures for the period, as Digest sections: `reviews`, `incidents` and
    `risks` (bot/digests/sections.py). What is open is as of `now` (default: the period's end)."""
    return sections.optional_sections(session, team, start=start, end=end, previous_start=previous_start, now=now)


def review_kpis(reviews: ReviewSection | None) -> dict[str, tuple[float | None, float | None, int]]:
    """The reviews KPIs (review time and quality) in the form bot.metrics.report takes them."""
    if reviews is None:
        return {}
    return {"review_time_hours": (reviews.mean_hours, reviews.previous_mean_hours, reviews.done),
            "review_quality": (reviews.quality, reviews.previous_quality, reviews.ratings)}


def figures(session: Session, team: Team, bounds: list[datetime], *, buckets: list[Bucket] | None = None,
            now: datetime | None = None) -> tuple[metrics.Report, dict[str, object]]:
    """Everything known about the last period of `bounds`: the team's metrics (with the reviews KPIs
    when their figures are present) and the other domains' sections. What `/qms metrics`, App Home
    and the digests show."""
    found = optional_sections(session, team, start=bounds[-2], end=bounds[-1], previous_start=bounds[-3], now=now)
    report = metrics.report(session, team, bounds, buckets=buckets, extra_values=review_kpis(found.get("reviews")))
    return report, found


def build(session: Session, team: Team, due: Due, *, now: datetime | None = None) -> Digest:
    """A team's digest for one occurrence: all figures come from period aggregates. What is open
    (stalled reviews, incidents, risks) is as of `now`, when it is posted (default: when it was due)."""
    zone = ZoneInfo(team.timezone)
    if due.kind == WEEKLY:
        bounds = week_bounds(due.end, zone, CHART_WEEKS)
    else:
        bounds = [due.start - (due.end - due.start), due.start, due.end]
    weeks = store.buckets(session, team.workspace_id, team.id, bounds)
    report, found = figures(session, team, bounds, buckets=weeks, now=now or due.scheduled_for)
    digest = Digest(kind=due.kind, period=due.period, team_id=team.id, team_name=team.name, timezone=team.timezone,
                    report=report, **found)
    if due.kind == WEEKLY:
        digest.weeks = weeks
        digest.review_weeks = review_store.review_buckets(session, team.workspace_id, team.id, bounds)
    digest.actions = action_items(digest)
    return digest


def today_items(team: Team, report: metrics.Report, found: dict[str, object]) -> list[Phrase]:
    """What needs someone today in these figures (as the digests lead with): for `/qms metrics`."""
    digest = Digest(kind="daily", period="", team_id=team.id, team_name=team.name, timezone=team.timezone,
                    report=report, **found)
    return action_items(digest)


# --- the action items the numbers call for -------------------------------------------------------
DOR_ACTIONS = {"requirements": "digests.action_requirements_workshop",
               "acceptance_criteria": "digests.action_update_dor_checklist",
               "technical_design": "digests.action_review_design_process"}


SIMPLE_ACTIONS = {"dor_validation_minutes": "digests.action_dor_time", "cycle_time_hours": "digests.action_cycle_time",
                  "review_time_hours": "digests.action_review_time", "review_quality": "digests.action_review_quality"}


def action_items(digest: Digest) -> list[Phrase]:
    """What a lead should do about these figures, most pressing first; only from figures present."""
    report = digest.report
    if not report.has_data and not any(s is not None and s.active for s in (digest.reviews, digest.incidents,
                                                                              digest.risks)):
        return [Phrase("digests.action_no_data")]
    found: list[Phrase] = []
    found += _incident_actions(digest.incidents)
    found += _risk_actions(digest.risks)
    found += _metric_actions(report)
    found += _review_actions(digest.reviews, rebalance=digest.kind == WEEKLY)
    return found[:ACTIONS_MAX]


def _metric_actions(report: metrics.Report) -> list[Phrase]:
    found = []
    for figure in report.missed:
        key = figure.kpi.key
        params = {"label": figure.kpi.label, "value": figure.value, "target": figure.target, "unit": figure.kpi.unit,
                  "comparator": figure.kpi.comparator}
        if key == "dor_pass_rate":
            top = report.dor_reasons[0].reason if report.dor_reasons else None
            found.append(Phrase(DOR_ACTIONS.get(top, "digests.action_look_into_dor"), params))
        elif key in metrics.GATE_KPIS.values():
            found.append(Phrase("digests.action_investigate_gate", params))
        elif key == "coverage":
            found.append(Phrase("digests.action_coverage_strategy", params))
        elif key == "dod_success":
            top = report.dod_reasons[0].reason if report.dod_reasons else None
            found.append(Phrase("digests.action_dod_failures", {**params, "reason": top}))
        elif key == "defect_escape_rate":
            found.append(Phrase("digests.action_escaped_defects", {**params, "escaped": report.counts["escaped"]}))
        elif key in SIMPLE_ACTIONS:
            found.append(Phrase(SIMPLE_ACTIONS[key], params))
        else:
            found.append(Phrase("digests.action_missed_target", params))
    return found


def _review_actions(reviews: ReviewSection | None, *, rebalance: bool) -> list[Phrase]:
    """Stalled reviews to unblock; and, weekly only, reviewers to relieve: utilization is an average
    over the period, and a daily digest's period (a weekend, say) is too short to judge a load by."""
    if reviews is None:
        return []
    found = []
    if reviews.stalled:
        found.append(Phrase("digests.action_stalled_reviews", {"count": reviews.stalled}))
    if not rebalance:
        return found
    for user, share in [(u, s) for u, s in reviews.utilization if s > UTILIZATION_BAND[1]][:2]:
        found.append(Phrase("digests.action_rebalance_reviewer", {"user": user, "share": share,
                                                                  "limit": UTILIZATION_BAND[1]}))
    return found


def _incident_actions(incidents: IncidentSection | None) -> list[Phrase]:
    if incidents is None:
        return []
    found = []
    for level in (3, 2):
        if incidents.open_by_level.get(level):
            found.append(Phrase("digests.action_escalated_incidents", {"count": incidents.open_by_level[level],
                                                                       "level": level}))
    return found


def _risk_actions(risks: RiskSection | None) -> list[Phrase]:
    if risks is None:
        return []
    critical = [r for r in risks.top if r.band == "critical"]
    return [Phrase("digests.action_critical_risk", {"risk": r.key, "score": r.score, "owner": r.owner_id})
            for r in critical[:3]]


# --- how it is written -------------------------------------------------------------------------------
def message(digest: Digest, *, with_chart: bool = False) -> dict:
    """The digest as a Slack message (text and blocks); `with_chart`: its chart follows it."""
    actions = [render.phrase(p.key, **p.params) for p in digest.actions]
    return render.message(f"digests/{digest.kind}.json.j2", digest=digest, actions=actions, with_chart=with_chart)


def chart_panels(digest: Digest) -> list[charts.Panel]:
    """One panel per KPI measured in any of the digest's weeks (review time and quality too), with
    its value week by week (None where nothing was measured) against the team's target."""
    weekly_values = [metrics.kpi_values(week) for week in digest.weeks]
    for index, week in enumerate(digest.review_weeks[:len(weekly_values)]):
        weekly_values[index] |= sections.review_kpi_values(week)
    panels = []
    for kpi_key, figure in metrics.figures_by_key(digest.report.figures).items():
        values = [week[kpi_key][0] if kpi_key in week else None for week in weekly_values]
        if any(v is not None for v in values):
            title = render.phrase("digests.chart_panel", label=figure.kpi.label, unit=figure.kpi.unit)
            panels.append(charts.Panel(title=title, comparator=figure.kpi.comparator, target=figure.target,
                                       values=values, ceiling=_ceiling(figure.kpi),
                                       target_text=render.phrase("digests.chart_target",
                                                                 target=figure.kpi.shown(figure.target))))
    return panels


def chart(digest: Digest) -> bytes | None:
    """The weekly chart: each KPI over the last weeks against its target, as a PNG. None without data."""
    panels = chart_panels(digest)
    if not panels:
        return None
    zone = ZoneInfo(digest.timezone)
    weeks = [render.phrase("digests.chart_week", day=w.start.astimezone(zone).date()) for w in digest.weeks]
    return charts.kpi_chart(render.phrase("digests.chart_title", team=digest.team_name, weeks=len(weeks)), weeks,
                            panels)


def safe_chart(digest: Digest) -> bytes | None:
    """The weekly chart, or None when drawing it fails for any reason: the digest goes out without it
    rather than not at all (and the log says why)."""
    try:
        return chart(digest)
    except Exception:
        log.exception("digest: could not draw the chart of the %s digest of %s for %s; posting it without the chart",
                      digest.kind, digest.team_name, digest.period)
        return None


def _ceiling(kpi) -> float | None:
    """Where a panel's axis stops: 100 for a percentage, 10 for a rating out of ten."""
    return {"%": 100, "/10": 10}.get(kpi.unit)


def enqueue(session: Session, team: Team, digest: Digest, channel: str, *, now: datetime) -> None:
    """The digest's outbox rows: a short message (what needs someone today), the full table in its
    thread, then (weekly) its chart as a file in the same channel."""
    key = f"digest:{team.id}:{digest.kind}:{digest.period}"
    png = safe_chart(digest) if digest.kind == WEEKLY else None
    actions = [render.phrase(p.key, **p.params) for p in digest.actions]
    lead = render.message("digests/lead.json.j2", digest=digest, actions=actions)
    # the short message leads (what needs someone today); the full table follows in its thread
    outbox.enqueue(session, workspace_id=team.workspace_id, key=key, method="chat.postMessage",
                   payload=lead | {"channel": channel, "unfurl_links": False}, now=now, ref=key)
    outbox.enqueue(session, workspace_id=team.workspace_id, key=f"{key}:table", method="chat.postMessage",
                   payload=message(digest, with_chart=png is not None) | {"thread_ref": key, "unfurl_links": False},
                   now=now)
    if png is not None:
        outbox.enqueue_file(session, workspace_id=team.workspace_id, key=f"{key}:chart", channel=channel,
                            filename=f"qms-kpis-{digest.period}.png",
                            title=render.phrase("digests.chart_title", team=digest.team_name, weeks=len(digest.weeks)),
                            alt_txt=render.phrase("digests.chart_alt", team=digest.team_name), content=png, now=now)
    if digest.kind == WEEKLY and digest.risks is not None and digest.risks.open_total:
        _enqueue_heatmap(session, team, channel, key=f"{key}:heatmap", now=now)


def _enqueue_heatmap(session: Session, team: Team, channel: str, *, key: str, now: datetime) -> None:
    """The weekly digest's risk heat map (bot/risks/heatmap.py); left out, and logged, if drawing fails."""
    try:
        with session.begin_nested():
            heatmap.queue_png(session, team, channel, key=key, now=now)
    except Exception:
        log.exception("digest: could not draw the risk heat map of %s; posting the digest without it", team.name)


# --- when the team's digests go out --------------------------------------------------------------
def set_digest_time(session: Session, team: Team, value: str, *, actor_id: str, workspace_admin: bool,
                    now: datetime) -> Team:
    """Change the local time of the team's digests (HH:MM), audited."""
    require_manager(session, team, actor_id, workspace_admin=workspace_admin, action="change_setup")
    value = value.strip()
    if len(value) == 4 and value[1] == ":":
        value = "0" + value  # 8:30 → 08:30
    if not (value.isascii() and CLOCK_TIME.match(value)):  # \d matches "０８:３０", which time() cannot read
        raise Refusal("digests.bad_time", value=value)
    before = team.digest_time
    if before == value:
        return team  # already so: nothing to change or record
    team.digest_time = value
    team.updated_at = now
    session.add(team)
    audit.record(session, workspace_id=team.workspace_id, actor_id=actor_id, entity_type="team", entity_id=team.id,
                 action="digest_time_changed", before={"digest_time": before}, after={"digest_time": value}, at=now)
    return team
