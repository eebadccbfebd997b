"""Everything the reviews domain tells people, queued in the outbox in the caller's transaction.

Keys name the side effect, so a repeat (a second clock, a retried request) adds nothing:
- `review:{id}:card` posts the request's card in its channel (remembered under the same ref);
  `review:{id}:card:v{version}` updates it after each change;
- `review:{id}:assign:{a}` is a reviewer's DM with Accept / Decline / Done (ref `review:{id}:dm:{a}`),
  `review:{id}:dm:{a}:v{version}` updates it;
- `review:{id}:rate:{a}` asks the author to rate a finished review (ref of the same name);
- `review:{id}:nudge:accept:{a}`, `review:{id}:nudge:done:{a}` and `review:{id}:stalled:{lead}`
  are the clock's reminders, at most once each: held (bot/teams/notices.py) until the sweep ends,
  then sent alone under that key, or with the others the sweep has for the same person and kind as
  one message keyed `group:{kind}:{person}:{first item's key}`; "Remind me later" holds them again
  as `{key}:later:{held id}`;
- `review:{id}:author:v{version}` and `review:{id}:no_reviewer:{lead}:v{version}` tell the author
  and the team leads what happened when a reviewer declined or nobody was free;
- `reviewer:{team}:{user}:removed:{time}` tells a reviewer taken out of a matrix where their reviews went;
- `review:{id}:changes:v{version}` and `review:{id}:not_named:{user}:v{version}` tell the author of a
  pull request that a review asked for changes, or that someone requested there could not be named.

A pull request's author nobody has linked to a Slack person (author_id "github:login") gets no DMs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.core import render
from bot.reviews.rules import Shortfall
from bot.teams import notices
from storage import held, outbox
from storage import reviews as store
from storage.reviews import ReviewAssignment, ReviewRequest
from storage.teams import Team


def _enqueue(session: Session, request: ReviewRequest, key: str, payload: dict[str, Any], *, now: datetime,
             ref: str | None = None) -> bool:
    method = "chat.update" if "update_ref" in payload else "chat.postMessage"
    return outbox.enqueue(session, workspace_id=request.workspace_id, key=key, method=method, payload=payload,
                          now=now, ref=ref)


def is_person(user_id: str | None) -> bool:
    """A Slack user, who can be sent a DM (not a pull request's unlinked author, "github:login")."""
    return bool(user_id) and ":" not in user_id


def card_ref(request: ReviewRequest) -> str:
    return f"review:{request.id}:card"


def dm_ref(request: ReviewRequest, assignment: ReviewAssignment) -> str:
    return f"review:{request.id}:dm:{assignment.id}"


def rating_ref(request: ReviewRequest, assignment: ReviewAssignment) -> str:
    return f"review:{request.id}:rate:{assignment.id}"


# --- the card in the channel ---------------------------------------------------------------------
def post_card(session: Session, request: ReviewRequest, card: dict[str, Any], *, now: datetime) -> None:
    """`card`: the template's context (bot.reviews.card)."""
    message = render.message("reviews/card.json.j2", **card)
    _enqueue(session, request, card_ref(request), message | {"channel": request.channel_id}, now=now,
             ref=card_ref(request))


def update_card(session: Session, request: ReviewRequest, card: dict[str, Any], *, now: datetime) -> None:
    message = render.message("reviews/card.json.j2", **card)
    _enqueue(session, request, f"{card_ref(request)}:v{request.version}", message | {"update_ref": card_ref(request)},
             now=now)


# --- the reviewer's DM ----------------------------------------------------------------------------
def send_assignment(session: Session, request: ReviewRequest, assignment: ReviewAssignment, team: Team, *,
                    now: datetime) -> None:
    message = render.message("reviews/assignment_dm.json.j2", request=request, assignment=assignment, team=team,
                             withdrawn_by=None)
    _enqueue(session, request, f"review:{request.id}:assign:{assignment.id}",
             message | {"channel": assignment.reviewer_id}, now=now, ref=dm_ref(request, assignment))


def update_assignment(session: Session, request: ReviewRequest, assignment: ReviewAssignment, team: Team, *,
                      now: datetime, withdrawn_by: str | None = None) -> None:
    message = render.message("reviews/assignment_dm.json.j2", request=request, assignment=assignment, team=team,
                             withdrawn_by=withdrawn_by)
    _enqueue(session, request, f"{dm_ref(request, assignment)}:v{request.version}",
             message | {"update_ref": dm_ref(request, assignment)}, now=now)


# --- the author's rating --------------------------------------------------------------------------
def ask_rating(session: Session, request: ReviewRequest, assignment: ReviewAssignment, *, quality_target: float,
               now: datetime) -> None:
    if not is_person(request.author_id):
        return
    message = render.message("reviews/rating_dm.json.j2", request=request, assignment=assignment,
                             quality_target=quality_target)
    _enqueue(session, request, rating_ref(request, assignment), message | {"channel": request.author_id}, now=now,
             ref=rating_ref(request, assignment))


def update_rating(session: Session, request: ReviewRequest, assignment: ReviewAssignment, *, quality_target: float,
                  now: datetime) -> None:
    if not is_person(request.author_id):
        return
    message = render.message("reviews/rating_dm.json.j2", request=request, assignment=assignment,
                             quality_target=quality_target)
    _enqueue(session, request, f"{rating_ref(request, assignment)}:v{request.version}",
             message | {"update_ref": rating_ref(request, assignment)}, now=now)


# --- telling the author and the leads -------------------------------------------------------------
def tell_author_declined(session: Session, request: ReviewRequest, declined: ReviewAssignment,
                         replacement: ReviewAssignment | None, shortfall: Shortfall | None, *, now: datetime) -> None:
    if not is_person(request.author_id):
        return
    message = render.message("reviews/author_dm.json.j2", kind="declined", request=request, declined=declined,
                             replacement=replacement, shortfall=shortfall, team=None)
    _enqueue(session, request, f"review:{request.id}:author:v{request.version}",
             message | {"channel": request.author_id}, now=now)


def tell_author_reassigned(session: Session, request: ReviewRequest, left: ReviewAssignment,
                           replacement: ReviewAssignment | None, shortfall: Shortfall | None, team: Team, *,
                           now: datetime) -> None:
    """A reviewer on the request left the team's matrix: who took over, or why nobody could."""
    if not is_person(request.author_id):
        return
    message = render.message("reviews/author_dm.json.j2", kind="reassigned", request=request, declined=left,
                             replacement=replacement, shortfall=shortfall, team=team)
    _enqueue(session, request, f"review:{request.id}:author:v{request.version}",
             message | {"channel": request.author_id}, now=now)


def tell_author_assigned(session: Session, request: ReviewRequest, primary: ReviewAssignment, *,
                         now: datetime) -> None:
    """A request that waited for a reviewer has one now."""
    if not is_person(request.author_id):
        return
    message = render.message("reviews/author_dm.json.j2", kind="assigned", request=request, declined=None,
                             replacement=primary, shortfall=None, team=None)
    _enqueue(session, request, f"review:{request.id}:author:v{request.version}",
             message | {"channel": request.author_id}, now=now)


def tell_author_changes_requested(session: Session, request: ReviewRequest, *, now: datetime) -> None:
    """A review of the pull request asked for changes (who and when are on the request)."""
    if not is_person(request.author_id):
        return
    message = render.message("reviews/changes_requested_dm.json.j2", request=request)
    _enqueue(session, request, f"review:{request.id}:changes:v{request.version}",
             message | {"channel": request.author_id}, now=now)


def tell_author_not_named(session: Session, request: ReviewRequest, reviewer_id: str, why: str, source: str, *,
                          now: datetime) -> None:
    """Someone requested on GitHub or GitLab could not be made a reviewer (`why`: full, away,
    no_free_role)."""
    if not is_person(request.author_id):
        return
    message = render.message("reviews/not_named_dm.json.j2", request=request, reviewer_id=reviewer_id, why=why,
                             source=source)
    _enqueue(session, request, f"review:{request.id}:not_named:{reviewer_id}:v{request.version}",
             message | {"channel": request.author_id}, now=now)


def ping_leads_no_reviewer(session: Session, request: ReviewRequest, team: Team, shortfall: Shortfall,
                           leads: list[str], *, now: datetime) -> None:
    message = render.message("reviews/no_reviewer_dm.json.j2", request=request, team=team, shortfall=shortfall)
    for lead in leads:
        _enqueue(session, request, f"review:{request.id}:no_reviewer:{lead}:v{request.version}",
                 message | {"channel": lead}, now=now)


# --- the clock's reminders ------------------------------------------------------------------------
def nudge(session: Session, request: ReviewRequest, assignment: ReviewAssignment, stage: str, *,
          waited_hours: float, target_hours: float, now: datetime) -> bool:
    """Remind a reviewer to accept (`stage` "accept") or to finish ("done")."""
    message = render.message("reviews/nudge_dm.json.j2", request=request, assignment=assignment, stage=stage,
                             waited_hours=waited_hours, target_hours=target_hours)
    return _hold(session, request, assignment.reviewer_id, "nudge", f"review:{request.id}:nudge:{stage}:{assignment.id}",
                 message, now=now)


def tell_leads_stalled(session: Session, request: ReviewRequest, team: Team, assignments: list[ReviewAssignment],
                       leads: list[str], *, waited_hours: float, target_hours: float, now: datetime) -> None:
    message = render.message("reviews/stalled_dm.json.j2", request=request, team=team, assignments=assignments,
                             waited_hours=waited_hours, target_hours=target_hours)
    for lead in leads:
        _hold(session, request, lead, "stalled", f"review:{request.id}:stalled:{lead}", message, now=now)


# --- what one sweep has for one person, as one message ------------------------------------------------
def _hold(session: Session, request: ReviewRequest, person: str, kind: str, key: str, message: dict[str, Any], *,
          now: datetime) -> bool:
    """Hold a reminder under its own key until the sweep releases what it has for each person
    (bot/teams/notices.py: grouped per person and kind, with "Remind me later", quiet hours kept)."""
    return notices.hold(session, workspace_id=request.workspace_id, person_id=person, kind=kind, key=key,
                        message=message, team_id=request.team_id, now=now)


def _still_due(session: Session, item: held.HeldMessage) -> bool:
    """A reminder that waited goes out only while its request is active and, for a reviewer's, while
    their part is open (a reminder to accept: while not yet accepted)."""
    parts = item.key.split(":")  # review:{id}:nudge:{stage}:{assignment}[…] or review:{id}:stalled:{lead}[…]
    request = store.get_request(session, item.workspace_id, int(parts[1]))
    if request is None or not request.is_active:
        return False
    if item.kind != "nudge":
        return True
    assignment = store.get_assignment(session, item.workspace_id, int(parts[4]))
    wanted = (store.ASSIGNED,) if parts[3] == "accept" else (store.ASSIGNED, store.ACCEPTED)
    return assignment is not None and assignment.status in wanted


notices.STILL_DUE.update(nudge=_still_due, stalled=_still_due)


# --- a reviewer leaving the matrix ------------------------------------------------------------------
def tell_removed_reviewer(session: Session, team: Team, user_id: str, handed: list, *, actor_id: str,
                          now: datetime) -> None:
    """`handed`: [bot.reviews.Handover], their open reviews and who has each now."""
    payload = render.message("reviews/reviewer_removed.json.j2", team=team, user_id=user_id, actor_id=actor_id,
                             handed=handed)
    outbox.enqueue(session, workspace_id=team.workspace_id, method="chat.postMessage",
                   key=f"reviewer:{team.id}:{user_id}:removed:{now.isoformat()}",
                   payload={**payload, "channel": user_id}, now=now)
