"""Who may use a router: set on the router, not repeated in each handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.filters import Command, Filter
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject

from bot.middlewares import Handler
from bot.scope import ChatScope, chat_scope, not_here
from domain.team import is_admin


class IsManager(Filter):
    async def __call__(self, _event: TelegramObject, **data: Any) -> bool:
        return data.get("manager") is not None


class IsAdmin(Filter):
    async def __call__(self, _event: TelegramObject, **data: Any) -> bool:
        return is_admin(data.get("manager"))


class InChatScope(BaseMiddleware):
    """The router's handlers are handed `scope`: the sites whose leads this chat may show
    the manager (`bot.scope`). In a chat that may show none, the handler does not run and
    the manager is told so (`not_here`), by message or, for a tap, by an alert.

    A middleware rather than a filter: a filter that fails hands the update on to the next
    routers, and the refusal must come from the router whose command it is. Set as an inner
    middleware, after `IsManager`: it runs only for an update one of the handlers takes."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        chat = _chat_of(event)
        scope = chat_scope(data["config"], data["manager"], chat) if chat else ChatScope()
        if scope.empty:
            if isinstance(event, CallbackQuery):
                await event.answer(not_here(), show_alert=True)
            elif isinstance(event, Message):
                await event.answer(not_here())
            return None
        data["scope"] = scope
        return await handler(event, data)


class AdminsOnly(BaseMiddleware):
    """The router's handlers run for admins only; anyone else is told `refusal()`: by an
    alert for a tap, by a message otherwise. An inner middleware, as `InChatScope` is: the
    refusal comes from the router whose command or button it is, and for nothing else."""

    def __init__(self, refusal: Callable[[], str]) -> None:
        self.refusal = refusal

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if is_admin(data.get("manager")):
            return await handler(event, data)
        if isinstance(event, CallbackQuery):
            await event.answer(self.refusal(), show_alert=True)
        elif isinstance(event, Message):
            await event.answer(self.refusal(), parse_mode=None)
        return None


def _chat_of(event: TelegramObject) -> Chat | None:
    if isinstance(event, Message):
        return event.chat
    if isinstance(event, CallbackQuery) and event.message is not None:
        return event.message.chat
    return None


def scoped_command(name: str, command: str, handler: Callable[..., Any]) -> Router:
    """The router `name` of one manager's command that shows leads: `handler` is handed the
    chat's `scope`, and a chat that may show none is told so."""
    router = Router(name=name)
    router.message.filter(IsManager())
    router.message.middleware(InChatScope())
    router.message.register(handler, Command(command))
    return router
