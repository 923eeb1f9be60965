"""`/away` and `/back`: a manager away gets no new cards in private and no lead assigned
(`config.shifts`); the cards of leads they have still follow their changes."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import BotConfig
from bot.filters import IsManager
from config.shifts import AwayProblem, AwayRefused, away_until
from storage.clock import utcnow
from storage.models import Manager
from storage.queries.team import set_away, set_back

MAX_WORDS = 40  # characters after /away: "until 14.12.2027" and some space


def away_problem(problem: AwayProblem) -> str:
    if problem is AwayProblem.PAST:
        return _("That day has passed: write a day from tomorrow on, e.g. /away until 14.12.")
    if problem is AwayProblem.TOO_FAR:
        return _("At most a year away: for longer, ask an admin to disable you.")
    return _(
        "Write /away (until /back), /away 3d or /away 4h (for that long), or "
        "/away until 14.12 (back that morning)."
    )


async def away(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    manager: Manager,
    config: BotConfig,
) -> None:
    now = utcnow()
    try:
        until = away_until((command.args or "")[:MAX_WORDS], now=now, zone=config.zone)
    except AwayRefused as refused:
        await message.answer(away_problem(refused.problem), parse_mode=None)
        return
    await set_away(session, manager.telegram_id, since=now, until=until)
    if until is None:
        text = _("You are away until you send /back: no new cards here, no leads assigned.")
    else:
        text = _("You are away until {moment}: no new cards here, no leads assigned.").format(
            moment=until.astimezone(config.zone).strftime("%d.%m.%Y %H:%M")
        )
    await message.answer(text, parse_mode=None)


async def back(message: Message, session: AsyncSession, manager: Manager) -> None:
    was_away = manager.away_from is not None
    await set_back(session, manager.telegram_id)
    if was_away:
        await message.answer(_("Welcome back: new leads come here again."))
    else:
        await message.answer(_("You were not away: new leads come here."))


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsManager())
    router.message.register(away, Command("away"))
    router.message.register(back, Command("back"))
    return router
