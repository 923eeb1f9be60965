"""A chat connected in one process is used by the others within seconds, no restart.

Three `leadrelay serve` processes on one PostgreSQL database: a web front whose console the
admin uses, and two processes that each run a worker (one of them with the intake and the
bot). The admin connects the team's group to a console site in the first; the next lead
posted to the second process gets its card in that group, sent by either worker. The
set-up reaches them by the version row each process polls every second
(`leadrelay/setup_watch.py`); the delay measured is printed."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from storage.database import Database
from testkit.factories import lead_event
from testkit.fakes.telegram import TelegramFake
from testkit.service import Service, service_environment, telegram_settings
from tests.conftest import ON_POSTGRESQL_ONLY
from tests.console.conftest import log_in, post_form
from tests.reliability.test_console_site_elsewhere import accepted_within, token_of
from tests.reliability.waits import worker_registered
from tests.webhooks.conftest import ADMIN_TOKEN
from webhooks.forms import encode_form

pytestmark = [pytest.mark.slow, *ON_POSTGRESQL_ONLY]
SECRET_KEY = "two-workers-seal-key-0123456789abc"
ENV_TOKEN = "two-workers-env-token-0123456789"
GROUP = -1002000
WITHIN_SECONDS = 5.0


async def test_a_chat_connected_in_one_process_gets_the_next_card_sent_by_another(
    tmp_path: Path, database: Database
) -> None:
    async with TelegramFake().running() as telegram:
        env = service_environment(
            LEADRELAY_DATABASE_URL=database.url,
            LEADRELAY_WEBHOOK_TOKEN=ENV_TOKEN,
            LEADRELAY_SECRET_KEY=SECRET_KEY,
            LEADRELAY_ADMIN_TOKEN=ADMIN_TOKEN,
            LEADRELAY_LOG_LEVEL="INFO",
            **telegram_settings(telegram, chats=()),
        )
        env.pop("LEADRELAY_TELEGRAM_CHATS")  # the only chat is the one connected
        console = Service(env, tmp_path, "--role", "web")
        intake = Service(env, tmp_path, "--role", "all")
        worker = Service(env, tmp_path, "--role", "worker")
        try:
            # One after the other: two first starts at once race to insert the site rows.
            await intake.start(timeout=120)
            await worker.start(serves_http=False)
            await console.start(timeout=120)
            for process in (intake, worker):
                await worker_registered(database, process)
            async with httpx.AsyncClient(base_url=console.url) as admin:
                await log_in(admin)
                page = await post_form(
                    admin, "/admin/sites", "/admin/sites/new", {"name": "Двери Казань"}
                )
                token = token_of(page)
                await accepted_within(intake, token, 6100)  # the site is known there
                saved = await post_form(
                    admin,
                    "/admin/sites",
                    "/admin/sites/dveri-kazan/edit",
                    {"name": "Двери Казань", "chats": str(GROUP)},
                )
                assert saved.status_code == 303, saved.text[:500]  # back to the page, saved
            connected = time.monotonic()
            delay = await first_card_after(intake, telegram, token, connected)
        finally:
            for process in (console, intake, worker):
                await process.stop()
    print(f"a chat connected in the console got its first card after {delay:.2f} s")
    assert delay < WITHIN_SECONDS
    for process in (console, intake, worker):
        assert process.log_leaks() == []


async def first_card_after(
    intake: Service, telegram: TelegramFake, token: str, connected: float
) -> float:
    """Post a new lead to `intake` each 0.2 s until a card reaches the group: the seconds
    from the connection to that card."""
    lead_id = 6200
    async with httpx.AsyncClient() as http:
        while not telegram.chat(GROUP):
            waited = time.monotonic() - connected
            assert waited < 2 * WITHIN_SECONDS, f"no card in the group after {waited:.1f} s"
            lead_id += 1
            answered = await http.post(
                f"{intake.url}/flexbe/{token}",
                content=encode_form(lead_event(lead_id)),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert answered.status_code == 200, answered.text
            await asyncio.sleep(0.2)
    return time.monotonic() - connected
