"""A site's `lost_reasons`: the buttons a manager picks from when a lead is set to
Cancelled, each of which goes into the lead's Flexbe note and `Lead.lost_reason`."""

from __future__ import annotations

from typing import Any

# Unset: these, each shown in the reader's language (the bot's catalogs translate them);
# stored as written here, so every language counts the same reason once.
DEFAULT_LOST_REASONS = (
    "No answer",
    "Too expensive",
    "Chose a competitor",
    "Not a real request",
    "Duplicate",
    "Other",
)
# One button per row: past a dozen the card's keyboard no longer fits a phone's screen.
MAX_LOST_REASONS = 12
# Readable on a button, and well within `Lead.lost_reason` (100) and a note's line.
LOST_REASON_MAX_LENGTH = 40
# The one form an environment variable can hold: reasons may have commas.
ENV_SEPARATOR = ";"


def checked_lost_reasons(value: Any) -> Any:
    """The list as configured, trimmed; ValueError with one sentence when it cannot be
    shown as buttons."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(ENV_SEPARATOR)
    if not isinstance(value, list | tuple):
        return value  # the field's type refuses it
    reasons = tuple(str(reason).strip() for reason in value)
    if not any(reasons):
        raise ValueError("must list at least one reason (leave it unset for the default list)")
    if len(reasons) > MAX_LOST_REASONS:
        raise ValueError(f"lists {len(reasons)} reasons; at most {MAX_LOST_REASONS} fit as buttons")
    for reason in reasons:
        if not reason:
            raise ValueError("has an empty reason")
        if len(reason) > LOST_REASON_MAX_LENGTH:
            raise ValueError(
                f"reason {reason[:20]!r}… is longer than {LOST_REASON_MAX_LENGTH} characters"
            )
        if not reason.isprintable():
            raise ValueError(f"reason {reason[:20]!r} has a line break or a control character")
    folded = [reason.casefold() for reason in reasons]
    for index, reason in enumerate(folded):
        if reason in folded[:index]:
            raise ValueError(f"lists reason {reasons[index]!r} twice")
    return reasons
