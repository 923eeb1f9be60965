"""What every configuration test starts from: no developer `.env`, no LEADRELAY_ variable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("LEADRELAY_")]:
        monkeypatch.delenv(name)
