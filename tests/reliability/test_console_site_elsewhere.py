"""A site added in the console is taken by another process, a running `leadrelay serve`
on the same database, within seconds and without a restart; so is its rotated token,
the old one still accepted for its grace. Once known there, neither token reaches that
process's log."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from config.settings import Settings
from leadrelay.web import create_app
from storage.database import Database
from testkit.factories import lead_event
from testkit.service import Service, service_environment
from tests.console.conftest import log_in, post_form
from tests.webhooks.conftest import ADMIN_TOKEN
from webhooks.forms import encode_form

pytestmark = [pytest.mark.slow]
SECRET_KEY = "elsewhere-seal-key-0123456789abcdef"
ENV_TOKEN = "elsewhere-env-token-0123456789ab"
# The set-up's version is polled each second (`leadrelay.setup_watch.POLL_SECONDS`).
WITHIN_SECONDS = 5.0
_URL = re.compile(r'id="webhook-url" value="http://[^"]+/flexbe/([^"]+)"')


async def accepted_within(service: Service, token: str, lead_id: int) -> float:
    """Post a lead to the service until its intake takes it: the seconds that took."""
    started = time.monotonic()
    async with httpx.AsyncClient() as http:
        while True:
            answered = await http.post(
                f"{service.url}/flexbe/{token}",
                content=encode_form(lead_event(lead_id)),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            waited = time.monotonic() - started
            if answered.status_code == 200:
                return waited
            assert answered.status_code == 404, answered.text
            assert waited < WITHIN_SECONDS, f"still {answered.status_code} after {waited:.1f} s"
            await asyncio.sleep(0.05)


def token_of(page: httpx.Response) -> str:
    found = _URL.search(page.text)
    assert found, page.text[:1000]
    return found.group(1)


async def test_a_console_site_is_taken_by_another_process_without_a_restart(
    tmp_path: Path, database: Database
) -> None:
    env = service_environment(
        LEADRELAY_DATABASE_URL=database.url,
        LEADRELAY_WEBHOOK_TOKEN=ENV_TOKEN,
        LEADRELAY_SECRET_KEY=SECRET_KEY,
        LEADRELAY_LOG_LEVEL="INFO",
    )
    other = Service(env, tmp_path, "--role", "web")
    await other.start(timeout=120)
    settings = Settings(
        _env_file=None,
        webhook_token=SecretStr(ENV_TOKEN),
        admin_token=SecretStr(ADMIN_TOKEN),
        secret_key=SecretStr(SECRET_KEY),
    )
    console = create_app(settings=settings, database=database)
    transport = httpx.ASGITransport(app=console)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as admin:
            await log_in(admin)
            page = await post_form(
                admin, "/admin/sites", "/admin/sites/new", {"name": "Двери Казань"}
            )
            assert page.status_code == 200
            token = token_of(page)
            first = await accepted_within(other, token, 5101)

            rotated = await post_form(
                admin, "/admin/sites", "/admin/sites/dveri-kazan/rotate", {"grace_hours": "1"}
            )
            new_token = token_of(rotated)
            second = await accepted_within(other, new_token, 5102)
            assert await accepted_within(other, token, 5103) < 1  # the old one, in its grace
    finally:
        await console.state.intake.aclose()
        await other.stop()
    assert first < WITHIN_SECONDS and second < WITHIN_SECONDS, (first, second)
    # The tokens never show in the log, not even in the tries before the process knew them.
    log = other.log.read_text(errors="replace")
    assert token not in log and new_token not in log
    assert "POST /flexbe/*** HTTP/1.1" in log
    assert other.log_leaks() == []
