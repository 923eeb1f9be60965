"""The `notify` jobs intake writes (a lead's card for one chat), and who handles them.

Intake enqueues a `domain.jobs.CardPayload` in the chat's queue; the handler hands it to a
`Notifier`, the bot's card notifier. Without a bot token none is registered: the cards
wait as jobs until a token comes. Each consumes the chat's and the bot's Telegram rate
limits.
"""

from __future__ import annotations

from typing import Protocol

from domain.jobs import NOTIFY, CardPayload, telegram_keys
from jobs.registry import HandlerRegistry


class Notifier(Protocol):
    async def notify(self, *, lead_id: int, chat_id: int, reason: str) -> None: ...


def register_notify(
    registry: HandlerRegistry, notifier: Notifier, *, max_attempts: int | None = None
) -> None:
    async def handle(card: CardPayload) -> None:
        await notifier.notify(lead_id=card.lead_id, chat_id=card.chat_id, reason=card.reason)

    registry.register(
        NOTIFY,
        handle,
        max_attempts=max_attempts,
        limits=lambda card: telegram_keys(card.chat_id),
    )
