"""A group that became a supergroup, as the updates say it: a service message in the old
group (`migrate_to_chat_id`) and one in the new supergroup (`migrate_from_chat_id`).

Either records the move (`bot.delivery.record_move`: stored, each admin told once) and
this process follows it at once; nothing else in the update is handled. The second of
the two finds the move known and changes nothing. A send to the old id that Telegram
refuses with the new one (`bot.delivery`) records the same move.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.types import Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import BotConfig
from bot.delivery import record_move

log = logging.getLogger(__name__)

# Telegram's ids fit 52 bits; anything beyond is not an id.
_LOWEST_ID = -(2**52)


def is_move(old_id: int, new_id: int) -> bool:
    """Whether the two ids can be a group and the supergroup it became (a supergroup's
    id is -100 followed by its number)."""
    return _LOWEST_ID < old_id < 0 and _LOWEST_ID < new_id < 0 and str(new_id).startswith("-100")


async def _move(session: AsyncSession, config: BotConfig, old_id: int, new_id: int) -> None:
    if not is_move(old_id, new_id):
        log.warning("ignored a migration from %s to %s: not a group's ids", old_id, new_id)
        return
    if await record_move(session, config, old_id=old_id, new_id=new_id):
        log.warning("group %s became supergroup %s; its messages go there now", old_id, new_id)
    # Before the transaction ends: if it fails, the update is handled again and stores it.
    config.live.follow_move(old_id, new_id)


async def migrated_to(message: Message, session: AsyncSession, config: BotConfig) -> None:
    """In the old group: it is now `migrate_to_chat_id`."""
    assert message.migrate_to_chat_id is not None
    await _move(session, config, message.chat.id, message.migrate_to_chat_id)


async def migrated_from(message: Message, session: AsyncSession, config: BotConfig) -> None:
    """In the new supergroup: it was `migrate_from_chat_id`."""
    assert message.migrate_from_chat_id is not None
    await _move(session, config, message.migrate_from_chat_id, message.chat.id)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(migrated_to, F.migrate_to_chat_id)
    router.message.register(migrated_from, F.migrate_from_chat_id)
    return router
