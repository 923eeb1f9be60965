"""The console's words in Russian: a small catalog of its own, keyed by the English text.

The bot's gettext catalogs hold the bot's messages; the console's strings live with its
templates. `tests/webhooks/console/test_i18n.py` fails when a string has no translation.
"""

from __future__ import annotations

from collections.abc import Callable

from console.catalog_ru import RU

LANGUAGES = ("en", "ru")


def _english(text: str) -> str:
    return text


def _russian(text: str) -> str:
    return RU.get(text, text)


def translator(language: str) -> Callable[[str], str]:
    return _russian if language == "ru" else _english
