"""Every string the console shows has its Russian, and no translation is left unused."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from console.catalog_ru import RU
from console.labels import ORIGIN_WORDS, OUTCOME_WORDS, STATUS_WORDS

CONSOLE = Path(__file__).resolve().parents[2] / "console"
_IN_TEMPLATE = re.compile(r"""_\(\s*(?:"([^"]*)"|'([^']*)')""")


def shown_strings() -> set[str]:
    found: set[str] = set()
    for path in CONSOLE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "_"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    for path in CONSOLE.rglob("*.html"):
        for match in _IN_TEMPLATE.finditer(path.read_text(encoding="utf-8")):
            found.add(match.group(1) if match.group(1) is not None else match.group(2))
    for words in (STATUS_WORDS, ORIGIN_WORDS, OUTCOME_WORDS):
        found |= set(words.values())
    return found


def test_every_string_has_its_russian() -> None:
    missing = sorted(shown_strings() - set(RU))
    assert not missing, missing


def test_no_translation_is_left_over() -> None:
    unused = sorted(set(RU) - shown_strings())
    assert not unused, unused


def test_placeholders_survive_translation() -> None:
    for english, russian in RU.items():
        assert sorted(re.findall(r"\{\w+\}", english)) == sorted(re.findall(r"\{\w+\}", russian))
