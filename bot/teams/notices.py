"""What a sweep has for one person, as few messages as it can be: held, grouped, snoozed, kept quiet.

Every domain's clock holds its reminders here (storage/held.py) under the key its own message would
have had, in the item's transaction; `release_held` then queues one outbox row per person and kind
("nudge", "stalled", "risk_review", "incident_review", "escalation"), in the transaction that marks
the items released. Reminders (`snoozable`) carry "Remind me later" and wait for the end of the
person's own quiet hours (`/qms settings quiet 18:00-09:00`); an incident's escalation ping is not a
reminder: it is grouped like the rest but never waits, since an incident that climbs is urgent.

`snooze` holds a message's items again until the chosen time ("1h", "4h", "morning": the next
working morning of the item's team, or "pick": a day and time the person picked, `snooze_at`), under their own keys plus the id of the row they were sent as,
so a second press on one message moves the time and never doubles a reminder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session

from bot.core import render
from bot.core.errors import Invalid, Phrase, Problems, Refusal
from bot.teams.service import working_hours
from bot.teams.workhours import CLOCK_TIME
from storage import audit, held, outbox
from storage import teams as team_store

SNOOZE_CHOICES = {"1h": timedelta(hours=1), "4h": timedelta(hours=4), "morning": None}
PICK_AHEAD_MAX = timedelta(days=30)  # "Pick a time…": how far ahead a reminder may be put off
REMINDER_KINDS = ("nudge", "stalled", "risk_review", "incident_review")
URGENT_KINDS = ("escalation",)
BLOCKS_MAX = 50
QUIET_TEXT = re.compile(r"^\s*(\d{1,2}:\d{2})\s*(?:-|–|to)\s*(\d{1,2}:\d{2})\s*$")
DEFAULT_MORNING = time(9, 0)  # a reminder about no team: the next morning at 09:00, in UTC


# A reminder that waited (snoozed, or in quiet hours) is sent only if it is still due then: each domain
# says how to tell, by kind (a review accepted since, a risk closed). Registered when the domain loads.
StillDue = Callable[[Session, held.HeldMessage], bool]
STILL_DUE: dict[str, StillDue] = {}
NO_LONGER_DUE = "(no longer due)"  # the released_key of a reminder that waited and was dropped


# --- holding -------------------------------------------------------------------------------------------
def hold(session: Session, *, workspace_id: str, person_id: str, kind: str, key: str, message: dict[str, Any],
         now: datetime, team_id: int | None = None) -> bool:
    """Hold one item (a message on its own) for `person_id` until the sweep releases what it has.
    Every kind but the urgent ones is a reminder: snoozable, and quiet in the person's quiet hours."""
    return held.hold(session, workspace_id=workspace_id, person_id=person_id, kind=kind, key=key, payload=message,
                     summary=message["text"], now=now, team_id=team_id, snoozable=kind not in URGENT_KINDS)


# --- quiet hours ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    timezone: ZoneInfo

    @classmethod
    def of(cls, setting: held.PersonSetting | None) -> "QuietHours | None":
        if setting is None or not setting.quiet_start or not setting.quiet_end:
            return None
        return cls(time.fromisoformat(setting.quiet_start), time.fromisoformat(setting.quiet_end),
                   ZoneInfo(setting.timezone))

    def ends_after(self, now: datetime) -> datetime | None:
        """When the quiet hours `now` falls in end (None: `now` is not in them). A window whose start
        is after its end (18:00-09:00) runs over midnight."""
        local = now.astimezone(self.timezone)
        for day in (local.date() - timedelta(days=1), local.date()):
            begins = datetime.combine(day, self.start, self.timezone)
            ends = datetime.combine(day + timedelta(days=1) if self.end <= self.start else day, self.end,
                                    self.timezone)
            if begins <= local < ends:
                return ends.astimezone(UTC)
        return None


def parse_quiet(text: str) -> tuple[str, str]:
    """"18:00-09:00" → ("18:00", "09:00"); a refusal for anything else (the same times on both sides too)."""
    found = QUIET_TEXT.match(text or "")
    if not found:
        raise Refusal("teams.quiet_usage", typed=text)
    start, end = (part.zfill(5) for part in found.groups())
    if not (CLOCK_TIME.match(start) and CLOCK_TIME.match(end)) or start == end:
        raise Refusal("teams.quiet_usage", typed=text)
    return start, end


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Refusal("teams.quiet_bad_zone", typed=name) from None


def set_quiet_hours(session: Session, workspace_id: str, user_id: str, text: str, *, timezone: str,
                    now: datetime) -> held.PersonSetting:
    """`/qms settings quiet 18:00-09:00 [Area/City]` ("off" clears them). Records only a change."""
    words = (text or "").split()
    if words and words[0].lower() in ("off", "none", "clear"):
        start = end = None
        rest = words[1:]
    else:
        has_zone = len(words) > 1 and "/" in words[-1] or (len(words) > 1 and words[-1].upper() == "UTC")
        start, end = parse_quiet(" ".join(words[:-1] if has_zone else words))
        rest = words[-1:] if has_zone else []
    if rest:
        timezone = rest[0]
    zone(timezone)
    setting = held.person_setting(session, workspace_id, user_id, lock=True)
    before = None if setting is None else {"quiet": _span(setting), "timezone": setting.timezone}
    if setting is None:
        setting = held.PersonSetting(workspace_id=workspace_id, user_id=user_id, timezone=timezone, updated_at=now)
    setting.quiet_start, setting.quiet_end, setting.timezone, setting.updated_at = start, end, timezone, now
    after = {"quiet": _span(setting), "timezone": setting.timezone}
    if before == after:
        return setting
    session.add(setting)
    session.flush()
    audit.record(session, workspace_id=workspace_id, actor_id=user_id, entity_type="person_setting",
                 entity_id=setting.id, action="quiet_hours_set", before=before, after=after, at=now)
    return setting


def _span(setting: held.PersonSetting) -> str | None:
    return f"{setting.quiet_start}-{setting.quiet_end}" if setting.quiet_start and setting.quiet_end else None


def settings_of(session: Session, workspace_id: str, user_id: str) -> dict[str, Any]:
    """What `/qms settings` shows: the quiet hours (or None) and what waits for the person."""
    setting = held.person_setting(session, workspace_id, user_id)
    waiting = held.waiting_for(session, workspace_id, user_id)
    return {"quiet": _span(setting) if setting else None, "timezone": setting.timezone if setting else None,
            "waiting": len(waiting), "next": waiting[0].not_before if waiting else None}


# --- releasing -----------------------------------------------------------------------------------------
def release_held(session: Session, *, now: datetime) -> int:
    """Queue what may go out by `now`: one outbox row per workspace, person and kind — an item alone under
    its own key, several as one grouped message keyed by its first item — and mark each item released
    by it. A reminder for someone in their quiet hours waits (its not_before set to their end).
    Returns how many messages were queued."""
    items = held.unreleased(session, now=now)
    quiet: dict[tuple[str, str], QuietHours | None] = {}
    for workspace_id in {item.workspace_id for item in items}:
        people = [item.person_id for item in items if item.workspace_id == workspace_id]
        for user_id, setting in held.person_settings(session, workspace_id, people).items():
            quiet[(workspace_id, user_id)] = QuietHours.of(setting)
    groups: dict[tuple[str, str, str], list[held.HeldMessage]] = {}
    for item in items:
        check = STILL_DUE.get(item.kind)
        if item.not_before is not None and check is not None and not check(session, item):
            item.released_key = NO_LONGER_DUE  # it waited, and what it was about is settled since
            session.add(item)
            continue
        hours = quiet.get((item.workspace_id, item.person_id))
        ends = hours.ends_after(now) if hours is not None and item.snoozable else None
        if ends is not None:
            item.not_before = ends  # the person's quiet hours: it waits for their end
            session.add(item)
            continue
        groups.setdefault((item.workspace_id, item.person_id, item.kind), []).append(item)
    for (workspace_id, person, kind), group in groups.items():
        snoozable = all(item.snoozable for item in group)
        key = group[0].key if len(group) == 1 else f"group:{kind}:{person}:{group[0].key}"
        later = group[0].id if snoozable else None
        if len(group) == 1:
            payload = dict(group[0].payload)
            if later is not None and len(payload.get("blocks", [])) < BLOCKS_MAX:
                payload["blocks"] = [*payload.get("blocks", []), remind_later_block(later)]
        else:
            payload = render.message("teams/grouped_dm.json.j2", kind=kind, remind_later=later, items=[
                {"text": item.payload["text"], "blocks": [{k: v for k, v in block.items() if k != "block_id"}
                                                          for block in item.payload.get("blocks", [])]}
                for item in group])
        outbox.enqueue(session, workspace_id=workspace_id, key=key, method="chat.postMessage",
                       payload=payload | {"channel": person}, now=now)
        for item in group:
            item.released_key = key
            session.add(item)
    session.flush()
    return len(groups)


def remind_later_block(item_id: int) -> dict[str, Any]:
    return render.message("teams/remind_later.json.j2", item_id=item_id)["blocks"][0]


# --- snoozing ------------------------------------------------------------------------------------------
def next_working_morning(session: Session, workspace_id: str, team_id: int | None, now: datetime) -> datetime:
    """The start of the team's next working day after today (today's, when it has not begun yet)."""
    team = team_store.get_team(session, workspace_id, team_id) if team_id is not None else None
    if team is None:
        tomorrow = now.astimezone(UTC).date() + timedelta(days=1)
        return datetime.combine(tomorrow, DEFAULT_MORNING, UTC)
    hours = working_hours(team)
    local = now.astimezone(hours.timezone)
    today = hours.window(local.date())
    if today is not None and now < today[0]:
        return today[0]
    return hours.next_working_moment(datetime.combine(local.date() + timedelta(days=1), time.min, hours.timezone))


@dataclass(frozen=True)
class Snoozed:
    until: datetime
    count: int  # how many reminders wait
    timezone: str


def snooze(session: Session, workspace_id: str, item_id: int, user_id: str, choice: str, *,
           now: datetime, until: datetime | None = None) -> Snoozed:
    """"Remind me later" pressed on the message that carried held item `item_id`: hold each of its
    items again until `choice` ("1h", "4h", "morning"; "pick" with `until`, read by `snooze_at`)."""
    if choice not in SNOOZE_CHOICES and not (choice == "pick" and until is not None):
        raise Refusal("teams.snooze_unknown")
    first = _own_reminder(session, workspace_id, item_id, user_id)
    items = held.released_by(session, workspace_id, first.released_key)
    if until is None:
        step = SNOOZE_CHOICES[choice]
        until = now + step if step is not None else next_working_morning(session, workspace_id, first.team_id, now)
    for item in items:
        base = item.key.split(":later:")[0]
        key = f"{base}:later:{item.id}"
        if not held.hold(session, workspace_id=workspace_id, person_id=user_id, kind=item.kind, key=key,
                         payload=item.payload, summary=item.summary, now=now, team_id=item.team_id,
                         snoozable=True, not_before=until):
            again = held.by_key(session, key)
            if again is not None and again.released_key is None:
                again.not_before = until  # pressed again on the same message: the new time
                session.add(again)
    session.flush()
    audit.record(session, workspace_id=workspace_id, actor_id=user_id, entity_type="reminder", entity_id=first.id,
                 action="snoozed", after={"until": until.isoformat(), "choice": choice, "items": [item.key for item in items]}, at=now)
    team = team_store.get_team(session, workspace_id, first.team_id) if first.team_id is not None else None
    return Snoozed(until=until, count=len(items), timezone=team.timezone if team is not None else "UTC")



def _own_reminder(session: Session, workspace_id: str, item_id: int, user_id: str) -> held.HeldMessage:
    """The held item a reminder went out with, if it is `user_id`'s and can be put off; else a refusal."""
    first = held.get(session, workspace_id, item_id)
    if first is None or first.person_id != user_id or first.released_key is None or not first.snoozable:
        raise Refusal("teams.snooze_not_yours")
    return first


def snooze_zone(session: Session, workspace_id: str, item_id: int, user_id: str, *, default: str) -> str:
    """The time zone a picked time is read in: the person's own (the one of their quiet hours), else
    the team's of the reminder, else `default` (the app's). Refuses a reminder that isn't theirs."""
    first = _own_reminder(session, workspace_id, item_id, user_id)
    setting = held.person_setting(session, workspace_id, user_id)
    if setting is not None and setting.timezone:
        return setting.timezone
    team = team_store.get_team(session, workspace_id, first.team_id) if first.team_id is not None else None
    return team.timezone if team is not None else default


def picked_time(day: str | None, at: str | None, timezone: str, *, now: datetime) -> datetime:
    """A day ("YYYY-MM-DD") and a time ("HH:MM") read in `timezone`, as the moment a reminder comes
    back: refused, by field, when either is missing, when it has passed, or past PICK_AHEAD_MAX."""
    problems = Problems()
    try:
        picked_day = date.fromisoformat(day) if day else None
    except ValueError:
        picked_day = None
    try:
        picked_at = time.fromisoformat(at) if at else None
    except ValueError:
        picked_at = None
    if picked_day is None:
        problems.add("date", "teams.snooze_pick_date_missing")
    if picked_at is None:
        problems.add("time", "teams.snooze_pick_time_missing")
    problems.raise_if_any()
    local = zone(timezone)
    until = datetime.combine(picked_day, picked_at, local).astimezone(UTC)
    if until <= now:
        past_day = picked_day < now.astimezone(local).date()
        raise Invalid({"date" if past_day else "time": Phrase("teams.snooze_pick_past")})
    if until > now + PICK_AHEAD_MAX:
        raise Invalid({"date": Phrase("teams.snooze_pick_too_far", {"days": PICK_AHEAD_MAX.days})})
    return until


def snooze_at(session: Session, workspace_id: str, item_id: int, user_id: str, day: str | None, at: str | None, *,
              default_zone: str, now: datetime) -> Snoozed:
    """"Pick a time…" submitted: the reminder's items held again until the picked day and time, read in
    the person's time zone (`snooze_zone`), as any other "Remind me later"."""
    timezone = snooze_zone(session, workspace_id, item_id, user_id, default=default_zone)
    until = picked_time(day, at, timezone, now=now)
    return replace(snooze(session, workspace_id, item_id, user_id, "pick", now=now, until=until), timezone=timezone)
