"""App Home: what is on one person's plate, and their teams' KPIs. Spans the domains, above them."""

from bot.home.service import (
    RECENT,
    Clipped,
    HomeIncident,
    HomePage,
    OwnedRisk,
    RequestedReview,
    ReviewToDo,
    home_page,
)

__all__ = [
    "Clipped", "home_page", "HomeIncident", "HomePage", "OwnedRisk", "RECENT", "RequestedReview", "ReviewToDo",
]
