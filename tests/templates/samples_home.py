"""Samples of the App Home view: no team, a quiet person, a busy one, and someone with 200 of everything
(extreme texts) in 200 teams."""

from datetime import date

from bot.home import Clipped, HomeIncident, HomePage, OwnedRisk, RequestedReview, ReviewToDo
from tests.templates.samples import LONG, MANY, many_users
from tests.templates.samples_metrics import empty_report, extreme_report, realistic_report

NOTHING = Clipped([], 0)

TO_DO = [ReviewToDo(41, "CR-041", "https://github.com/acme/pay/pull/812", "Backend/API", "M", "UDAVE", "primary",
                    "assigned", 1.5, False, "Payments"),
         ReviewToDo(38, "CR-038", "https://github.com/acme/pay/pull/799", "Database/Performance", "L", "UGRACE",
                    "secondary", "accepted", 7.25, True, "Payments")]
ASKED = [RequestedReview("CR-044", "https://github.com/acme/pay/pull/820", "Frontend/UX", "open",
                         [("UBOB", "primary", "accepted"), ("UCAROL", "secondary", "assigned")], 3.0, False,
                         "Payments"),
         RequestedReview("CR-045", "https://github.com/acme/pay/pull/821", "Security", "waiting", [], 0.5, False,
                         "Payments")]
OWNED = [OwnedRisk(3, "QR-003", "Card data stored in logs", 20, "critical", date(2026, 3, 9), True, "Payments"),
         OwnedRisk(1, "QR-001", "Security vulnerability in authentication system", 12, "high", None, False,
                   "Payments")]
OPEN = [HomeIncident(3, "INC-003", "Checkout is down for EU cards", "SEV1", 2, "UALICE", "CINC003", 30.5, True, True,
                     "Payments"),
        HomeIncident(4, "INC-004", "Refund emails delayed", "SEV3", 1, "UBOB", None, 2.0, False, False, "Payments")]


def busy() -> HomePage:
    return HomePage(reviews_to_do=Clipped(TO_DO, 2), reviews_requested=Clipped(ASKED, 2), risks=Clipped(OWNED, 2),
                    incidents=Clipped(OPEN, 2), reports=[realistic_report(), empty_report()], own=True, any_team=True)


def extreme() -> HomePage:
    """200 of everything (5 shown of each, as bot.home clips them), with 10,000-character texts."""
    to_do = [ReviewToDo(10**9, LONG, LONG, LONG, LONG, user, "primary", "assigned", 1e9, True, LONG)
             for user in many_users(5)]
    asked = [RequestedReview(LONG, LONG, LONG, "open", [(user, LONG, LONG) for user in many_users()], 1e9, True, LONG)
             for _ in range(5)]
    owned = [OwnedRisk(10**9, LONG, LONG, 25, LONG, date(2026, 3, 9), True, LONG) for _ in range(5)]
    open_ = [HomeIncident(10**9, LONG, LONG, LONG, 3, user, user, 1e9, False, True, LONG) for user in many_users(5)]
    return HomePage(reviews_to_do=Clipped(to_do, MANY), reviews_requested=Clipped(asked, MANY),
                    risks=Clipped(owned, MANY), incidents=Clipped(open_, MANY),
                    reports=[extreme_report() for _ in range(5)], own=True, more_teams=195, any_team=True)


SAMPLES = {
    "home/home.json.j2": ("view", [
        {"page": HomePage(NOTHING, NOTHING, NOTHING, NOTHING)},
        {"page": HomePage(NOTHING, NOTHING, NOTHING, NOTHING, reports=[realistic_report()], any_team=True)},
        {"page": busy()},
        {"page": extreme()},
    ]),
}
