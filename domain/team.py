"""The sales team's roles: a manager works the leads; an admin also assigns them, manages
the team and is told what fails."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class ManagerRole(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"


# A manager's share of the leads handed out in turn (`assign:next`, `offer:`): a weight of 2
# gets two leads for every one of a weight of 1.
DEFAULT_WEIGHT = 1
MAX_WEIGHT = 10


class Member(Protocol):
    """Anyone on the team, as stored (`storage.models.Manager`)."""

    @property
    def role(self) -> str: ...


def is_admin(member: Member | None) -> bool:
    return member is not None and member.role == ManagerRole.ADMIN.value
