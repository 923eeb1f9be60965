"""The burst summary: one message naming new leads whose cards were held back, with a
button per lead that posts its card on demand (`OpenLead`).

HTML, every value escaped; lines shorten until the message fits Telegram's 4096
characters (at most `storage.queries.bursts.PER_MESSAGE` leads, whose numbers alone fit).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import tzinfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import OpenLead
from bot.card_view import RenderedCard
from bot.cards import MAX_MESSAGE_UTF16, utf16_length
from domain.jobs import BurstSummaryPayload
from storage.models import Lead

BUTTONS_PER_ROW = 5
# Characters of a client's name, then of a site's, tried in order until the message fits.
_BUDGETS = ((40, 30), (20, 16), (8, 8), (0, 0))


def render_summary(
    summary: BurstSummaryPayload,
    leads: Sequence[Lead],
    *,
    site_name: Callable[[Lead], str],
    zone: tzinfo,
) -> RenderedCard:
    """`leads`: those of `summary.lead_ids` still stored, in its order."""
    keyboard = open_keyboard(leads)
    for name_limit, site_limit in _BUDGETS:
        text = _text(summary, leads, site_name, zone, name_limit, site_limit)
        if utf16_length(text) <= MAX_MESSAGE_UTF16:
            break
    return RenderedCard(text, keyboard)


def lead_number(lead: Lead) -> str:
    """How a summary names a lead: its number on the site, or Flexbe's id without one."""
    return f"#{lead.num if lead.num is not None else lead.flexbe_id}"


def _text(
    summary: BurstSummaryPayload,
    leads: Sequence[Lead],
    site_name: Callable[[Lead], str],
    zone: tzinfo,
    name_limit: int,
    site_limit: int,
) -> str:
    header = _("New leads: {count}").format(count=summary.total)
    if summary.parts > 1:
        header += f" ({summary.part}/{summary.parts})"
    lines = [f"<b>{html.escape(header)}</b>"]
    for lead in leads:
        parts = [lead_number(lead)]
        if lead.created_at is not None:
            parts.append(lead.created_at.astimezone(zone).strftime("%H:%M"))
        if site_limit:
            parts.append(_cut(site_name(lead), site_limit))
        if name_limit and lead.client_name:
            parts.append(_cut(lead.client_name, name_limit))
        lines.append(html.escape(" · ".join(parts)))
    lines.append("")
    lines.append(
        html.escape(
            _(
                "Cards held back so that none waits minutes: tap a number to open its card. "
                "/leads new lists every new lead."
            )
        )
    )
    return "\n".join(lines)


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def open_keyboard(leads: Sequence[Lead]) -> InlineKeyboardMarkup:
    """A button per lead that posts its card in the chat (`OpenLead`)."""
    builder = InlineKeyboardBuilder()
    for lead in leads:
        if lead.id is not None:
            builder.button(text=lead_number(lead), callback_data=OpenLead(lead_id=lead.id))
    builder.adjust(BUTTONS_PER_ROW)
    return builder.as_markup()
