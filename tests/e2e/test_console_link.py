"""`/admin`: the bot hands an admin a link that logs into the console once."""

from __future__ import annotations

import re

import httpx
import pytest

from storage.database import Database
from tests.e2e.conftest import Stack, eventually, last_text, open_stack
from tests.e2e.team import ADMIN, GROUP, MANAGER

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def use_link(http: httpx.AsyncClient, link: str) -> httpx.Response:
    page = await http.get(link)
    assert page.status_code == 200
    found = _CSRF.search(page.text)
    assert found is not None
    token = link.rsplit("/", 1)[1]
    return await http.post("/admin/link", data={"csrf": found.group(1), "link": token})


async def test_an_admin_gets_a_link_that_logs_in_once(database: Database) -> None:
    async with open_stack(database, console=True) as stack:
        stack.telegram.message_update(ADMIN, "/admin")
        await eventually(lambda: "/admin/link/" in last_text(stack, ADMIN))
        message = stack.telegram.chat(ADMIN)[-1]
        link = re.search(r"http://\S+/admin/link/\S+", message["text"])
        assert link is not None and link.group(0).startswith(stack.service_url)

        async with httpx.AsyncClient(base_url=stack.service_url) as http:
            assert (await use_link(http, link.group(0))).status_code == 303
            assert (await http.get("/admin")).status_code == 200
        async with httpx.AsyncClient(base_url=stack.service_url) as other:
            assert (await use_link(other, link.group(0))).status_code == 410
            assert (await other.get("/admin")).status_code == 303

        stack.telegram.message_update(ADMIN, "/admin", chat_id=GROUP)
        await eventually(lambda: "private chat" in last_text(stack, GROUP))
        stack.telegram.message_update(MANAGER, "/admin")
        await eventually(lambda: bool(stack.telegram.chat(MANAGER)))
        assert "/admin/link/" not in last_text(stack, MANAGER)


async def test_without_the_console_the_bot_says_what_is_missing(stack: Stack) -> None:
    stack.telegram.message_update(ADMIN, "/admin")
    await eventually(lambda: "console is off" in last_text(stack, ADMIN))
    assert "LEADRELAY_PUBLIC_URL" in last_text(stack, ADMIN)
