"""The packages import only downwards (`tools/import_graph.py`'s table): no package below
`leadrelay` reaches back up at the composition root, and no two packages import each other;
`docs/ARCHITECTURE.md` prints the graph the tool prints."""

from __future__ import annotations

from pathlib import Path

from tests.import_graph_tool import REPO, run_tool, write

ARCHITECTURE = REPO / "docs" / "ARCHITECTURE.md"
GRAPH_MARKER = "The graph as `tools/import_graph.py` prints it"


def test_the_project_imports_only_downwards() -> None:
    result = run_tool(REPO)

    assert result.returncode == 0, result.stderr
    graph = dict(line.split(" -> ") for line in result.stdout.splitlines())
    assert graph["config"] == "(nothing)"
    assert "leadrelay" not in "".join(value for key, value in graph.items() if key != "leadrelay")


def graph_on_the_page() -> str:
    """The fenced block that follows the marker line in docs/ARCHITECTURE.md."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    assert GRAPH_MARKER in text
    after = text.split(GRAPH_MARKER, 1)[1]
    opening = after.index("```\n")
    block = after[opening + len("```\n") :]
    return block[: block.index("```")]


def test_the_architecture_page_prints_the_graph_of_the_code() -> None:
    result = run_tool(REPO)

    assert result.returncode == 0, result.stderr
    assert graph_on_the_page() == result.stdout, "copy the tool's output into the page"


def test_the_console_and_the_web_app_do_not_import_each_other() -> None:
    result = run_tool(REPO)

    graph = dict(line.split(" -> ") for line in result.stdout.splitlines())
    assert "webhooks" not in graph["console"].split(", ")
    assert "console" not in graph["webhooks"].split(", ")
    assert "console" in graph["leadrelay"].split(", ")  # the composition root mounts it


def test_an_upward_import_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "config/settings.py", "def f():\n    from leadrelay.runtime import run\n")
    write(tmp_path, "leadrelay/runtime.py", "from config.settings import f\n")

    result = run_tool(tmp_path)

    assert result.returncode == 1
    assert "config -> leadrelay is not allowed: config/settings.py:2" in result.stderr


def test_a_cycle_is_refused(tmp_path: Path) -> None:
    # A relative import counts like an absolute one.
    write(tmp_path, "storage/__init__.py", "")
    write(tmp_path, "storage/models.py", "from .queries import q\nimport integrations.errors\n")
    write(tmp_path, "integrations/errors.py", "import storage.models\n")

    result = run_tool(tmp_path)

    assert result.returncode == 1
    assert "storage -> integrations is not allowed: storage/models.py:2" in result.stderr
    assert "cycle: integrations -> storage -> integrations" in result.stderr
    assert "storage -> storage" not in result.stdout + result.stderr


def test_no_layer_imports_the_testkit(tmp_path: Path) -> None:
    # The fakes and the service runner serve tests and bench; the service never ships them.
    write(tmp_path, "integrations/telegram.py", "from testkit.fakes.telegram import Limits\n")

    result = run_tool(tmp_path)

    assert result.returncode == 1
    assert "integrations -> testkit is not allowed: integrations/telegram.py:1" in result.stderr
