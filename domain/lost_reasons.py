"""Why a lead was lost, as the action log writes it: a change to Cancelled with the reason
picked keeps it in its action's detail, so the card's history names it."""

from __future__ import annotations

LOST_MARK = "lost:"


def lost_detail(reason: str) -> str:
    """The detail of a Cancelled action with its reason ("" when none was given)."""
    return f"{LOST_MARK}{reason}"


def reason_in(detail: str) -> str | None:
    """The reason a Cancelled action's detail names; None when it names none."""
    return detail.removeprefix(LOST_MARK) if detail.startswith(LOST_MARK) else None
