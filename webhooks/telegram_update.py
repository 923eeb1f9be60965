"""A Telegram update as the webhook route stores it: JSON that fits our columns.

Telegram's integers (update, user, chat and message ids) are 64 bits at most, and land
in `BigInteger` columns when the bot handles the update; one past that range could only
fail later, in the worker, over and over. So the update is refused at the door, as is
JSON nested deeper or wider than any update is and text a database cannot store. A NUL in a
message's text is the exception: the update is real, so it is kept, the NUL read as U+FFFD.
"""

from __future__ import annotations

import re
from typing import Any

from storage.ranges import INT64_MAX, fits_int64
from webhooks.forms import FormError, load_json_object

# Deeper and wider than any update: a message, the one it replies to, an inline
# keyboard's rows of buttons, a hundred entities.
TELEGRAM_MAX_DEPTH = 32
TELEGRAM_MAX_FIELDS = 20_000
# An integer of fewer than 19 digits fits in 64 bits: only then are the numbers walked.
_LONG_NUMBER = re.compile(rb"[0-9]{19}")


def parse_update(body: bytes) -> tuple[int, dict[str, Any]]:
    """The update's id and the update; `FormError` says why it is not one we can store."""
    update = load_json_object(
        body, max_depth=TELEGRAM_MAX_DEPTH, max_fields=TELEGRAM_MAX_FIELDS, nul_as="\\ufffd"
    )
    update_id = update.get("update_id")
    if type(update_id) is not int or not 0 <= update_id <= INT64_MAX:
        raise FormError("update_id must be a whole number from 0 to 2**63-1")
    if _LONG_NUMBER.search(body):
        _check_integers(update)
    return update_id, update


def _check_integers(update: dict[str, Any]) -> None:
    pending: list[tuple[str, Any]] = [("update", update)]
    while pending:
        where, node = pending.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            if isinstance(value, dict | list):
                pending.append((f"{where}.{key}", value))
            elif type(value) is int and not fits_int64(value):
                raise FormError(f"{where}.{key}"[:200] + " is past the 64-bit integer range")
