"""The whole service in the test's loop: webhooks over HTTP, the job worker, the bot polling
the loopback Telegram, the loopback Flexbe behind the buttons."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from config.settings import Settings, SiteConfig
from integrations.retries import Sleep
from jobs import signals
from jobs.worker import Clock, Worker
from leadrelay.handlers import Telegram, build_registry
from leadrelay.runtime import _build_telegram, _poll, rate_limits
from storage.clock import utcnow
from storage.database import Database
from storage.models import Manager, ManagerRole
from storage.queries.sites import ensure_sites
from testkit.factories import lead_event
from testkit.fakes.comunik8 import Comunik8Fake
from testkit.fakes.crm5 import Crm5Fake
from testkit.fakes.flexbe import FlexbeFake
from testkit.fakes.server import serve_app
from testkit.fakes.telegram import TelegramFake
from webhooks.app import create_app
from webhooks.forms import encode_form

TOKEN = "e2e-site-token-0123456789"
GROUP = -1001000
ADMIN, MANAGER, RUSSIAN, OUTSIDER = 11, 22, 33, 999


@dataclass
class Stack:
    telegram: TelegramFake
    flexbe: FlexbeFake
    crm5: Crm5Fake
    comunik8: Comunik8Fake
    database: Database
    settings: Settings
    service_url: str
    parts: Telegram

    async def webhook(self, event: dict[str, Any]) -> httpx.Response:
        async with httpx.AsyncClient() as http:
            return await http.post(
                f"{self.service_url}/flexbe/{TOKEN}",
                content=encode_form(event),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )

    async def new_lead(self, lead_id: int = 1414, **kwargs: Any) -> dict[str, Any]:
        event = lead_event(lead_id, **kwargs)
        self.flexbe.leads[lead_id] = event["data"]
        response = await self.webhook(event)
        assert response.status_code == 200, response.text
        return event


async def eventually(check: Callable[[], bool], *, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the expected state was not reached in time")
        await asyncio.sleep(0.02)


def card_of(telegram: TelegramFake, chat_id: int, num: int = 414) -> dict[str, Any] | None:
    for message in telegram.chat(chat_id):
        if f"#{num}</b>" in message["text"] or f"№{num}</b>" in message["text"]:
            return message
    return None


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """Button text → callback data."""
    markup = message.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


class AheadClock:
    """Real time, moved ahead when the test says: jobs enqueued now are due at once,
    timers when the test has moved past them."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.ahead

    def advance(self, seconds: float) -> None:
        self.ahead += timedelta(seconds=seconds)

    def to(self, moment: datetime) -> None:
        self.ahead = max(self.ahead, moment - utcnow())


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[Stack]:
    async with open_stack(database) as running:
        yield running


@contextlib.asynccontextmanager
async def open_stack(
    database: Database,
    *,
    admins: Sequence[int] = (ADMIN,),
    clock: Clock = utcnow,
    sleep: Sleep = asyncio.sleep,
    rand: Callable[[], float] = random.random,
    lease: float = 10,
    site_name: str = "Окна СПб",
    site_region: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> AsyncIterator[Stack]:
    """The stack for one test. `clock`, `sleep` and `rand` go to the worker and to the
    clients' quick retries: a test on a simulated clock waits for no backoff for real.
    `site_name`: the site's name in the configuration ("" for none); `site_region`: the
    site's `default_region` (none: LEADRELAY_DEFAULT_REGION's RU); `options`: more settings
    (the working hours, the SLA, the digest…)."""
    flexbe = FlexbeFake()
    telegram = TelegramFake()
    crm5, comunik8 = Crm5Fake(), Comunik8Fake()
    async with (
        telegram.running(),
        serve_app(flexbe.app) as flexbe_url,
        serve_app(crm5.app) as crm5.base_url,
        serve_app(comunik8.app) as comunik8.base_url,
    ):
        settings = Settings(
            _env_file=None,
            sites=(
                SiteConfig(
                    key="okna",
                    name=site_name,
                    webhook_token=SecretStr(TOKEN),
                    flexbe_api_url=f"{flexbe_url}/mod/api/",  # type: ignore[arg-type]
                    flexbe_api_key=SecretStr(flexbe.api_key),
                    chats=(GROUP,),
                    default_region=site_region,
                ),
            ),
            telegram_bot_token=SecretStr(telegram.token),
            telegram_api_url=telegram.base_url,  # type: ignore[arg-type]
            telegram_admins=list(admins),
            crm5_api_url=crm5.base_url,  # type: ignore[arg-type]
            crm5_public_token=SecretStr(crm5.public_token),
            comunik8_api_url=comunik8.base_url,  # type: ignore[arg-type]
            comunik8_api_key=SecretStr(comunik8.api_key),
            comunik8_lead_type="callback",
            telegram_chat_per_second=1000,
            telegram_group_per_minute=60_000,
            telegram_per_second=10_000,
            **dict(options or {}),
        )
        async with database.write() as session:
            await ensure_sites(session, [("okna", site_name or "okna")])
            session.add(Manager(telegram_id=ADMIN, name="Ada", role=ManagerRole.ADMIN.value))
            session.add(Manager(telegram_id=MANAGER, name="Max"))
            session.add(
                Manager(telegram_id=RUSSIAN, name="Иван", language="ru", language_chosen=True)
            )
        parts = _build_telegram(settings, database)
        registry = build_registry(
            settings=settings, database=database, telegram=parts, sleep=sleep, clock=clock
        )
        worker = Worker(
            database,
            registry,
            lease=lease,
            rate_limits=rate_limits(settings),
            poll_interval=0.05,
            clock=clock,
            rand=rand,
        )
        app = create_app(
            settings=settings, database=database, on_jobs_enqueued=signals.notify_enqueued
        )
        stop = asyncio.Event()
        async with serve_app(app) as service_url:
            running = [
                asyncio.create_task(worker.run(stop)),
                asyncio.create_task(_poll(parts.bot, parts.dispatcher, stop)),
            ]
            try:
                yield Stack(
                    telegram, flexbe, crm5, comunik8, database, settings, service_url, parts
                )
            finally:
                stop.set()
                for task in running:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(task, 30)
                await app.state.intake.aclose()
                await parts.bot.session.close()
