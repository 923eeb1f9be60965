"""Configuration from the environment, `.env` and TOML; errors name the setting."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from config.settings import ConfigError, load_settings
from tests.config.refusals import LoadToml, toml_site

TOKEN = "env-token-0123456789abcdef"


def test_defaults_need_nothing() -> None:
    settings = load_settings()

    assert settings.database_url == "sqlite+aiosqlite:///./leadrelay.db"
    assert str(settings.telegram_api_url) == "https://api.telegram.org/"
    assert str(settings.crm5_api_url) == "https://api.5crm.ru/"
    assert settings.sites == ()
    assert settings.telegram_enabled is False


def test_single_site_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADRELAY_WEBHOOK_TOKEN", TOKEN)
    monkeypatch.setenv("LEADRELAY_FLEXBE_API_URL", "https://okna.ru/mod/api/")
    monkeypatch.setenv("LEADRELAY_FLEXBE_API_KEY", "flexbe-key")
    monkeypatch.setenv("LEADRELAY_TELEGRAM_CHATS", "-1001, 42")
    monkeypatch.setenv("LEADRELAY_TELEGRAM_ADMINS", "7")

    settings = load_settings()

    [site] = settings.sites
    assert site.key == "default"
    assert site.webhook_token.get_secret_value() == TOKEN
    assert str(site.flexbe_api_url) == "https://okna.ru/mod/api/"
    assert settings.site("default").chats == (-1001, 42)
    assert settings.telegram_admins == [7]
    assert TOKEN in settings.secrets() and "flexbe-key" in settings.secrets()


def test_dotenv_file_is_read_and_blank_values_mean_unset(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"LEADRELAY_WEBHOOK_TOKEN={TOKEN}\nLEADRELAY_ADMIN_TOKEN=\nLEADRELAY_CONFIG=\n"
    )

    settings = load_settings()

    assert [site.key for site in settings.sites] == ["default"]
    assert settings.admin_token is None


def test_sites_from_toml(monkeypatch: pytest.MonkeyPatch, load_toml: LoadToml) -> None:
    monkeypatch.setenv("LEADRELAY_WEBHOOK_TOKEN", TOKEN)

    settings = load_toml(
        toml_site("okna", 'name = "Окна"\nchats = [-100500]\n') + toml_site("dveri"),
    )

    assert [site.key for site in settings.sites] == ["okna", "dveri", "default"]
    assert settings.site("okna").display_name == "Окна"
    assert settings.site("okna").chats == (-100500,)


def test_the_morning_call_hour_per_site_else_the_environments(
    monkeypatch: pytest.MonkeyPatch, load_toml: LoadToml
) -> None:
    monkeypatch.setenv("LEADRELAY_WEBHOOK_TOKEN", TOKEN)
    toml = toml_site("okna", "call_morning_hour = 10\n") + toml_site("dveri")
    assert load_toml(toml).site("dveri").morning_hour == 9, "the default"
    monkeypatch.setenv("LEADRELAY_CALL_MORNING_HOUR", "8")

    settings = load_settings()

    assert settings.site("okna").morning_hour == 10
    assert settings.site("dveri").morning_hour == 8
    assert settings.site("default").morning_hour == 8, "the site of the environment"


REPO = Path(__file__).resolve().parents[2]
GENERATE = "secrets.token_urlsafe(24)"


def test_the_example_config_is_refused_until_its_placeholders_are_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEADRELAY_CONFIG", str(REPO / "leadrelay.example.toml"))

    with pytest.raises(ConfigError) as error:
        load_settings()

    assert "sites[0]" in str(error.value) and "webhook_token: is a placeholder" in str(error.value)


def test_the_env_example_runs_once_copied_and_generated_secrets_pass(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """.env.example leaves every secret blank, so a copy starts; the README's generator
    (token_urlsafe(24)) and token_hex(16) make secrets that pass."""
    import secrets

    (tmp_path / ".env").write_text((REPO / ".env.example").read_text(encoding="utf-8"))
    assert load_settings().admin_token is None
    assert GENERATE in (REPO / "README.md").read_text(encoding="utf-8")

    for _ in range(200):
        monkeypatch.setenv("LEADRELAY_ADMIN_TOKEN", secrets.token_urlsafe(24))
        monkeypatch.setenv("LEADRELAY_METRICS_TOKEN", secrets.token_urlsafe(24))
        monkeypatch.setenv("LEADRELAY_TELEGRAM_WEBHOOK_SECRET", secrets.token_hex(16))
        load_settings()


def test_phone_region_per_site_falls_back_to_the_default(
    monkeypatch: pytest.MonkeyPatch, load_toml: LoadToml
) -> None:
    settings = load_toml(toml_site("uk", 'default_region = "gb"\n') + toml_site("ru"))

    assert settings.default_region == "RU"
    assert (settings.site("uk").region, settings.site("ru").region) == ("GB", "RU")
    monkeypatch.setenv("LEADRELAY_DEFAULT_REGION", "de")
    assert load_settings().site("ru").region == "DE"


def test_the_example_config_reads_each_sites_region(load_toml: LoadToml) -> None:
    """The example file, once its placeholder tokens are replaced, gives each site its region."""
    import secrets

    example = (REPO / "leadrelay.example.toml").read_text(encoding="utf-8")
    filled = re.sub(
        r"replace-me-with-a-random-token-\d+", lambda _: secrets.token_urlsafe(24), example
    )
    settings = load_toml(filled)

    assert (settings.site("okna").region, settings.site("dveri").region) == ("RU", "GB")
    okna, dveri = settings.site("okna").timers, settings.site("dveri").timers
    assert okna.remind_after == timedelta(minutes=15)
    assert okna.escalate_after == timedelta(minutes=45)
    assert okna.digest_at == time(9, 0)
    assert date(2027, 1, 7) in okna.hours.holidays
    assert not okna.hours.is_working(datetime(2026, 12, 6, 12, 0, tzinfo=UTC))  # Sunday
    # The second site sets none: always working, no timers.
    assert dveri.hours.always and dveri.remind_after is None and dveri.digest_at is None


def test_retention_defaults_to_thirty_days() -> None:
    assert load_settings().retention_days == 30


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"LEADRELAY_RETENTION_DAYS": "6"}, "Flexbe's webhook redelivery (168 hours)"),
        (
            {"LEADRELAY_RETENTION_DAYS": "9", "LEADRELAY_RECONCILE_WINDOW_HOURS": "240"},
            "LEADRELAY_RECONCILE_WINDOW_HOURS (240 hours)",
        ),
    ],
)
def test_retention_shorter_than_a_look_back_is_refused(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], named: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ConfigError) as error:
        load_settings()

    assert str(error.value).startswith("LEADRELAY_RETENTION_DAYS: ")
    assert named in str(error.value)


def test_retention_as_long_as_the_longest_look_back_is_accepted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEADRELAY_RETENTION_DAYS", "10")
    monkeypatch.setenv("LEADRELAY_RECONCILE_WINDOW_HOURS", "240")

    assert load_settings().retention_days == 10


def test_timers_of_the_env_site_and_toml_sites_without_their_own(
    monkeypatch: pytest.MonkeyPatch, load_toml: LoadToml
) -> None:
    monkeypatch.setenv("LEADRELAY_WEBHOOK_TOKEN", TOKEN)
    monkeypatch.setenv("LEADRELAY_TIMEZONE", "Europe/Moscow")
    monkeypatch.setenv("LEADRELAY_WORKING_HOURS", "Mon-Fri 09:00-18:00")
    monkeypatch.setenv("LEADRELAY_HOLIDAYS", "2027-01-01, 2027-01-02")
    monkeypatch.setenv("LEADRELAY_SLA_REMIND_AFTER", "15m")
    monkeypatch.setenv("LEADRELAY_SLA_ESCALATE_AFTER", "1h")
    monkeypatch.setenv("LEADRELAY_DIGEST_AT", "08:30")

    settings = load_toml(
        toml_site("uk", 'working_hours = "Sat 10:00-12:00"\nholidays = []\n')
        + '[sites.sla]\nremind_after = "5m"\n',
    )

    env_site, uk = settings.site("default").timers, settings.site("uk").timers
    assert env_site.remind_after == timedelta(minutes=15)
    assert env_site.escalate_after == timedelta(hours=1)
    assert env_site.digest_at == time(8, 30)
    assert env_site.hours.holidays == {date(2027, 1, 1), date(2027, 1, 2)}
    assert str(env_site.hours.zone) == "Europe/Moscow"
    # Its own hours, an empty list of holidays and reminder; the rest from the environment.
    assert uk.hours.week == {5: ((600, 720),)} and uk.hours.holidays == frozenset()
    assert (uk.remind_after, uk.escalate_after) == (timedelta(minutes=5), timedelta(hours=1))
