"""`repeat_window`: a duration such as `90d`, for all sites from the environment or per
site in the TOML; anything else stops start-up naming the setting."""

from __future__ import annotations

from datetime import timedelta

import pytest

from config.settings import load_settings
from tests.config.refusals import LoadToml, toml_site

TOKEN = "env-token-0123456789abcdef"


def test_ninety_days_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().repeat_window == timedelta(days=90)
    for written, meant in (("12h", timedelta(hours=12)), (" 30m ", timedelta(minutes=30))):
        monkeypatch.setenv("LEADRELAY_REPEAT_WINDOW", written)
        assert load_settings().repeat_window == meant


def test_a_site_sets_its_own_window(monkeypatch: pytest.MonkeyPatch, load_toml: LoadToml) -> None:
    monkeypatch.setenv("LEADRELAY_WEBHOOK_TOKEN", TOKEN)
    monkeypatch.setenv("LEADRELAY_REPEAT_WINDOW", "7d")

    settings = load_toml(toml_site("okna", 'repeat_window = "30d"\n'))

    assert settings.site("okna").repeat_window == timedelta(days=30)
    assert settings.site("default").repeat_window == timedelta(days=7)
