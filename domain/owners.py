"""Who has a lead: the action log's names of taking, assigning and releasing it.

A lead has one owner or none (`Lead.taken_by`). A manager takes a free lead (first tap
wins), an admin assigns it to a manager of its site, the owner or an admin releases it."""

from __future__ import annotations

TAKE = "take"
ASSIGN = "assign"
RELEASE = "release"
OWNERSHIP_ACTIONS = frozenset({TAKE, ASSIGN, RELEASE})


def assign_action(manager_id: int) -> str:
    """The action log's kind of an assignment: to whom (their Telegram id)."""
    return f"{ASSIGN}:{manager_id}"


def is_ownership(kind: str) -> bool:
    return kind.partition(":")[0] in OWNERSHIP_ACTIONS


# A lead returned to the pool after its owner did nothing with it for the site's time.
TAKE_BACK = "take_back"
