"""The words after `/leads` and `/stats`: a period and a site (or, for `/leads`, `mine`),
in any order. A word that is neither, or a site this chat does not show, is answered with
what to type instead."""

from __future__ import annotations

from collections.abc import Callable, Collection

from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.config import BotConfig
from bot.scope import ChatScope

MAX_ARGUMENTS = 200  # characters: two words and some space
WORD_SHOWN = 32


def parse_arguments(
    arguments: str, config: BotConfig, *, periods: Collection[str], subsets: Collection[str] = ()
) -> tuple[str, str] | str:
    """(period, subset: a site key, one of `subsets`, or ""), or the word that is neither
    ("" when there is too much to read)."""
    if len(arguments) > MAX_ARGUMENTS:
        return ""
    period, subset = "today", ""
    for word in arguments.lower().split():
        if word in periods:
            period = word
        elif word in subsets or word in config.site_names:
            subset = word
        else:
            return word
    return period, subset


async def asked_here(
    message: Message,
    arguments: str,
    scope: ChatScope,
    config: BotConfig,
    *,
    periods: Collection[str],
    subsets: Collection[str] = (),
    usage: Callable[[ChatScope, BotConfig], str],
) -> tuple[str, str] | None:
    """The period and subset the command asks for, or None once the manager is told why
    there is none to show here."""
    asked = parse_arguments(arguments, config, periods=periods, subsets=subsets)
    if isinstance(asked, str):
        unknown = (
            _("Unknown period or site: {word}.").format(word=asked[:WORD_SHOWN]) + " "
            if asked
            else ""
        )
        await message.answer(unknown + usage(scope, config), parse_mode=None)
        return None
    subset = asked[1]
    if subset and subset not in subsets and not scope.shows(subset):
        await message.answer(_("Leads of {site} are not shown in this chat.").format(site=subset))
        return None
    return asked


def sites_here(scope: ChatScope, config: BotConfig) -> str:
    """The sites whose leads this chat shows, for a usage line."""
    return ", ".join(key for key in sorted(config.site_names) if scope.shows(key)) or "—"
