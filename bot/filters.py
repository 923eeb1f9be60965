"""Who may use a router: set on the router, not repeated in each handler."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from domain.team import is_admin


class IsManager(Filter):
    async def __call__(self, _event: TelegramObject, **data: Any) -> bool:
        return data.get("manager") is not None


class IsAdmin(Filter):
    async def __call__(self, _event: TelegramObject, **data: Any) -> bool:
        return is_admin(data.get("manager"))
