"""What every configuration test starts from: no developer `.env`, no LEADRELAY_ variable;
and `load_toml`, the settings loaded from a TOML."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from config.settings import Settings, load_settings
from tests.config.refusals import LoadToml, use_toml


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("LEADRELAY_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def load_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> LoadToml:
    """Loads the settings as start-up does, with the TOML given as LEADRELAY_CONFIG."""

    def load(toml: str) -> Settings:
        use_toml(monkeypatch, tmp_path, toml)
        return load_settings()

    return load
