"""Reviews: code review requests, who reviews them, turnaround in working hours, and nudges.

- rules.py     who reviews (the choice of primary and secondary reviewer: choose_reviewers) and what a
               request must say
- service.py   filing a request, assigning, Accept / Decline / Done, ratings, withdrawing, hand-overs
- messages.py  what the reviews domain says in Slack (cards, DMs), through the outbox
- report.py    what `/qms review list` and `/qms review stats` show
- clock.py     assigning waiting requests, nudging and marking stalled reviews
- pull_requests.py  what a pull request (or merge request) does to the review request that follows it:
               reviewers named or removed there, an approval, changes requested, merged, closed,
               reopened, a draft again
"""

from bot.reviews.clock import (
    sweep,
)
from bot.reviews.pull_requests import (
    Named,
    approve,
    close_merged,
    close_unmerged,
    file_pull_request,
    name_reviewer,
    pause,
    reopen,
    request_changes,
    resume,
    set_author,
    unname_reviewer,
)
from bot.reviews.report import (
    ListItem,
    MatrixRow,
    ReviewList,
    ReviewStats,
    review_list,
    review_stats,
)
from bot.reviews.rules import (
    Candidate,
    RequestForm,
    Shortfall,
    choose_reviewers,
    clean_url,
    is_eligible,
    match_specialization,
    validate_request,
)
from bot.reviews.service import (
    Filed,
    Handover,
    Told,
    accept,
    card,
    decline,
    file_request,
    find_request,
    finish,
    open_reviews_in_team,
    own_open_review,
    parse_rating,
    rate,
    rate_by_label,
    reassign_open_reviews,
    remove_reviewer,
    withdraw,
)

__all__ = [
    "accept", "approve", "Candidate", "card", "choose_reviewers", "clean_url", "close_merged", "close_unmerged",
    "decline", "file_pull_request", "file_request", "Filed", "find_request", "finish", "Handover", "is_eligible",
    "ListItem", "match_specialization", "MatrixRow", "Named", "name_reviewer", "open_reviews_in_team",
    "own_open_review", "parse_rating", "pause", "rate", "rate_by_label", "reassign_open_reviews", "remove_reviewer",
    "reopen", "request_changes", "RequestForm", "resume", "review_list", "review_stats", "ReviewList", "ReviewStats",
    "set_author", "Shortfall", "sweep", "Told", "unname_reviewer", "validate_request", "withdraw",
]
