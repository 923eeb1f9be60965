"""A bot token pasted in the console starts the bot in the running service, no restart.

The service runs every role in the test's loop (`leadrelay.runtime.serve_roles`, as
`leadrelay serve` runs them) with no bot token: a lead's card waits as a job; the admin
pastes the token on the Sites page over HTTP; the bot polls the loopback Telegram, the
card that waited is delivered, the next lead's too; a changed token switches the bot."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import col, select

from config.chats import ChatAddress
from config.sealing import Sealer
from config.settings import Settings
from leadrelay.runtime import Role, prepare_database, serve_roles
from leadrelay.setup_watch import BOT_TOKEN
from storage.database import Database
from storage.models import Job, SetupValue
from storage.queries.setup import bump_version, set_value
from testkit.factories import lead_event
from testkit.fakes.flexbe import FlexbeFake
from testkit.fakes.server import serve_app
from testkit.fakes.telegram import BOT_USERNAME, DROP, TelegramFake
from testkit.service import free_port
from testkit.settings import one_site_settings
from tests.console.conftest import log_in, post_form
from tests.e2e.conftest import card_of, eventually
from tests.e2e.team import ADMIN, ADMIN_TOKEN, GROUP, TOKEN
from webhooks.forms import encode_form

SECRET_KEY = SecretStr("e2e-seal-key-0123456789abcdef0123")
SECOND_TOKEN = "654321:SECOND-token-for-the-fake"


@dataclass
class Service:
    telegram: TelegramFake
    flexbe: FlexbeFake
    database: Database
    settings: Settings
    url: str

    async def lead(self, lead_id: int) -> None:
        event = lead_event(lead_id)
        self.flexbe.leads[lead_id] = event["data"]
        async with httpx.AsyncClient() as http:
            response = await http.post(
                f"{self.url}/flexbe/{TOKEN}",
                content=encode_form(event),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        assert response.status_code == 200, response.text


@contextlib.asynccontextmanager
async def service_without_a_bot(database: Database) -> AsyncIterator[Service]:
    """Every role running on `database`, configured with one site and its group, no token."""
    telegram, flexbe = TelegramFake(), FlexbeFake()
    port = free_port()
    async with telegram.running(), serve_app(flexbe.app) as flexbe_url:
        settings = one_site_settings(
            TOKEN,
            site={
                "flexbe_api_url": f"{flexbe_url}/mod/api/",
                "flexbe_api_key": SecretStr(flexbe.api_key),
                "chats": (ChatAddress(GROUP),),
            },
            telegram_api_url=telegram.base_url,
            telegram_admins=[ADMIN],
            admin_token=SecretStr(ADMIN_TOKEN),
            public_url=f"http://127.0.0.1:{port}",
            secret_key=SECRET_KEY,
            database_url=database.url,
        )
        await (await prepare_database(settings)).dispose()  # as at start: migrated, site stored
        stop = asyncio.Event()
        running = asyncio.create_task(
            serve_roles(settings, database, host="127.0.0.1", port=port, role=Role.ALL, stop=stop)
        )
        url = f"http://127.0.0.1:{port}"
        try:
            await _until_up(url, running)
            yield Service(telegram, flexbe, database, settings, url)
        finally:
            stop.set()
            await asyncio.wait_for(running, 30)


async def _until_up(url: str, running: asyncio.Task[None]) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(500):
            assert not running.done(), "the service stopped"
            with contextlib.suppress(httpx.TransportError):
                await http.get(f"{url}/healthz")
                return
            await asyncio.sleep(0.02)
    raise AssertionError("the service did not start")


async def card_jobs(database: Database) -> list[Job]:
    """The jobs of the group's cards, oldest first."""
    async with database.read() as session:
        query = select(Job).where(Job.kind == "notify").order_by(col(Job.id))
        jobs = (await session.exec(query)).all()
    return [job for job in jobs if job.dedupe_key.endswith(f":{GROUP}")]


@pytest.fixture
async def service(database: Database) -> AsyncIterator[Service]:
    async with service_without_a_bot(database) as running:
        yield running


async def paste_token(service: Service, token: str, *, status: int = 200) -> str:
    """The admin logs in to the console and pastes `token`: the page they get."""
    async with httpx.AsyncClient(base_url=service.url) as admin:
        assert (await log_in(admin, ADMIN_TOKEN)).status_code == 303
        page = await post_form(
            admin, "/admin/sites", "/admin/setup/bot-token", {"bot_token": token}
        )
    assert page.status_code == status, page.text[:500]
    return page.text


def last_text(service: Service, chat: int) -> str:
    messages = service.telegram.chat(chat)
    return str(messages[-1]["text"]) if messages else ""


async def test_a_pasted_token_starts_the_bot_and_the_card_that_waited_is_sent(
    service: Service,
) -> None:
    await service.lead(1414)
    [waiting] = await card_jobs(service.database)
    page = await paste_token(
        service, "", status=400
    )  # the console is up; the worker has had its turns
    assert "Paste the token @BotFather gave" in page
    # No bot: the card waited as a job, neither sent nor dropped nor failed.
    [waited] = await card_jobs(service.database)
    assert (waited.id, waited.status, waited.attempts) == (waiting.id, "pending", 0)
    assert service.telegram.sent == [] and service.telegram.requests == []

    page = await paste_token(service, service.telegram.token)
    assert f"The bot @{BOT_USERNAME} (leadrelay) is connected: it starts within seconds" in page
    assert service.telegram.token not in page

    # The card that waited reaches the group; the bot polls and answers the team.
    await eventually(lambda: card_of(service.telegram, GROUP) is not None)
    service.telegram.message_update(ADMIN, "/help")
    await eventually(lambda: last_text(service, ADMIN) != "")
    # The next lead's card comes at once.
    await service.lead(1415)
    await eventually(lambda: card_of(service.telegram, GROUP, 415) is not None)


async def test_a_changed_token_switches_the_bot(service: Service) -> None:
    await paste_token(service, service.telegram.token)
    await service.lead(1414)
    await eventually(lambda: card_of(service.telegram, GROUP) is not None)

    # The token is changed (BotFather's /revoke): Telegram takes only the new one now, and
    # the set-up gets it as the console stores it.
    service.telegram.token = SECOND_TOKEN
    async with service.database.write() as session:
        sealed = Sealer(SECRET_KEY).seal(SecretStr(SECOND_TOKEN))
        await set_value(session, BOT_TOKEN, sealed, sealed=True)

    await service.lead(1415)
    await eventually(lambda: card_of(service.telegram, GROUP, 415) is not None)
    service.telegram.message_update(ADMIN, "/help")
    await eventually(lambda: last_text(service, ADMIN) != "")
    # The old bot stopped asking: the refusals of its token do not go on.
    refused = len(service.telegram.rejected)
    polls = len(service.telegram.calls_of("getUpdates"))
    await eventually(lambda: len(service.telegram.calls_of("getUpdates")) >= polls + 3)
    assert len(service.telegram.rejected) == refused


async def test_a_bot_that_cannot_start_is_tried_again_and_the_rest_keeps_running(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    # Telegram away for the first start, then refusing the token: the bot role says so
    # in words and tries again; the intake and the worker go on meanwhile.
    service.telegram.fail_next("setMyCommands", status=DROP)
    service.telegram.fail_next("setMyCommands", status=401, description="Unauthorized")
    with caplog.at_level(logging.INFO):
        await paste_token(service, service.telegram.token)
        await service.lead(1414)
        await eventually(lambda: card_of(service.telegram, GROUP) is not None)
        await eventually(lambda: bool(service.telegram.calls_of("getUpdates")), timeout=15)
    said = [r.getMessage() for r in caplog.records if r.name == "leadrelay.telegram_unit"]
    assert any(
        line.startswith("the Telegram bot cannot start: cannot reach the Bot API")
        and line.endswith("trying again in 1 s")
        for line in said
    ), said
    assert any(
        "Telegram refused the bot token (401 Unauthorized)" in line
        and line.endswith("trying again in 2 s")
        for line in said
    ), said
    assert all(service.telegram.token not in r.getMessage() for r in caplog.records)


async def test_a_token_taken_away_stops_the_bot_and_cards_wait_again(service: Service) -> None:
    await paste_token(service, service.telegram.token)
    await service.lead(1414)
    await eventually(lambda: card_of(service.telegram, GROUP) is not None)

    async with service.database.write() as session:
        row = await session.get(SetupValue, BOT_TOKEN)
        await session.delete(row)
        await bump_version(session)
    await eventually(lambda: not service.settings.telegram_enabled)
    polls = len(service.telegram.calls_of("getUpdates"))
    await service.lead(1415)
    [_, waiting] = await card_jobs(service.database)
    # Another lead's card is stored and waits; the old bot's polling stopped (a poll
    # under way when the token went may still end).
    await paste_token(service, "", status=400)  # meanwhile: the worker has had its turns
    assert card_of(service.telegram, GROUP, 415) is None
    assert len(service.telegram.calls_of("getUpdates")) <= polls + 1
    [_, waited] = await card_jobs(service.database)
    assert (waited.id, waited.status, waited.attempts) == (waiting.id, "pending", 0)
