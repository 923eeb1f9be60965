"""`repeat_window`: a duration such as `90d`, for all sites from the environment or per
site in the TOML; anything else stops start-up naming the setting."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from config.settings import ConfigError, load_settings

TOKEN = "env-token-0123456789abcdef"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("LEADRELAY_"):
            monkeypatch.delenv(name)


def test_ninety_days_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().repeat_window == timedelta(days=90)
    for written, meant in (("12h", timedelta(hours=12)), (" 30m ", timedelta(minutes=30))):
        monkeypatch.setenv("LEADRELAY_REPEAT_WINDOW", written)
        assert load_settings().repeat_window == meant


@pytest.mark.parametrize("written", ["90", "90 days", "P90D", "0d", "-1d", "9999d", "1.5d"])
def test_anything_but_a_duration_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, written: str
) -> None:
    monkeypatch.setenv("LEADRELAY_REPEAT_WINDOW", written)

    with pytest.raises(ConfigError, match="^LEADRELAY_REPEAT_WINDOW: "):
        load_settings()


def test_a_site_sets_its_own_window(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "sites.toml"
    config.write_text(
        '[[sites]]\nkey = "okna"\nwebhook_token = "okna-token-0123456789abcdef"\n'
        'repeat_window = "30d"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("LEADRELAY_CONFIG", str(config))
    monkeypatch.setenv("LEADRELAY_WEBHOOK_TOKEN", TOKEN)
    monkeypatch.setenv("LEADRELAY_REPEAT_WINDOW", "7d")

    settings = load_settings()

    assert settings.site("okna").repeat_window == timedelta(days=30)
    assert settings.site("default").repeat_window == timedelta(days=7)


def test_a_bad_window_in_the_toml_names_the_site(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "sites.toml"
    config.write_text(
        '[[sites]]\nkey = "okna"\nwebhook_token = "okna-token-0123456789abcdef"\n'
        'repeat_window = "a month"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("LEADRELAY_CONFIG", str(config))

    with pytest.raises(ConfigError) as error:
        load_settings()

    message = str(error.value)
    assert "sites[0]" in message and "repeat_window" in message and "90d" in message
