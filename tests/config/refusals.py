"""Loading a configuration from a TOML file, and the words of a refusal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from config.settings import ConfigError, Settings, load_settings

# The settings start-up loads, given a TOML as LEADRELAY_CONFIG (the fixture `load_toml`).
LoadToml = Callable[[str], Settings]


def refusal(monkeypatch: pytest.MonkeyPatch, **variables: str) -> str:
    """The message start-up stops with, given these LEADRELAY_ variables."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    return str(refused.value)


def use_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, toml: str) -> Path:
    """Write `toml` to a file and make it LEADRELAY_CONFIG."""
    path = tmp_path / "sites.toml"
    path.write_text(toml, encoding="utf-8")
    monkeypatch.setenv("LEADRELAY_CONFIG", str(path))
    return path


def toml_site(key: str, fields: str = "") -> str:
    """A `[[sites]]` table: the site `key` with a webhook token of its own, then `fields`
    (lines of TOML)."""
    return f'[[sites]]\nkey = "{key}"\nwebhook_token = "{key}-token-0123456789abcdef"\n{fields}'


def toml_refusal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, toml: str) -> str:
    """The message start-up stops with, given this TOML as LEADRELAY_CONFIG."""
    use_toml(monkeypatch, tmp_path, toml)
    return refusal(monkeypatch)
