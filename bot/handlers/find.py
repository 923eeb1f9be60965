"""`/find <phone | e-mail | name | number>`: the leads that match, newest first, each a
button that posts its card here. Within the manager's sites and this chat's (bot.scope)."""

from __future__ import annotations

import html
import re

from aiogram import Router
from aiogram.filters import CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.callbacks import OpenLead
from bot.config import BotConfig
from bot.filters import scoped_command
from bot.handlers.leads import lead_line
from bot.scope import ChatScope
from integrations.phones import normalize_phone
from storage.queries.search import LeadQuery, find_leads

MAX_QUERY = 100  # characters: longer than any phone, e-mail or name anyone types
MIN_NAME = 2
FOUND_LIMIT = 10
MAX_NUM_DIGITS = 18  # a lead number fits in 64 bits
MIN_PHONE_DIGITS = 7
# What people type for a phone: digits and the usual separators, nothing else.
_PHONE_LIKE = re.compile(r"[+\d\s()\-.]+")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}")


class QueryProblem(ValueError):
    """The query cannot be searched for; the message says what to type instead."""


def parse_query(text: str, regions: list[str]) -> LeadQuery:
    """What `text` may mean. A number of digits alone is a lead number and, if it reads as
    one in any of `regions`, a phone too."""
    text = " ".join(text.split())
    if not text:
        raise QueryProblem(_("Use /find and a phone, e-mail, name or lead number."))
    if len(text) > MAX_QUERY:
        raise QueryProblem(
            _("That is too long to search for: up to {limit} characters.").format(limit=MAX_QUERY)
        )
    bare = text.removeprefix("#")
    if bare.isascii() and bare.isdigit():
        phones = _phones(bare, regions) if len(bare) >= MIN_PHONE_DIGITS else ()
        num = int(bare) if len(bare) <= MAX_NUM_DIGITS else None
        return LeadQuery(num=num, phones=phones)
    if "@" in text:
        if not _EMAIL.fullmatch(text):
            raise QueryProblem(_("That is not an e-mail address I can search for."))
        return LeadQuery(email=text)
    if _PHONE_LIKE.fullmatch(text):
        phones = _phones(text, regions)
        if not phones:
            raise QueryProblem(
                _("That is not a phone number I can read: write it in full, e.g. +7 912 345-67-89.")
            )
        return LeadQuery(phones=phones)
    if len(text) < MIN_NAME:
        raise QueryProblem(_("Type at least {count} letters of the name.").format(count=MIN_NAME))
    return LeadQuery(name=text)


def _phones(text: str, regions: list[str]) -> tuple[str, ...]:
    """The number as each region reads it (national numbers differ by region)."""
    found = (normalize_phone(text, region) for region in regions)
    return tuple(dict.fromkeys(phone for phone in found if phone))


def _regions(scope: ChatScope, config: BotConfig) -> list[str]:
    sites = [key for key in config.site_names if scope.shows(key)]
    return list(dict.fromkeys([*(config.region(key) for key in sites), config.default_region]))


async def find(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    scope: ChatScope,
    config: BotConfig,
) -> None:
    try:
        query = parse_query(command.args or "", _regions(scope, config))
    except QueryProblem as problem:
        await message.answer(str(problem), parse_mode=None)
        return
    asked = html.escape(" ".join((command.args or "").split())[:MAX_QUERY])
    found = await find_leads(session, query=query, sites=scope.query_sites(), limit=FOUND_LIMIT + 1)
    if not found:
        await message.answer(_("Nothing found for {query}.").format(query=asked))
        return
    shown = found[:FOUND_LIMIT]
    lines = [_("<b>Found for {query}:</b>").format(query=asked)]
    builder = InlineKeyboardBuilder()
    for lead in shown:
        lines.append(lead_line(lead, config))
        builder.button(
            text=f"#{lead.num or lead.flexbe_id}", callback_data=OpenLead(lead_id=lead.id or 0)
        )
    if len(found) > FOUND_LIMIT:
        lines.append(
            _("More than {count} match: these are the newest. Type more to narrow it.").format(
                count=FOUND_LIMIT
            )
        )
    builder.adjust(5)
    await message.answer("\n".join(lines), reply_markup=builder.as_markup())


def build_router() -> Router:
    return scoped_command(__name__, "find", find)
