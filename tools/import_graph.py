"""The package-level import graph of leadrelay, checked against the layering.

Prints each package and the project packages it imports, then every import that goes up
the layers (or to a package that is not a layer) and every cycle, between packages or
between the modules of one package; exits 1 if there is any.
Every import counts, also one inside a function or under `TYPE_CHECKING`: a lazy import is
still a dependency. `tests/test_layers.py` runs it, so the layering cannot regress, and
checks that `docs/ARCHITECTURE.md` shows the graph it prints.

    python tools/import_graph.py [--root DIR]
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

# Top to bottom: each package may import only the packages listed for it (all below it).
# The table holds the edges the code has, no more: a new one is a decision, made here.
# `console` and `webhooks` sit side by side and do not import each other (`leadrelay`
# mounts the console on the web app). `docs/ARCHITECTURE.md` prints the graph
# (`tests/test_layers.py` fails when the page and this tool disagree).
ALLOWED: dict[str, frozenset[str]] = {
    "leadrelay": frozenset(
        {
            "console",
            "webhooks",
            "bot",
            "actions",
            "jobs",
            "integrations",
            "storage",
            "config",
            "domain",
        }
    ),
    "console": frozenset({"integrations", "storage", "config", "domain"}),
    "webhooks": frozenset({"actions", "integrations", "storage", "config"}),
    "bot": frozenset({"integrations", "storage", "config", "domain"}),
    "actions": frozenset({"integrations", "storage", "config", "domain"}),
    "jobs": frozenset({"storage"}),
    "integrations": frozenset({"storage", "config", "domain"}),
    "storage": frozenset({"domain"}),
    "config": frozenset(),
    "domain": frozenset(),
}
# First-party top-level names that no layer may import (they sit on top of everything).
OUTSIDE = frozenset({"tests", "testkit", "bench", "tools"})

Graph = dict[str, dict[str, list[str]]]  # package → imported package → where ("file:line")


def imported_modules(path: Path, module: str) -> Iterator[tuple[str, int]]:
    """(absolute module name, line) of every import in one file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package_parts = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            yield name, node.lineno


def build_graph(root: Path) -> Graph:
    known = set(ALLOWED) | OUTSIDE
    graph: Graph = {package: {} for package in ALLOWED}
    for package in ALLOWED:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root)
            parts = relative.with_suffix("").parts
            module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            for name, line in imported_modules(path, module):
                target = name.split(".")[0]
                if target in known and target != package:
                    graph[package].setdefault(target, []).append(f"{relative}:{line}")
    return graph


def violations(graph: Graph) -> list[str]:
    found = []
    for package, targets in graph.items():
        for target, places in sorted(targets.items()):
            if target not in ALLOWED.get(package, frozenset()):
                found.append(f"{package} -> {target} is not allowed: {', '.join(places)}")
    return found


def cycles(graph: Graph) -> list[list[str]]:
    """Every cycle between packages, each once (found by a depth-first walk)."""
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def walk(node: str, path: list[str]) -> None:
        for target in sorted(graph.get(node, {})):
            if target in path:
                cycle = path[path.index(target) :] + [target]
                key = frozenset(cycle)
                if key not in seen:
                    seen.add(key)
                    found.append(cycle)
            elif len(path) <= len(graph):
                walk(target, [*path, target])

    for start in sorted(graph):
        walk(start, [start])
    return found


def module_graph(root: Path, package: str) -> Graph:
    """The imports between the modules of one package: `from bot import jobs` and
    `from bot.jobs import x` both lead to `bot.jobs`. A module's import of its own package
    (its `__init__`) counts as any other; Python's running of the parents' `__init__` first
    does not."""
    modules: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: Graph = {module: {} for module in modules}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        package_parts = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package_parts[: len(package_parts) - node.level + 1] if node.level else []
                source = ".".join([*base, node.module] if node.module else base)
                names = [
                    f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                    for alias in node.names
                ]
            else:
                continue
            for name in names:
                if name in modules and name != module:
                    where = f"{path.relative_to(root)}:{node.lineno}"
                    graph[module].setdefault(name, []).append(where)
    return graph


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args(argv)
    graph = build_graph(args.root)
    for package in ALLOWED:
        print(f"{package} -> {', '.join(sorted(graph[package])) or '(nothing)'}")
    problems = violations(graph) + ["cycle: " + " -> ".join(cycle) for cycle in cycles(graph)]
    for package in ALLOWED:
        problems += [
            "module cycle: " + " -> ".join(cycle)
            for cycle in cycles(module_graph(args.root, package))
        ]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
