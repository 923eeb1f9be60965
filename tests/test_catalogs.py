"""Every string the bot and the console show is in both catalogs and translated into
Russian, with its placeholders; no translation is left over. The strings are found as
`make locales` finds them (`locales/babel.cfg`): the console's under their context."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, LOCALES_DIR
from console.i18n import CONTEXT
from console.i18n import LANGUAGES as CONSOLE_LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
MAPPING = ROOT / "locales" / "babel.cfg"
KEYWORDS = {**DEFAULT_KEYWORDS, "__": None}  # as `make locales`: the defaults, `_` and `__`
PLACEHOLDER = re.compile(r"\{(\w+)\}")
Key = tuple[str | None, str]  # (context, msgid): the console's context, the bot's None


@cache
def used_messages() -> frozenset[Key]:
    with MAPPING.open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config, str(MAPPING))  # type: ignore[no-untyped-call]
    found = set()
    for _name, _line, message, _comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        found.add((context, message if isinstance(message, str) else message[0]))
    return frozenset(found)


def catalog(language: str) -> dict[Key, str]:
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return {(m.context, str(m.id)): str(m.string) for m in read_po(po) if m.id}


def test_code_uses_translatable_strings() -> None:
    used = used_messages()
    assert len(used) > 20
    assert len({key for key in used if key[0] is None}) > 20  # the bot's
    assert len({key for key in used if key[0] == CONTEXT}) > 20  # the console's


def test_the_bot_and_the_console_speak_the_same_languages() -> None:
    assert CONSOLE_LANGUAGES == LANGUAGES


def test_every_used_string_is_in_every_catalog() -> None:
    used = used_messages()
    for language in LANGUAGES:
        missing = sorted(used - set(catalog(language)), key=str)
        assert missing == [], f"missing from {language}: {missing} (run `make locales`)"


def test_every_russian_string_is_translated() -> None:
    untranslated = sorted((key for key, text in catalog("ru").items() if not text.strip()), key=str)
    assert untranslated == []


def test_no_translation_is_left_over() -> None:
    unused = sorted(set(catalog("ru")) - used_messages(), key=str)
    assert unused == [], f"no longer used: {unused} (run `make locales`)"


def test_placeholders_survive_translation() -> None:
    for key, text in catalog("ru").items():
        assert sorted(PLACEHOLDER.findall(key[1])) == sorted(PLACEHOLDER.findall(text)), key
