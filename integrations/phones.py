"""Phone numbers as the dialler and the CRM want them: `+` and ASCII digits (E.164).

Parsing and validation are Google's libphonenumber rules (`phonenumbers`): a number written
internationally (`+44 …`, `0044 …`) stands on its own; a national one is read in the site's
region (`LEADRELAY_DEFAULT_REGION`, a site's `default_region`): `8 (912) 345-67-89` in RU and
`07840258823` in GB are both dialable. Digits of any script (`٠١٢`, `０１２`) become ASCII;
an extension (`доб. 12`) is dropped, as a dialler rings the main line. Anything that is not a
valid number of a real numbering plan gives an empty string (`normalize_phone`) or
`InvalidPhone` (`require_phone`).
"""

from __future__ import annotations

import functools
import re

import phonenumbers

from config.regions import DEFAULT_REGION

# What leaves this module: never anything but ASCII, whatever digits came in.
_E164 = re.compile(r"\+[1-9][0-9]{6,14}", re.ASCII)
# "+8 999 …": a Russian number with the trunk prefix 8 taken for a country code.
_RUSSIAN_TRUNK_AFTER_PLUS = re.compile(r"^\s*\+\s*8(?=[\s(\-.]*9)")
# "0044 …": the international prefix of most of the world, though not of every region
# (Russia's is 810), so people write it whatever their region.
_DOUBLE_ZERO = re.compile(r"^\s*00(?=[\s(\-.]*[1-9])")


class InvalidPhone(ValueError):
    """Not a phone number that can be dialled."""


# A card draws its lead's phone in its text and its buttons, in each chat, at each edit:
# the same few numbers over and over, each parse a millisecond.
@functools.lru_cache(maxsize=4096)
def normalize_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """E.164 (`+` and ASCII digits), or "" when `raw` is not a number that can be dialled."""
    text = _RUSSIAN_TRUNK_AFTER_PLUS.sub("8", raw)
    return _parse(text, region) or (
        _parse(_DOUBLE_ZERO.sub("+", text), region) if _DOUBLE_ZERO.match(text) else ""
    )


def _parse(text: str, region: str) -> str:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164 if _E164.fullmatch(e164) else ""


def require_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """Like `normalize_phone`, but refuses what is not a phone number."""
    phone = normalize_phone(raw, region)
    if not phone:
        raise InvalidPhone(f"not a phone number: {raw[:40]!r}")
    return phone
