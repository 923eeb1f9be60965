"""Every string the code shows a user is in both catalogs, and translated into Russian."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, LOCALES_DIR

SOURCES = ("bot",)
PLACEHOLDER = re.compile(r"\{(\w+)\}")
KEYWORDS = {"_": None, "__": None, "gettext": None}


def used_messages() -> set[str]:
    root = Path(__file__).resolve().parents[2]
    found = set()
    for source in SOURCES:
        for _name, _line, message, _comments, _context in extract_from_dir(
            root / source, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def catalog(language: str) -> dict[str, str]:
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return {str(m.id): str(m.string) for m in read_po(po) if m.id}


def test_code_uses_translatable_strings() -> None:
    assert len(used_messages()) > 20


def test_every_used_string_is_in_every_catalog() -> None:
    used = used_messages()
    for language in LANGUAGES:
        missing = sorted(used - set(catalog(language)))
        assert missing == [], f"missing from {language}: {missing} (run `make locales`)"


def test_every_russian_string_is_translated() -> None:
    untranslated = sorted(msgid for msgid, text in catalog("ru").items() if not text.strip())
    assert untranslated == []


def test_placeholders_survive_translation() -> None:
    for msgid, text in catalog("ru").items():
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(text)), msgid
