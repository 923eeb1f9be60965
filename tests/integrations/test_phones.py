"""Phone numbers the way Russian visitors type them, and garbage."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.phones import InvalidPhone, normalize_phone, require_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("8 (999) 123-45-67", "+79991234567"),
        ("+7 999 123 45 67", "+79991234567"),
        ("+7(999)123-45-67", "+79991234567"),
        ("7 999 123 45 67", "+79991234567"),
        ("89991234567", "+79991234567"),
        ("9991234567", "+79991234567"),
        ("(999) 123-45-67", "+79991234567"),
        ("8 812 123-45-67", "+78121234567"),
        ("4951234567", "+74951234567"),
        ("+8 999 123-45-67", "+79991234567"),
        ("\u00a0+7\u00a0999\u00a01234567 ", "+79991234567"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+1 (202) 555-0143", "+12025550143"),
        ("0044 20 7946 0958", "+442079460958"),
        ("+375 29 123-45-67", "+375291234567"),
    ],
)
def test_numbers_become_plus_and_digits(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "нет телефона",
        "8 999 123 45 67 доб. 12",
        "123-45",
        "+7 999",
        "+1234567890123456",
        "07840258823",
        "1234567890",
        "+7 999 +123",
        "<script>",
        "99912345678901",
    ],
)
def test_garbage_is_not_a_number(raw: str) -> None:
    assert normalize_phone(raw) == ""
    with pytest.raises(InvalidPhone):
        require_phone(raw)


@given(st.text(max_size=30))
def test_any_text_gives_e164_or_nothing_and_is_stable(raw: str) -> None:
    phone = normalize_phone(raw)
    assert phone == "" or re.fullmatch(r"\+[1-9]\d{7,14}", phone)
    assert normalize_phone(phone) == phone


@given(st.from_regex(r"9\d{9}", fullmatch=True), st.sampled_from(["8", "+7", "7", ""]))
def test_every_way_of_writing_a_russian_mobile_agrees(national: str, prefix: str) -> None:
    written = f"{prefix} ({national[:3]}) {national[3:6]}-{national[6:8]}-{national[8:]}"
    assert normalize_phone(written) == "+7" + national
