"""Fitting free text into a service's length limits without breaking it."""

from __future__ import annotations

ELLIPSIS = "…"
# Characters that only make sense attached to the one before them (joiners, variation
# selectors): a cut must not leave one dangling at the end.
_JOINERS = frozenset("\u200d\ufe0e\ufe0f")


def truncate(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else its start and an ellipsis, `limit` long.

    Characters are counted as code points, as PHP's `mb_strlen` (Laravel's `max:`) does.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    while head and (head[-1] in _JOINERS or head[-1].isspace()):
        head = head[:-1]
    return head + ELLIPSIS
