"""The admins' alert about an action that failed for good: which action, which lead, why,
where to look; in English and Russian; plain text, nothing private."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.utils.i18n import I18n

from bot.alerts import action_failed_text
from bot.i18n import build_i18n

PAYLOAD: dict[str, Any] = {
    "chat_id": 11,
    "lead_id": 17,
    "num": 414,
    "flexbe_id": 1414,
    "site": "okna",
    "action": "call:600",
    "code": "comunik8:unreachable",
    "job_id": 5,
}


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return build_i18n()


def text_in(i18n: I18n, language: str, **changes: Any) -> str:
    with i18n.context(), i18n.use_locale(language):
        return action_failed_text({**PAYLOAD, **changes})


def test_english_names_action_lead_reason_and_where_to_look(i18n: I18n) -> None:
    text = text_in(i18n, "en")

    assert text.startswith("⚠️ Call in 10 min failed for lead #414 (site okna, Flexbe id 1414)")
    assert "Comunik8 cannot be reached" in text
    assert "Code: comunik8:unreachable; leadrelay lead 17, job #5." in text
    assert "/failed" in text and "leadrelay jobs list --status dead" in text


def test_russian(i18n: I18n) -> None:
    text = text_in(i18n, "ru")

    assert text.startswith("⚠️ Не удалось: Звонок через 10 мин, заявка #414")
    assert "Comunik8 недоступен" in text
    assert "/failed" in text and "Автоматических повторов больше не будет" in text


@pytest.mark.parametrize(
    ("action", "name"),
    [
        ("deal", "5CRM deal"),
        ("call:0", "Call now"),
        ("call:3600", "Call in 1 h"),
        ("call:@1796626800", "Call in the morning"),
        ("uncall", "Cancel call"),
        ("status:2", "Flexbe status → Fulfilled"),
    ],
)
def test_every_action_is_named(i18n: I18n, action: str, name: str) -> None:
    assert text_in(i18n, "en", action=action).startswith(f"⚠️ {name} failed for lead #414")


def test_a_lead_without_number_is_named_by_id(i18n: I18n) -> None:
    text = text_in(i18n, "en", num=None, flexbe_id=None, job_id=None)

    assert "for lead id 17 (site okna, Flexbe id ?)" in text and "job ?" in text
