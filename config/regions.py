"""The region a site's national phone numbers are read in: a libphonenumber region code."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "RU"


def check_region(code: str) -> str:
    """The upper-case region code, or ValueError when libphonenumber does not know it."""
    region = code.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        hint = " (the United Kingdom is GB)" if region == "UK" else ""
        raise ValueError(
            f"unknown region {code[:10]!r}: a two-letter country code such as RU, GB or DE" + hint
        )
    return region
