"""The default reasons are spelled out for the catalogs, each translated."""

from __future__ import annotations

from aiogram.utils.i18n import I18n

from bot.i18n import build_i18n
from bot.lost_reasons import _default_labels, any_reason_label, cancelled_because
from config.lost_reasons import DEFAULT_LOST_REASONS


def test_every_default_reason_has_its_label_in_both_languages() -> None:
    i18n: I18n = build_i18n()
    with i18n.context(), i18n.use_locale("en"):
        english = _default_labels()
        assert list(english) == list(DEFAULT_LOST_REASONS)
        assert list(english.values()) == list(DEFAULT_LOST_REASONS)
        assert cancelled_because(any_reason_label("")) == "Cancelled — no reason given"
    with i18n.context(), i18n.use_locale("ru"):
        russian = _default_labels()
        assert list(russian) == list(DEFAULT_LOST_REASONS)
        assert all(label != reason for reason, label in russian.items()), russian
        assert any_reason_label("Duplicate") == "Дубль"
        assert any_reason_label("Своя причина") == "Своя причина"
