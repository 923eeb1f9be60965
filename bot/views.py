"""What a card shows, gathered once for the card sender and for the buttons that redraw
its keyboard in place: the lead, its history, and what this deployment can do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.callbacks import Act
from bot.card_view import CardView, RepeatBadge, site_title
from bot.config import BotConfig
from bot.history import assigned_by, history_lines
from bot.lost_reasons import reason_label
from domain.owners import is_ownership
from storage.clock import utcnow
from storage.models import Action, ActionOutcome, Lead, Manager
from storage.queries.repeats import Repeat, find_repeat
from storage.queries.team import get_manager


def card_view(
    lead: Lead,
    actions: Sequence[Action],
    config: BotConfig,
    reader: Manager | None = None,
    repeat: Repeat | None = None,
    now: datetime | None = None,
) -> CardView:
    """Call inside the reader's locale: the history lines are written in it. `now`: when the
    card is drawn (what is left of an open offer's window)."""
    return CardView(
        lead=lead,
        site_name=site_name(lead, config),
        history=history_lines(actions, config.zone),
        can_deal=config.can_deal,
        can_call=config.can_call,
        timezone=config.zone,
        region=config.region(lead.site_key),
        retry=Act.RETRY if last_failed(actions) else None,
        assigned_by=assigned_by(actions) if lead.taken_by is not None else None,
        morning_hour=config.morning_hour(lead.site_key),
        reader=reader,
        repeat=(
            RepeatBadge(repeat, site_name(repeat.latest, config)) if repeat is not None else None
        ),
        lost_reason=(
            None
            if lead.lost_reason is None
            else reason_label(config, lead.site_key, lead.lost_reason)
        ),
        offer_left=_offer_left(lead, config, now or utcnow()),
    )


def _offer_left(lead: Lead, config: BotConfig, now: datetime) -> timedelta | None:
    if lead.offer_until is None or lead.offer_to is None:
        return None
    return config.timers_of(lead.site_key).hours.working_between(now, lead.offer_until)


def site_name(lead: Lead, config: BotConfig) -> str:
    """The title of the lead's site, as its card and messages name it."""
    return site_title(lead, config.configured_name(lead.site_key))


async def lead_repeat(session: AsyncSession, lead: Lead, config: BotConfig) -> Repeat | None:
    """Earlier requests of the same client within the site's repeat window, for the badge."""
    return await find_repeat(session, lead=lead, window=config.repeat_window(lead.site_key))


def last_failed(actions: Sequence[Action]) -> bool:
    """The last action that called out failed: Retry is offered. Changes of owner call no
    one, so they neither fail nor hide a failure."""
    external = [a for a in actions if not is_ownership(a.kind)]
    return bool(external) and external[-1].outcome == ActionOutcome.FAILED.value


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads a chat's cards: in a private chat its manager, who sees the card in their
    language and without the buttons they may not use; in a group anyone (`manager` None),
    in the configured language."""

    language: str
    manager: Manager | None = None


async def chat_reader(session: AsyncSession, chat_id: int, config: BotConfig) -> Reader:
    manager = await get_manager(session, chat_id) if chat_id > 0 else None
    return chat_reader_of(chat_id, manager, config)


def chat_reader_of(chat_id: int, manager: Manager | None, config: BotConfig) -> Reader:
    """The reader of a chat whose active manager (by the chat's id) is known already."""
    if chat_id > 0 and manager is not None:
        return Reader(manager.language, manager)
    return Reader(config.group_language)
