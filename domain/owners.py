"""Who has a lead: the action log's names of taking, assigning, releasing and taking it back.

A lead has one owner or none (`Lead.taken_by`). A manager takes a free lead (first tap
wins), an admin assigns it to a manager of its site, the owner or an admin releases it; a
site's `take_back_after` returns a lead its owner did nothing on to the pool; an `offer:`
rule offers it to one manager at a time (`domain.offers`)."""

from __future__ import annotations

from domain.offers import OFFER_ACTIONS

TAKE = "take"
ASSIGN = "assign"
RELEASE = "release"
# Logged by the take-back timer, not by a person; the speed-to-lead figures count it.
TAKE_BACK = "take_back"
OWNERSHIP_ACTIONS = frozenset({TAKE, ASSIGN, RELEASE, TAKE_BACK, *OFFER_ACTIONS})


def assign_action(manager_id: int) -> str:
    """The action log's kind of an assignment: to whom (their Telegram id)."""
    return f"{ASSIGN}:{manager_id}"


def is_ownership(kind: str) -> bool:
    return kind.partition(":")[0] in OWNERSHIP_ACTIONS


def take_back_detail(owner_name: str, minutes: int) -> str:
    """A take-back's detail in the log: how long (working minutes) and from whom."""
    return f"{minutes}:{owner_name}"


def read_take_back(detail: str) -> tuple[str, int]:
    """The owner's name and the minutes of a take-back's detail (0 if unreadable)."""
    minutes, _sep, name = detail.partition(":")
    return name, int(minutes) if minutes.isdigit() else 0
