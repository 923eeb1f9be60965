"""Phone numbers the way visitors type them, read in the site's region, and garbage."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.regions import check_region
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
        ("8 (912) 345-67-89", "+79123456789"),
        # The dialler rings the main line: an extension is dropped.
        ("8 999 123 45 67 доб. 12", "+79991234567"),
        # Digits of other scripts are digits: the result is ASCII.
        ("٨ (٩١٢) ٣٤٥-٦٧-٨٩", "+79123456789"),
        ("＋７ ９１２ ３４５ ６７ ８９", "+79123456789"),
        ("۸۹۱۲۳۴۵۶۷۸۹", "+79123456789"),
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


# Russian mobile numbers: 9xx, then not 0 (a range such as 930 0… is not allocated).
@given(
    st.from_regex(r"9[0-9]{2}[1-9][0-9]{6}", fullmatch=True),
    st.sampled_from(["8", "+7", "7", ""]),
)
def test_every_way_of_writing_a_russian_mobile_agrees(national: str, prefix: str) -> None:
    written = f"{prefix} ({national[:3]}) {national[3:6]}-{national[6:8]}-{national[8:]}"
    assert normalize_phone(written) == "+7" + national


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        # The Comunik8 documentation's own example: a UK mobile written nationally.
        ("07840258823", "GB", "+447840258823"),
        ("07840 258 823", "gb", "+447840258823"),
        ("٠٧٨٤٠٢٥٨٨٢٣", "GB", "+447840258823"),
        ("０７８４０２５８８２３", "GB", "+447840258823"),
        ("030 901820", "DE", "+4930901820"),
        # Written internationally, a number is the same in any region.
        ("+7 912 345-67-89", "GB", "+79123456789"),
        ("+44 7840 258823", "RU", "+447840258823"),
    ],
)
def test_a_national_number_is_read_in_the_sites_region(
    raw: str, region: str, expected: str
) -> None:
    assert normalize_phone(raw, check_region(region)) == expected
    assert require_phone(raw, check_region(region)) == expected


def test_a_number_of_one_region_is_not_guessed_in_another() -> None:
    assert normalize_phone("07840258823", "RU") == ""
    assert normalize_phone("8 (912) 345-67-89", "GB") == ""


@pytest.mark.parametrize("code", ["", "XX", "UK", "RUS", "7", "ру"])
def test_an_unknown_region_is_refused(code: str) -> None:
    with pytest.raises(ValueError, match="unknown region"):
        check_region(code)


@given(st.text(max_size=30), st.sampled_from(["RU", "GB", "US", "DE"]))
def test_whatever_is_typed_only_ascii_e164_comes_out(raw: str, region: str) -> None:
    phone = normalize_phone(raw, region)
    assert phone == "" or (phone.isascii() and re.fullmatch(r"\+[1-9][0-9]{6,14}", phone))
