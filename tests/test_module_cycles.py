"""No two modules of one package import each other, even lazily or for typing only
(`tools/import_graph.py`); `tests/test_layers.py` runs it over the project."""

from __future__ import annotations

from pathlib import Path

from tests.import_graph_tool import run_tool, write


def test_a_cycle_between_modules_of_a_package_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "bot/__init__.py", "")
    write(tmp_path, "bot/cards.py", "from bot.keyboards import card_keyboard\n")
    write(
        tmp_path,
        "bot/keyboards.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import cards\n",
    )
    # Importing the package, or another module of it, is no cycle.
    write(tmp_path, "bot/views.py", "import bot\nfrom bot import cards\n")

    result = run_tool(tmp_path)

    assert result.returncode == 1
    assert result.stderr.splitlines() == ["module cycle: bot.cards -> bot.keyboards -> bot.cards"]
