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

from config.chats import ChatAddress
from config.mappings import Crm5Mapping
from config.settings import Settings
from integrations.retries import Sleep
from jobs import signals
from jobs.worker import Clock, Worker
from leadrelay.handlers import Telegram, build_registry
from leadrelay.limits import rate_limits
from leadrelay.telegram_unit import build_telegram, poll
from leadrelay.web import create_app
from storage.clock import utcnow
from storage.database import Database
from storage.models import Manager, ManagerRole
from storage.queries.sites import ensure_sites
from testkit.factories import lead_event
from testkit.fakes.comunik8 import Comunik8Fake
from testkit.fakes.crm5 import Crm5Fake
from testkit.fakes.flexbe import FlexbeFake
from testkit.fakes.server import bound_socket, serve_app
from testkit.fakes.telegram import TelegramFake
from testkit.settings import one_site_settings

# tests/browser takes these two from here.
from tests.e2e.team import ADMIN as ADMIN
from tests.e2e.team import ADMIN_TOKEN as ADMIN_TOKEN
from tests.e2e.team import GROUP, MANAGER, RUSSIAN, TOKEN
from webhooks.forms import encode_form


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

    async def post_lead(self, event: dict[str, Any]) -> None:
        """Flexbe holds the lead of `event` and sends its webhook, which is answered 200."""
        self.flexbe.leads[int(event["data"]["id"])] = event["data"]
        response = await self.webhook(event)
        assert response.status_code == 200, response.text

    async def new_lead(self, lead_id: int = 1414, **kwargs: Any) -> dict[str, Any]:
        event = lead_event(lead_id, **kwargs)
        await self.post_lead(event)
        return event

    async def new_card(
        self, chat: int = GROUP, *, event: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Lead #414 comes in (as `event` has it, or as `lead_event` makes it): its card,
        once `chat` has it."""
        await self.post_lead(event or lead_event(1414))
        await eventually(lambda: card_of(self.telegram, chat) is not None)
        card = card_of(self.telegram, chat)
        assert card is not None
        return card


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


def card_text(stack: Stack, chat: int = GROUP, num: int = 414) -> str:
    """The card's text as the bot sent it (HTML), "" while the chat has none."""
    return str((card_of(stack.telegram, chat, num) or {}).get("text", ""))


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """Button text → callback data (a copy button: the text it copies)."""
    markup = message.get("reply_markup") or {}
    return {
        b["text"]: b["callback_data"] if "callback_data" in b else b["copy_text"]["text"]
        for row in markup.get("inline_keyboard", [])
        for b in row
    }


async def more_of(
    stack: Stack, chat_id: int, *, user: int = MANAGER, num: int = 414, showing: str = "« Back"
) -> dict[str, Any]:
    """Tap "More…" on the card in `chat_id` and return the card once it shows that page and
    the tap is answered (`showing`: a button of that page, in the chat's language)."""
    card = card_of(stack.telegram, chat_id, num)
    assert card is not None, "no card to open"
    more = next(data for data in buttons(card).values() if data.startswith("cp:more:"))
    answered = len(stack.telegram.callback_answers)
    stack.telegram.callback_update(user, chat_id, card["message_id"], more)
    await eventually(lambda: showing in buttons(card_of(stack.telegram, chat_id, num) or {}))
    await eventually(lambda: len(stack.telegram.callback_answers) > answered)
    opened = card_of(stack.telegram, chat_id, num)
    assert opened is not None
    return opened


async def tap(
    stack: Stack, label: str, *, user: int = MANAGER, chat: int = GROUP, num: int = 414
) -> dict[str, Any]:
    """`user` taps `label` on the card in `chat` (on its "More…" page when the first page
    has no such button): the answer to the tap, once it is given."""
    card = card_of(stack.telegram, chat, num)
    assert card is not None, f"no card #{num} in chat {chat}"
    if label not in buttons(card):
        card = await more_of(stack, chat, user=user, num=num, showing=label)
    answered = len(stack.telegram.callback_answers)
    stack.telegram.callback_update(user, chat, card["message_id"], buttons(card)[label])
    await eventually(lambda: len(stack.telegram.callback_answers) > answered)
    return stack.telegram.callback_answers[answered]


async def tap_at_once(stack: Stack, label: str, *users: int) -> None:
    """Each of `users` taps `label` on the card's "More…" page in the group, one right after
    the other (a double tap, two managers together): nothing waits for an answer."""
    card = await more_of(stack, GROUP)
    data = buttons(card)[label]
    for user in users:
        stack.telegram.callback_update(user, GROUP, card["message_id"], data)


async def answer_to(stack: Stack, update: dict[str, Any]) -> dict[str, Any]:
    """The answer to the tap `update` pushed, once the bot gave it."""
    query_id = update["callback_query"]["id"]

    def answer() -> dict[str, Any] | None:
        found = (a for a in stack.telegram.callback_answers if a["callback_query_id"] == query_id)
        return next(found, None)

    await eventually(lambda: answer() is not None)
    answered = answer()
    assert answered is not None
    return answered


def last_text(stack: Stack, chat: int) -> str:
    """The text of the chat's last message ("" in an empty chat)."""
    messages = stack.telegram.chat(chat)
    return str(messages[-1]["text"]) if messages else ""


async def invite_code(stack: Stack) -> str:
    """The admin asks for `/invite`: the code of the link the bot answers with."""
    stack.telegram.message_update(ADMIN, "/invite")
    await eventually(lambda: "t.me/leadrelay_test_bot?start=" in last_text(stack, ADMIN))
    return last_text(stack, ADMIN).rsplit("start=", 1)[1].strip()


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
    crm5_mapping: Crm5Mapping | None = None,
    fakes: tuple[TelegramFake, FlexbeFake] | None = None,
    overrides: Mapping[str, Any] | None = None,
    console: bool = False,
    morning_hour: int | None = None,
    timezone: str = "UTC",
    options: Mapping[str, Any] | None = None,
    team: bool = True,
    chats: Sequence[ChatAddress] = (ChatAddress(GROUP),),
) -> AsyncIterator[Stack]:
    """The stack for one test. `clock`, `sleep` and `rand` go to the worker and to the
    clients' quick retries: a test on a simulated clock waits for no backoff for real.
    `site_name`: the site's name in the configuration ("" for none); `site_region`: the
    site's `default_region` (none: LEADRELAY_DEFAULT_REGION's RU); `crm5_mapping`: the
    site's `[sites.crm5]`; `fakes`: the Telegram and Flexbe of a stack run before on the same
    database (a restart: chats and leads stay); `overrides`: settings that differ from the
    test defaults (e.g. Telegram's production rates); `console`: the admin console on (an
    admin token, and the service's own address as its public URL); `morning_hour`: the
    site's `call_morning_hour` (none: LEADRELAY_CALL_MORNING_HOUR's 9), in `timezone`;
    `options`: more settings, validated as at start (the working hours, the SLA, the digest…);
    `team`: False for a fresh install, nobody on the team (with `admins=()`); `chats`: the
    site's chats in the configuration (a topic of a forum: `ChatAddress(id, 15)`)."""
    telegram, flexbe = fakes or (TelegramFake(), FlexbeFake())
    crm5, comunik8 = Crm5Fake(), Comunik8Fake()
    service_socket = bound_socket()
    console_settings: dict[str, Any] = {}
    if console:
        port = service_socket.getsockname()[1]
        console_settings = {
            "admin_token": SecretStr(ADMIN_TOKEN),
            "public_url": f"http://127.0.0.1:{port}",
        }
    async with (
        telegram.running(),
        serve_app(flexbe.app) as flexbe_url,
        serve_app(crm5.app) as crm5.base_url,
        serve_app(comunik8.app) as comunik8.base_url,
    ):
        settings = one_site_settings(
            TOKEN,
            site={
                "name": site_name,
                "flexbe_api_url": f"{flexbe_url}/mod/api/",
                "flexbe_api_key": SecretStr(flexbe.api_key),
                "chats": tuple(chats),
                "default_region": site_region,
                "crm5": crm5_mapping or Crm5Mapping(),
                "call_morning_hour": morning_hour,
            },
            telegram_bot_token=SecretStr(telegram.token),
            telegram_api_url=telegram.base_url,
            telegram_admins=list(admins),
            crm5_api_url=crm5.base_url,
            crm5_public_token=SecretStr(crm5.public_token),
            crm5_secret_token=SecretStr(crm5.secret_token),
            comunik8_api_url=comunik8.base_url,
            comunik8_api_key=SecretStr(comunik8.api_key),
            comunik8_lead_type="callback",
            telegram_chat_per_second=1000,
            telegram_group_per_minute=60_000,
            telegram_per_second=10_000,
            # `options` may name the zone too: it wins over `timezone`.
            **{"timezone": timezone, **console_settings, **dict(options or {})},
        )
        if overrides:
            settings = settings.model_copy(update=dict(overrides))
        async with database.write() as session:
            await ensure_sites(session, [("okna", site_name or "okna")])
            if team and await session.get(Manager, ADMIN) is None:
                session.add(Manager(telegram_id=ADMIN, name="Ada", role=ManagerRole.ADMIN.value))
                session.add(Manager(telegram_id=MANAGER, name="Max"))
                session.add(
                    Manager(telegram_id=RUSSIAN, name="Иван", language="ru", language_chosen=True)
                )
        parts = build_telegram(settings, database, telegram.token)
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
        async with serve_app(app, service_socket) as service_url:
            running = [
                asyncio.create_task(worker.run(stop)),
                asyncio.create_task(poll(parts.bot, parts.dispatcher, stop)),
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
