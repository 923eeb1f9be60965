"""Webhook mode: the bot role sets the webhook; Telegram's updates come through the web role,
are stored, and are handled by the worker."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

from leadrelay.runtime import _run_bot
from tests.e2e.conftest import MANAGER, Stack, eventually

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
SECRET = "tg-webhook-secret-0123456789"


async def test_bot_sets_the_webhook_and_updates_arrive_through_the_web_role(
    stack: Stack,
) -> None:
    settings = stack.settings.model_copy(
        update={
            "public_url": stack.service_url,
            "telegram_webhook_secret": SecretStr(SECRET),
        }
    )
    stop = asyncio.Event()
    bot_role = asyncio.create_task(_run_bot(settings, stack.parts, stop))
    await eventually(lambda: bool(stack.telegram.webhooks))
    [hook] = stack.telegram.webhooks
    assert hook["url"] == f"{stack.service_url}/telegram/{SECRET}"
    assert hook["secret_token"] == SECRET

    # The web role of this stack was built without the secret: rebuild its view of it.
    from tests.fakes.server import serve_app
    from webhooks.app import create_app

    app = create_app(settings=settings, database=stack.database)
    async with serve_app(app) as web:
        update = stack.telegram.build_message_update(MANAGER, "/help")
        status = await stack.telegram.deliver_webhook(
            f"{web}/telegram/{SECRET}", update, secret_token=SECRET
        )
        again = await stack.telegram.deliver_webhook(
            f"{web}/telegram/{SECRET}", update, secret_token=SECRET
        )
        wrong = await stack.telegram.deliver_webhook(
            f"{web}/telegram/{SECRET}", update, secret_token="x" * 30
        )
        await eventually(lambda: any("/leads" in m["text"] for m in stack.telegram.chat(MANAGER)))
    await app.state.intake.aclose()
    stop.set()
    await bot_role

    assert (status, again, wrong) == (200, 200, 403)
    helps = [m for m in stack.telegram.chat(MANAGER) if "/leads" in m["text"]]
    assert len(helps) == 1, "the same update_id is handled once"
