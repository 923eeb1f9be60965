"""matplotlib is loaded by the process that draws a chart, when it draws one: a fresh
worker with every handler registered, the bot built and its routers included has not
loaded it; drawing a chart does."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import sys
    from datetime import date
    from decimal import Decimal

    from pydantic import SecretStr

    from config.settings import Settings
    from leadrelay.handlers import build_registry
    from leadrelay.telegram_unit import build_telegram
    from storage.database import Database

    settings = Settings(
        _env_file=None,
        database_url="sqlite+aiosqlite:///" + sys.argv[1],
        telegram_bot_token=SecretStr("123456:TEST-token-for-the-fake"),
    )
    database = Database(settings.database_url)
    telegram = build_telegram(settings, database, "123456:TEST-token-for-the-fake")
    registry = build_registry(settings=settings, database=database, telegram=telegram)
    assert "telegram.stats_chart" in registry.kinds, registry.kinds
    print("before", "matplotlib" in sys.modules)

    from bot.charts import ChartText, draw_png
    from bot.stats import DaySeries

    print("imported", "matplotlib" in sys.modules)
    series = DaySeries(days=[date(2026, 12, 1)], by_status={0: [3]}, paid=[Decimal(10)])
    png = draw_png(series, ChartText("today", "Leads", "Paid", {0: "New"}))
    print("drawn", "matplotlib" in sys.modules, png[:4] == b"\\x89PNG")
    """
)


def test_matplotlib_is_loaded_only_when_a_chart_is_drawn(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "unused.db")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:3] == ["before False", "imported False", "drawn True True"]
