"""Loading a configuration that must be refused, and the words of the refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import ConfigError, load_settings


def refusal(monkeypatch: pytest.MonkeyPatch, **variables: str) -> str:
    """The message start-up stops with, given these LEADRELAY_ variables."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    return str(refused.value)


def toml_refusal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, toml: str) -> str:
    """The message start-up stops with, given this TOML as LEADRELAY_CONFIG."""
    path = tmp_path / "sites.toml"
    path.write_text(toml, encoding="utf-8")
    return refusal(monkeypatch, LEADRELAY_CONFIG=str(path))
