"""The console over HTTP, on the web app as the service mounts it: log in as a browser
would, reading the CSRF token from the page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from console.access import Console
from testkit.fakes.fixtures import Sleeps
from tests.webhooks import conftest as web_tests
from tests.webhooks.conftest import ADMIN_TOKEN, TOKEN
from webhooks.forms import encode_form

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')

# The web tests' app (the console mounted on it, as the service does) and its client.
app = web_tests.app
client = web_tests.client


def csrf_of(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


@pytest.fixture
def delays(app: FastAPI) -> Sleeps:
    """Stands in for `asyncio.sleep` in the failed-login throttle: records, never waits."""
    recorder = Sleeps()
    console: Console = app.state.console
    console.failed_logins._sleep = recorder
    return recorder


async def log_in(client: httpx.AsyncClient, token: str = ADMIN_TOKEN) -> httpx.Response:
    page = await client.get("/admin/login")
    return await client.post(
        "/admin/login", data={"csrf": csrf_of(page), "token": token, "next": "/admin"}
    )


async def post_form(
    client: httpx.AsyncClient, page_url: str, action: str, data: dict[str, str] | None = None
) -> httpx.Response:
    """Submit a form of `page_url` as the browser does: with the CSRF token the page holds."""
    page = await client.get(page_url)
    assert page.status_code == 200, page.text[:300]
    return await client.post(action, data={"csrf": csrf_of(page), **(data or {})})


@pytest.fixture
async def admin(client: httpx.AsyncClient, delays: Sleeps) -> AsyncIterator[httpx.AsyncClient]:
    response = await log_in(client)
    assert response.status_code == 303, response.text[:300]
    yield client


async def deliver(client: httpx.AsyncClient, event: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"/flexbe/{TOKEN}", content=encode_form(event), headers=FORM)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
