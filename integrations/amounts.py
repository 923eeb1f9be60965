"""What a computable amount of money is: one definition for every sum, card and API call.

Flexbe sends an amount as text (`"4990.00"`, `"1 500,50"`, `1500`). The text is stored as
received and shown as sent; only text that `parse_amount` accepts is added up, formatted or
sent to another service. Anything else — `NaN`, `Infinity`, `1e999999999`, `-0`, thirty
digits, eight decimals — stays text: it is never turned into a number that could overflow
a sum or a request.

A computable amount is plain digits, at most `MAX_WHOLE_DIGITS` of them before an optional
decimal point (`.` or `,`) and at most `MAX_DECIMALS` after it, with spaces allowed as
thousands separators; no sign, no exponent. So 0 ≤ amount < 10^12 and every sum of them
is exact in `CONTEXT`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import (
    ROUND_HALF_UP,
    Clamped,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)

MAX_WHOLE_DIGITS = 12
MAX_DECIMALS = 4
# Longer text is not looked at: no separators make a 12-digit amount this long.
MAX_TEXT = 32

_AMOUNT = re.compile(rf"[0-9]{{1,{MAX_WHOLE_DIGITS}}}(?:\.[0-9]{{1,{MAX_DECIMALS}}})?")
_SEPARATORS = str.maketrans({" ": None, "\u00a0": None, "\u202f": None, "\u2009": None})

# 34 digits hold 10^16 amounts of 10^12 with four decimals exactly; anything that would
# round or overflow raises instead of turning into a wrong figure.
CONTEXT = Context(prec=34, traps=[InvalidOperation, Overflow, DivisionByZero, Inexact, Clamped])


def parse_amount(raw: object) -> Decimal | None:
    """The amount `raw` stands for, or None when it is not a computable amount."""
    if raw is None or isinstance(raw, bool):
        return None
    text = str(raw).strip()
    if not text or len(text) > MAX_TEXT:
        return None
    text = text.translate(_SEPARATORS).replace(",", ".")
    if not _AMOUNT.fullmatch(text):
        return None
    return Decimal(text)


def computable(amount: Decimal) -> Decimal | None:
    """`amount` when it is within the same bounds as a parsed one, else None."""
    if not amount.is_finite() or amount.adjusted() >= MAX_WHOLE_DIGITS:
        return None
    return parse_amount(format(amount, "f"))


def total(amounts: Iterable[Decimal]) -> Decimal:
    """The exact sum of computable amounts (raises `decimal` errors rather than round)."""
    result = Decimal(0)
    for amount in amounts:
        result = CONTEXT.add(result, amount)
    return result


def format_amount(amount: Decimal) -> str:
    """`1234567.5` → `1 234 567.50`: grouped by spaces, two decimals unless more were sent."""
    places = max(2, -int(amount.as_tuple().exponent))
    return f"{amount:,.{places}f}".replace(",", " ")


def whole_units(amount: Decimal) -> int:
    """An amount rounded to whole units, half up (5CRM takes integers)."""
    return int(amount.to_integral_value(rounding=ROUND_HALF_UP))


def amount_text(raw: str | None, limit: int) -> str:
    """The amount as it was sent, for reading: cut to `limit` characters, "?" when absent.
    Not escaped: the caller escapes for its parse mode."""
    if raw is None or not raw.strip():
        return "?"
    text = " ".join(raw.split())
    return text if len(text) <= limit else text[: max(1, limit - 1)].rstrip() + "…"
