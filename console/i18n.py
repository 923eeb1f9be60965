"""The console's words, in the project's gettext catalogs (the bot's too):
`locales/<lang>/LC_MESSAGES/messages.po`, every console string under the context `console`.

The context keeps apart a word the console and the bot translate differently (a lead is
«Новая» here, a card says «Новый»). `make locales` finds the console's strings through
`console/extract.py`; `tests/test_catalogs.py` fails when one has no Russian. As the bot
does, the catalogs are compiled from the `.po` sources at start-up: here in memory, once.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from functools import cache, partial
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
CONTEXT = "console"
LANGUAGES = ("en", "ru")
DEFAULT_LANGUAGE = "en"


def N_(text: str) -> str:
    """Marks a word for `make locales` that is translated where it is shown."""
    return text


@cache
def _compiled(language: str) -> gettext.GNUTranslations:
    with (LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        catalog = read_po(po, locale=language)
    mo = io.BytesIO()
    write_mo(mo, catalog)
    mo.seek(0)
    return gettext.GNUTranslations(mo)


def translator(language: str) -> Callable[[str], str]:
    """The console's `_` in `language` (English for one it does not speak)."""
    known = language if language in LANGUAGES else DEFAULT_LANGUAGE
    return partial(_compiled(known).pgettext, CONTEXT)
