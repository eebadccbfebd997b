"""The test harness: QMS Bot driven the way Slack drives it.

- `databases`: a migrated SQLite file per test, and (with QMS_TEST_DATABASE_URL) a private
  PostgreSQL database per test session, emptied between tests.
- `BotUnderTest`: the real app served over real HTTP (waitress on loopback), its Web API calls
  going to a LocalSlack that records them, and a client that signs requests like Slack does.
"""
