"""Tables and small query functions, one module per domain.

Importing the package registers every table on SQLModel.metadata (Alembic and the tests
compare that metadata with the migrations).
"""

from storage import audit, counters, dashboard, gate_days, held, incidents, metrics, outbox, pull_requests, reviews, risks, runtime, teams  # noqa: F401
from storage import pacing, workspaces  # noqa: F401
