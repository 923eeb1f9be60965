"""Where a lead may be shown: in the chats that get its site's cards, or in the manager's
own private chat. A manager's command or tap in any other chat (an unrelated group the bot
is in) shows no lead, so a client's data never lands in front of people outside the team."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Chat
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import BotConfig
from storage.models import Lead, Manager


@dataclass(frozen=True, slots=True)
class ChatScope:
    """The sites whose leads this chat may show to this manager."""

    sites: tuple[str, ...] = ()
    every_site: bool = False

    @property
    def empty(self) -> bool:
        return not self.every_site and not self.sites

    def shows(self, site_key: str) -> bool:
        return self.every_site or site_key in self.sites

    def query_sites(self) -> list[str]:
        """In the storage queries' convention, where an empty list means every site."""
        assert not self.empty, "an empty scope must be refused before any query"
        return [] if self.every_site else list(self.sites)


def chat_scope(config: BotConfig, manager: Manager, chat: Chat) -> ChatScope:
    if chat.type == ChatType.PRIVATE and chat.id == manager.telegram_id:
        if not manager.sites:
            return ChatScope(every_site=True)
        return ChatScope(sites=tuple(manager.sites))
    here = [site for site, chats in config.site_chats.items() if chat.id in chats]
    return ChatScope(sites=tuple(s for s in here if not manager.sites or s in manager.sites))


async def tapped_lead(
    query: CallbackQuery, lead_id: int, session: AsyncSession, manager: Manager, config: BotConfig
) -> Lead | None:
    """The lead a card's button names, if this manager may act on it in this chat."""
    lead = await session.get(Lead, lead_id)
    if (
        lead is None
        or lead.id is None
        or query.message is None
        or not chat_scope(config, manager, query.message.chat).shows(lead.site_key)
    ):
        return None
    return lead


def not_yours() -> str:
    return _("This lead is not yours to act on.")


def not_here() -> str:
    """The answer to a command or tap in a chat that may show none of the asker's leads."""
    return _(
        "This chat gets no leads of your sites: ask in a site's chat or in a private chat with me."
    )
