"""The card's keyboards: few buttons in view, the rest on "More…", the managers to assign."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from bot.callbacks import AssignTo, CardPage, Page
from bot.card_view import CardView
from bot.i18n import build_i18n
from bot.keyboards import assign_keyboard, card_keyboard, manager_label, more_keyboard
from storage.models import Lead, Manager


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return build_i18n()


@pytest.fixture(autouse=True)
def english(i18n: I18n) -> Iterator[None]:
    with i18n.context(), i18n.use_locale("en"):
        yield


def view(**lead: Any) -> CardView:
    values: dict[str, Any] = {"id": 17, "site_key": "okna", "flexbe_id": 1414, "num": 414}
    values.update(lead)
    return CardView(lead=Lead(**values), site_name="Окна", can_call=True, can_deal=True)


def texts(markup: InlineKeyboardMarkup) -> list[list[str]]:
    return [[button.text for button in row] for row in markup.inline_keyboard]


def test_every_button_fits_telegrams_limits() -> None:
    card = view(client_phone="+7 999 123-45-67", taken_by=2**40, taken_by_name="Max")
    managers = [Manager(telegram_id=2**52, name="A" * 200)]
    for markup in (card_keyboard(card), more_keyboard(card), assign_keyboard(card, managers)):
        for row in markup.inline_keyboard:
            for button in row:
                assert len((button.callback_data or "").encode()) <= 64
                assert 0 < len(button.text) <= 64


def test_a_lead_without_a_phone_has_no_call_nor_copy() -> None:
    card = view(client_phone="")

    assert texts(card_keyboard(card)) == [["✋ Take", "Processed"], ["More…"]]
    assert ["⏰ Call in 10 min", "⏰ Call in 1 hour"] not in texts(more_keyboard(card))


@pytest.mark.parametrize(
    ("typed", "copied"),
    [
        ("8 (999) 123-45-67", "+79991234567"),  # as the tel: link dials it
        ("12-34", "12-34"),  # not a number to dial, but digits the manager may want
        ("call me tonight", None),  # words: nothing to copy
        ("1" * 300, None),  # past Telegram's 256 characters
    ],
)
def test_the_copy_button_copies_the_number(typed: str, copied: str | None) -> None:
    buttons = [b for row in card_keyboard(view(client_phone=typed)).inline_keyboard for b in row]
    found = [b.copy_text.text for b in buttons if b.copy_text is not None]

    assert found == ([copied] if copied else [])


def test_the_assign_list_names_each_manager_ticks_the_owner_and_goes_back() -> None:
    card = view(taken_by=22, taken_by_name="Max")
    managers = [
        Manager(telegram_id=11, name="Ada"),
        Manager(telegram_id=22, name="Max"),
        Manager(telegram_id=33, name="", username="ivan"),
        Manager(telegram_id=44, name=" "),
    ]

    markup = assign_keyboard(card, managers)

    assert texts(markup) == [["Ada"], ["✓ Max"], ["@ivan"], ["44"], ["« Back"]]
    data = [button.callback_data or "" for row in markup.inline_keyboard for button in row]
    assert AssignTo.unpack(data[1]) == AssignTo(lead_id=17, manager_id=22)
    assert CardPage.unpack(data[-1]) == CardPage(page=Page.MORE, lead_id=17)


@pytest.mark.parametrize(
    ("reader", "expected"),
    [
        (None, ["👥 Assign…", "↩️ Release"]),  # a group: anyone may be the owner or an admin
        (Manager(telegram_id=11, role="admin"), ["👥 Assign…", "↩️ Release"]),
        (Manager(telegram_id=22), ["↩️ Release"]),  # the owner
        (Manager(telegram_id=33), []),  # another manager: neither is theirs to use
    ],
)
def test_in_a_private_chat_only_the_buttons_its_manager_may_use(
    reader: Manager | None, expected: list[str]
) -> None:
    card = replace(view(taken_by=22, taken_by_name="Max"), reader=reader)

    shown = [text for row in texts(more_keyboard(card)) for text in row]

    assert [t for t in shown if t in ("👥 Assign…", "↩️ Release")] == expected


def test_a_long_name_is_cut_on_its_button() -> None:
    label = manager_label(Manager(telegram_id=1, name="Александра " * 10))

    assert len(label) == 32 and label.endswith("…")
