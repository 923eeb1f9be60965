"""E-mail addresses as repeats compare them: one address in any case or padding matches
itself; what is not an address matches nothing."""

from __future__ import annotations

import pytest

from integrations.emails import normalize_email


@pytest.mark.parametrize(
    ("written", "compared"),
    [
        ("Ivan@Example.RU", "ivan@example.ru"),
        ("  ivan@example.ru \n", "ivan@example.ru"),
        ("ИВАН@ПОЧТА.РФ", "иван@почта.рф"),
    ],
)
def test_one_address_in_any_case_compares_equal(written: str, compared: str) -> None:
    assert normalize_email(written) == compared


@pytest.mark.parametrize(
    "written",
    ["", "ivan", "@example.ru", "ivan@", "a@b@c", "iv an@example.ru", "x" * 250 + "@a.ru"],
)
def test_what_is_not_an_address_matches_nothing(written: str) -> None:
    assert normalize_email(written) == ""
