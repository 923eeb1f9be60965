"""Keeping every process's settings in step with the set-up stored in the database.

The console and the bot change the stored set-up (sites, chats, admins, the bot token) in
one transaction with a raise of `setup_version`. Every process polls that one row each
`POLL_SECONDS` (an indexed read of one row); when it moved, it reads the set-up and merges
it into its settings (`Settings.use_stored`), swapping the sites whole. A card's path reads
the merged settings in memory: it gains no database round-trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC

from pydantic import ValidationError

from config.sealing import Sealer, SealError
from config.settings import Settings
from config.sites import ChatLink, SiteConfig, StoredSetup, StoredSite
from storage.database import Database
from storage.models import EVERY_SITE, ConsoleSite

# The setup values' names, defined beside their queries (the console reads them there).
from storage.queries.setup import BOT_TOKEN as BOT_TOKEN
from storage.queries.setup import BOT_USERNAME as BOT_USERNAME
from storage.queries.setup import SetupRows, read_setup, setup_version

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0

# Told of each change: the set-up before and after.
SetupListener = Callable[[StoredSetup, StoredSetup], Awaitable[None] | None]


def sealer_of(settings: Settings) -> Sealer | None:
    return Sealer(settings.secret_key) if settings.secret_key is not None else None


def stored_setup(rows: SetupRows, sealer: Sealer | None) -> StoredSetup:
    """The rows as the settings merge them, secrets opened. A site that cannot be read (a
    secret sealed with another key, a value no longer valid) is left out and logged: the
    others, and the configured ones, keep working."""
    sites = []
    for row in rows.sites:
        try:
            sites.append(_stored_site(row, sealer))
        except (SealError, ValidationError, LookupError) as error:
            log.error("console site %s left out: %s", row.key, _reason(error))
    token = rows.values.get(BOT_TOKEN)
    bot_token = None
    if token is not None and sealer is not None:
        try:
            bot_token = sealer.open(token.value)
        except SealError as error:
            log.error("the bot token from the console left out: %s", error)
    return StoredSetup(
        version=rows.version,
        sites=tuple(sites),
        links=tuple(
            ChatLink(
                chat_id=row.chat_id,
                site_key=None if row.site_key == EVERY_SITE else row.site_key,
                topic=row.topic,
            )
            for row in rows.connections
        ),
        moves={move.old_id: move.new_id for move in rows.moves},
        admins=frozenset(rows.admins),
        bot_token=bot_token,
    )


def _stored_site(row: ConsoleSite, sealer: Sealer | None) -> StoredSite:
    if sealer is None:
        raise LookupError("LEADRELAY_SECRET_KEY is not set: its secrets cannot be opened")
    sla = {
        name: value
        for name, value in (
            ("remind_after", row.sla_remind_after),
            ("escalate_after", row.sla_escalate_after),
        )
        if value
    }
    config = SiteConfig.model_validate(
        {
            "key": row.key,
            "name": row.name,
            "webhook_token": sealer.open(row.webhook_token_sealed),
            "flexbe_api_url": row.flexbe_api_url,
            "flexbe_api_key": (
                sealer.open(row.flexbe_api_key_sealed) if row.flexbe_api_key_sealed else None
            ),
            "default_region": row.default_region,
            "working_hours": row.working_hours,
            "sla": sla or None,
        }
    )
    previous = sealer.open(row.previous_token_sealed) if row.previous_token_sealed else None
    until = row.previous_until.astimezone(UTC) if row.previous_until else None
    return StoredSite(config, row.enabled, previous, until if previous else None)


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(str(e["msg"]) for e in error.errors())[:300]
    return str(error)[:300]


class SetupWatch:
    """Polls the set-up's version and merges a changed set-up into `settings`."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        interval: float = POLL_SECONDS,
        listeners: list[SetupListener] | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.interval = interval
        self.listeners = list(listeners or [])
        self._seen: int | None = None

    async def refresh(self) -> bool:
        """Reload if the version moved (or on the first call): whether it did."""
        async with self.database.read() as session:
            version = await setup_version(session)
            if version == self._seen:
                return False
            rows = await read_setup(session)
        before = self.settings.stored
        after = stored_setup(rows, sealer_of(self.settings))
        self.settings.use_stored(after)
        self._seen = rows.version
        for listener in self.listeners:
            outcome = listener(before, after)
            if inspect.isawaitable(outcome):
                await outcome
        return True

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.refresh()
            except Exception:  # the database may be away for a moment; the last set-up holds
                log.exception("could not reload the stored set-up")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)
