"""Tables and small query functions, one module per domain.

Importing the package registers every table on SQLModel.metadata (Alembic and the tests
compare that metadata with the migrations).
"""

from storage import audit, counters, held, incidents, metrics, outbox, pull_requests, reviews, risks, runtime, teams  # noqa: F401
