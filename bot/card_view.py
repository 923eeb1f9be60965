"""What a card shows, as data: `bot.views` gathers it, `bot.cards` writes its text from it,
`bot.keyboards` its buttons, and `bot.notifier` sends the two together. Nothing here
renders, so both renderers read it and neither needs the other."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from urllib.parse import urlsplit

from aiogram.types import InlineKeyboardMarkup

from bot.callbacks import Act
from config.regions import DEFAULT_REGION
from storage.models import Lead, Manager
from storage.queries.repeats import Repeat


@dataclass(frozen=True, slots=True)
class HistoryLine:
    at: datetime
    text: str
    ok: bool = True


@dataclass(frozen=True, slots=True)
class RepeatBadge:
    """The client wrote before: `repeat` from `storage.queries.repeats`, and the title of
    the site of the latest earlier lead."""

    repeat: Repeat
    site_name: str


@dataclass(frozen=True, slots=True)
class CardView:
    lead: Lead
    site_name: str
    history: Sequence[HistoryLine] = ()
    can_deal: bool = False
    can_call: bool = False
    retry: Act | None = None
    timezone: tzinfo = UTC
    # Where the site's visitors dial from: how a national number becomes a tel: link.
    region: str = DEFAULT_REGION
    repeat: RepeatBadge | None = None
    # Who gave the lead to its owner, when an admin assigned it (none: the owner took it).
    assigned_by: str | None = None
    # The hour of the site's "next working morning" calls, for their button.
    morning_hour: int = 9
    # The manager whose private chat shows the card (None: a group, read by anyone): the
    # buttons they may not use are left out.
    reader: Manager | None = None
    # Why a Cancelled lead was lost, in the reader's words (None: not cancelled).
    lost_reason: str | None = None
    # How much of its open offer's window is left, in working time (None: no offer open).
    offer_left: timedelta | None = None


@dataclass(frozen=True, slots=True)
class RenderedCard:
    """A message as it goes out: its HTML and its buttons (a card's, or a summary's)."""

    text: str
    keyboard: InlineKeyboardMarkup


def site_title(lead: Lead, configured_name: str | None) -> str:
    """The site's own name: the configuration's, else the webhook's `site` block (name, then
    domain), else the domain of the lead's page; the bare key only when nothing names it."""
    for name in (configured_name, lead.site_name, lead.site_domain, _host(lead.page_url)):
        if name and name.strip():
            return name.strip()
    return lead.site_key


def _host(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        return ""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""
