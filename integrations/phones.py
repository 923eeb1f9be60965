"""Phone numbers as the dialler and the CRM want them: `+` and digits (E.164).

Russian numbers are recognised in every way people type them: `8 (999) 123-45-67`,
`+7 999 123 45 67`, `7-999-123-45-67`, `9991234567` (ten digits, a national number) all
become `+79991234567`. Other numbers are kept only when written internationally (`+44 …`,
`0044 …`), because a national number of another country cannot be told from its digits.
Anything else — letters, too few or too many digits — is not a phone number: the result is
an empty string (`normalize_phone`) or `InvalidPhone` (`require_phone`).
"""

from __future__ import annotations

import re

# What may appear around the digits of a written number; anything else makes it garbage.
_ALLOWED = re.compile(r"^[\d\s()\-.+/\u00a0]+$")
_NOT_DIGITS = re.compile(r"\D")
E164_MIN_DIGITS = 8
E164_MAX_DIGITS = 15
# Russian national numbers start with an area or mobile code beginning with 3, 4, 8 or 9.
_RUSSIAN_NATIONAL_FIRST = frozenset("3489")


class InvalidPhone(ValueError):
    """Not a phone number that can be dialled."""


def normalize_phone(raw: str) -> str:
    """`+` and digits, or an empty string when `raw` is not a usable phone number."""
    text = raw.strip()
    if not text or not _ALLOWED.fullmatch(text):
        return ""
    plus = text.startswith("+")
    if "+" in text[1:]:
        return ""
    digits = _NOT_DIGITS.sub("", text)
    if plus:
        # "+8 999 …" is a Russian number with the trunk prefix mistaken for a country code.
        if len(digits) == 11 and digits.startswith("89"):
            return "+7" + digits[1:]
        return _international(digits)
    if digits.startswith("00"):
        return _international(digits[2:])
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    if len(digits) == 10 and digits[0] in _RUSSIAN_NATIONAL_FIRST:
        return "+7" + digits
    return ""


def require_phone(raw: str) -> str:
    """Like `normalize_phone`, but refuses what is not a phone number."""
    phone = normalize_phone(raw)
    if not phone:
        raise InvalidPhone(f"not a phone number: {raw[:40]!r}")
    return phone


def _international(digits: str) -> str:
    if not E164_MIN_DIGITS <= len(digits) <= E164_MAX_DIGITS or digits.startswith("0"):
        return ""
    return "+" + digits
