"""The real `leadrelay serve`, started with no bot token: the token pasted in its console
over HTTP starts the bot in the running process (no restart); the card of a lead that came
before is delivered, the next lead's too, and the token never reaches the log."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from storage.database import Database
from testkit.factories import lead_event
from testkit.fakes.telegram import TelegramFake
from testkit.service import Service, service_environment
from tests.console.conftest import log_in, post_form
from tests.e2e.conftest import card_of, eventually
from tests.webhooks.conftest import ADMIN_TOKEN

pytestmark = [pytest.mark.slow]
SECRET_KEY = "process-seal-key-0123456789abcdef"
SITE_TOKEN = "process-site-token-0123456789ab"
GROUP = -100


async def test_a_token_pasted_in_the_console_starts_the_bot_of_the_running_process(
    tmp_path: Path, database: Database
) -> None:
    async with TelegramFake().running() as telegram:
        env = service_environment(
            LEADRELAY_DATABASE_URL=database.url,
            LEADRELAY_WEBHOOK_TOKEN=SITE_TOKEN,
            LEADRELAY_SECRET_KEY=SECRET_KEY,
            LEADRELAY_ADMIN_TOKEN=ADMIN_TOKEN,
            LEADRELAY_TELEGRAM_API_URL=telegram.base_url,
            LEADRELAY_TELEGRAM_CHATS=str(GROUP),
            LEADRELAY_LOG_LEVEL="INFO",
        )
        service = Service(env, tmp_path)
        await service.start(timeout=120)
        try:
            async with httpx.AsyncClient(base_url=service.url) as http:
                await service.post_event(http, SITE_TOKEN, lead_event(1414))
                assert telegram.requests == []  # no bot: the card waits
                assert (await log_in(http, ADMIN_TOKEN)).status_code == 303
                pasted = await post_form(
                    http, "/admin/sites", "/admin/setup/bot-token", {"bot_token": telegram.token}
                )
                assert "it starts within seconds" in pasted.text, pasted.text[:500]
                started = time.monotonic()
                await eventually(lambda: card_of(telegram, GROUP) is not None)
                waited = time.monotonic() - started
                await service.post_event(http, SITE_TOKEN, lead_event(1415))
                await eventually(lambda: card_of(telegram, GROUP, 415) is not None)
                await eventually(lambda: bool(telegram.calls_of("getUpdates")))
        finally:
            await service.stop()
    print(f"the card that waited was sent {waited:.2f} s after the token was pasted")
    assert service.process is not None and service.process.returncode == 0
    assert telegram.token not in service.log.read_text(errors="replace")
    assert service.log_leaks() == []
