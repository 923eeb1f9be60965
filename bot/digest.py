"""The daily digest: at `digest_at` on each working day, every chat gets one message about
the previous working day of its sites.

The digest is a timer per chat and day (`digest`, dedupe key chat + day), due at the
local time on that day, so a clock change moves it with the wall clock and never sends a
day twice. When one runs it sets the next; at start each chat's next one is set if it is
missing (an outage that spans the time sends that day's digest once, when it is over).
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cards import status_label
from bot.config import BotConfig
from bot.senders import Sender
from bot.speed import digest_lines, figures_of
from bot.stats import compute
from config.sites import SiteTimers
from domain.jobs import (
    DIGEST,
    DIGEST_MESSAGE,
    DigestMessagePayload,
    DigestPayload,
    digest_key,
    digest_message_key,
)
from domain.statuses import LeadStatus
from integrations.amounts import format_amount
from storage.database import Database
from storage.models import Lead
from storage.queries.jobs import enqueue_job
from storage.queries.reports import leads_between
from storage.queries.speed import SpeedFigures

TOP_SOURCES = 3
# Characters of a manager's name or a UTM source shown.
NAME_SHOWN = 40


@dataclass(frozen=True, slots=True)
class ChatDigest:
    """One chat's digest: the sites it covers and the site whose time and days it keeps
    (the first of them that sets a digest time)."""

    chat_id: int
    sites: tuple[str, ...]
    timers: SiteTimers


def chat_digests(config: BotConfig) -> list[ChatDigest]:
    chats: dict[int, list[str]] = {}
    for site, site_chats in config.site_chats.items():
        if config.timers_of(site).digest_at is None:
            continue
        for chat in sorted(site_chats):
            chats.setdefault(chat, []).append(site)
    return [
        ChatDigest(chat, tuple(sites), config.timers_of(sites[0]))
        for chat, sites in sorted(chats.items())
    ]


def next_digest_day(timers: SiteTimers, *, after: date) -> date:
    """The first working day after `after`."""
    day = after + timedelta(days=1)
    while not timers.hours.is_working_day(day):
        day += timedelta(days=1)
        if (day - after).days > 400:
            raise ValueError("no working day within a year")
    return day


async def schedule_digest(session: AsyncSession, digest: ChatDigest, day: date) -> bool:
    """Set chat's digest of `day` (the day it is sent); False if it was set already."""
    assert digest.timers.digest_at is not None
    _, created = await enqueue_job(
        session,
        DIGEST,
        DigestPayload(chat_id=digest.chat_id, day=day.isoformat()),
        dedupe_key=digest_key(digest.chat_id, day.isoformat()),
        run_at=digest.timers.hours.at(day, digest.timers.digest_at),
        max_attempts=5,
    )
    return created


async def schedule_digests(database: Database, config: BotConfig, *, now: datetime) -> int:
    """At start: each chat's digest of today if today is a working day, else of the next
    one. Today's, if its time has passed unsent, goes out now; sent, it is not repeated."""
    created = 0
    async with database.write() as session:
        for digest in chat_digests(config):
            today = digest.timers.hours.local_date(now)
            day = (
                today
                if digest.timers.hours.is_working_day(today)
                else next_digest_day(digest.timers, after=today)
            )
            created += await schedule_digest(session, digest, day)
    return created


class Digests(Sender):
    async def due(self, timer: DigestPayload) -> None:
        """The timer: enqueue the message and set the next working day's timer, together.
        A timer found after its day (the service was down for days) sends nothing: the
        next one is today's, so an outage ends in one digest, not one per day missed."""
        # A group that became a supergroup: the supergroup's message, one of that day.
        chat_id = self.delivery.chat_now(timer.chat_id)
        digest = self._digest_of(chat_id)
        day = date.fromisoformat(timer.day)
        today = digest.timers.hours.local_date(self.clock()) if digest else day
        async with self.database.write() as session:
            if day >= today:
                await enqueue_job(
                    session,
                    DIGEST_MESSAGE,
                    DigestMessagePayload(chat_id=chat_id, day=timer.day),
                    dedupe_key=digest_message_key(chat_id, timer.day),
                )
            if digest is not None:
                after = max(day, today - timedelta(days=1))
                await schedule_digest(session, digest, next_digest_day(digest.timers, after=after))

    async def send(self, message: DigestMessagePayload) -> None:
        digest = self._digest_of(self.delivery.chat_now(message.chat_id))
        if digest is None:  # the chat's digest was switched off since
            return
        hours = digest.timers.hours
        reported = hours.working_day_before(date.fromisoformat(message.day))
        since, until = hours.day_bounds(reported)
        async with self.database.read() as session:
            leads = await leads_between(session, since=since, until=until, sites=digest.sites)
            speed = await figures_of(session, leads, self.config)
        with self.i18n.context(), self.i18n.use_locale(self.config.group_language):
            text = digest_text(leads, reported, speed=speed)
        # In its sites' topic, if they share one (`bot.delivery`).
        await self.delivery.send_message(message.chat_id, text, sites=digest.sites)

    def _digest_of(self, chat_id: int) -> ChatDigest | None:
        return next((d for d in chat_digests(self.config) if d.chat_id == chat_id), None)


def digest_text(leads: Sequence[Lead], day: date, *, speed: SpeedFigures | None = None) -> str:
    """HTML: every value from outside is escaped. `speed`: the day's speed to lead."""
    numbers = compute(leads)
    lines = [_("<b>Digest of {day}</b>").format(day=day.strftime("%d.%m.%Y"))]
    lines.append(_("Leads: {count}").format(count=numbers.total))
    for code, count in numbers.by_status.items():
        lines.append(f"• {html.escape(status_label(code))}: {count}")
    untaken = sum(
        1 for lead in leads if lead.taken_by is None and lead.status_code == LeadStatus.NEW
    )
    lines.append(_("Still untaken: {count}").format(count=untaken))
    lines.append(
        _("Paid: {count}, total {amount}").format(
            count=numbers.paid_count, amount=format_amount(numbers.paid_sum)
        )
    )
    sources = Counter(_source(lead) for lead in leads)
    if leads:
        lines.append(_("Top sources:"))
        for source, count in sources.most_common(TOP_SOURCES):
            lines.append(f"• {html.escape(source[:NAME_SHOWN])}: {count}")
    taken = Counter(lead.taken_by_name or str(lead.taken_by) for lead in leads if lead.taken_by)
    for who, minutes in numbers.median_take_minutes.items():
        lines.append(
            "• "
            + html.escape(who[:NAME_SHOWN])
            + " — "
            + _("{count} taken, median {minutes} min to take").format(
                count=taken.get(who, 0), minutes=round(minutes, 1)
            )
        )
    if speed is not None:
        lines += digest_lines(speed)
    return "\n".join(lines)


def _source(lead: Lead) -> str:
    source = lead.utm.get("utm_source") if isinstance(lead.utm, dict) else None
    return str(source) if source else _("no UTM source")
