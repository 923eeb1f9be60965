"""Speed-to-lead rules in the action log: an action a rule took is logged with no actor id
and the rule's name after this mark (`rule:Night calls`), so the card says who did it."""

from __future__ import annotations

RULE_ACTOR_MARK = "rule:"


def rule_actor(name: str) -> str:
    return f"{RULE_ACTOR_MARK}{name}"


def rule_named(actor_id: int | None, actor_name: str) -> str | None:
    """The rule's name when a rule took the action; None when a person did."""
    if actor_id is None and actor_name.startswith(RULE_ACTOR_MARK):
        return actor_name.removeprefix(RULE_ACTOR_MARK)
    return None
