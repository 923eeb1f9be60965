"""Webhook mode: the bot role sets the webhook; Telegram's updates come through the web role,
are stored, and are handled by the worker."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

from leadrelay.telegram_unit import serve_bot
from tests.e2e.conftest import Stack, eventually
from tests.e2e.team import MANAGER

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
SETTING = "Hq3v0Zk_UyW7rE2bN9xLm4TfA6sJd1Pc"


async def test_bot_sets_the_webhook_and_updates_arrive_through_the_web_role(
    stack: Stack,
) -> None:
    settings = stack.settings.model_copy(
        update={
            "public_url": stack.service_url,
            "telegram_webhook_secret": SecretStr(SETTING),
        }
    )
    stop = asyncio.Event()
    bot_role = asyncio.create_task(serve_bot(settings, stack.parts, stop))
    await eventually(lambda: bool(stack.telegram.webhooks))
    [hook] = stack.telegram.webhooks
    path = hook["url"].removeprefix(f"{stack.service_url}/telegram/")
    header = hook["secret_token"]
    # Two different secrets, neither of them the setting itself: a leaked URL is not enough.
    assert "/" not in path and len(path) >= 40 and len(header) >= 40
    assert len({path, header, SETTING}) == 3

    # The web role of this stack was built without the secret: rebuild its view of it.
    from leadrelay.web import create_app
    from testkit.fakes.server import serve_app

    app = create_app(settings=settings, database=stack.database)
    async with serve_app(app) as web:
        update = stack.telegram.build_message_update(MANAGER, "/help")
        status = await stack.telegram.deliver_webhook(
            f"{web}/telegram/{path}", update, secret_token=header
        )
        again = await stack.telegram.deliver_webhook(
            f"{web}/telegram/{path}", update, secret_token=header
        )
        wrong = await stack.telegram.deliver_webhook(
            f"{web}/telegram/{path}", update, secret_token="x" * 30
        )
        path_as_header = await stack.telegram.deliver_webhook(
            f"{web}/telegram/{path}", update, secret_token=path
        )
        await eventually(lambda: any("/leads" in m["text"] for m in stack.telegram.chat(MANAGER)))
    await app.state.intake.aclose()
    stop.set()
    await bot_role

    assert (status, again, wrong, path_as_header) == (200, 200, 403, 403)
    helps = [m for m in stack.telegram.chat(MANAGER) if "/leads" in m["text"]]
    assert len(helps) == 1, "the same update_id is handled once"
