"""Settings are read once from the environment; a bad one stops start-up with one clear line."""

import pytest

from bot.core.settings import DEFAULT_SLACK_API_URL, Settings, SettingsError


def test_defaults_give_the_embedded_sqlite_database_and_slacks_own_api():
    settings = Settings.from_env({})

    assert settings.database_url == "sqlite:///qms.db"
    assert settings.slack_api_url == DEFAULT_SLACK_API_URL and DEFAULT_SLACK_API_URL.startswith("https://")
    assert settings.port == 3000
    assert settings.timezone.key == "UTC"
    assert settings.log_level == "INFO"


def test_heroku_style_postgres_urls_get_the_psycopg_driver():
    settings = Settings.from_env({"DATABASE_URL": "postgres://u:p@db.example:5432/qms"})

    assert settings.database_url == "postgresql+psycopg://u:p@db.example:5432/qms"


@pytest.mark.parametrize("name, value", [
    ("PORT", "eighty"),
    ("PORT", "70000"),
    ("DATABASE_URL", "mysql://root@localhost/qms"),
    ("SLACK_API_URL", "not a url"),
    ("QMS_TIMEZONE", "Mars/Olympus_Mons"),
    ("LOG_LEVEL", "LOUD"),
    ("SLACK_BOT_TOKEN", "xoxp-a-user-token"),
    ("SLACK_APP_TOKEN", "xoxb-not-an-app-token"),
])
def test_a_malformed_setting_is_named_in_one_line(name, value):
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({name: value})

    message = str(raised.value)
    assert message.startswith(name)
    assert "\n" not in message


def test_a_required_setting_that_is_missing_is_named_with_the_command_that_needs_it():
    settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"})

    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET is not set: `qms-bot serve` needs it"):
        settings.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", purpose="`qms-bot serve`")
