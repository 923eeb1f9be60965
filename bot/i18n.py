"""Translations: gettext catalogs in `locales/<lang>/LC_MESSAGES/messages.po`.

The `.mo` files are compiled from the `.po` sources when missing or stale, at start-up,
so a fresh checkout runs without a manual compile step. Where `locales/` is not
writable they are compiled into a private temporary folder instead.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
LANGUAGES = ("en", "ru")
DEFAULT_LANGUAGE = "en"


def compile_catalogs(source: Path = LOCALES_DIR) -> Path:
    """Compile stale catalogs; returns the folder that holds the compiled ones."""
    target = source
    try:
        _compile_into(source, source)
    except OSError:
        target = Path(tempfile.mkdtemp(prefix="leadrelay-locales-"))
        shutil.copytree(source, target, dirs_exist_ok=True)
        _compile_into(target, target)
    return target


def _compile_into(source: Path, target: Path) -> None:
    for po_path in sorted(source.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        tmp_path = mo_path.with_suffix(".mo.tmp")
        with tmp_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        tmp_path.replace(mo_path)


def build_i18n() -> I18n:
    return I18n(path=compile_catalogs(), default_locale=DEFAULT_LANGUAGE, domain=DOMAIN)


def pick_language(language_code: str | None) -> str:
    """Telegram's `language_code` (e.g. `ru-RU`) to one we speak, else English."""
    if language_code:
        base = language_code.split("-", 1)[0].lower()
        if base in LANGUAGES:
            return base
    return DEFAULT_LANGUAGE
