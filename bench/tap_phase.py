"""`bench/notify.py`'s tap phase: a manager's tap on a card, through the real bot, to
Flexbe's `changeLead` and to the card's edit, one at a time while idle."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from bench.latency import percentiles, until
from testkit.factories import lead_event
from testkit.fakes.flexbe import FlexbeFake
from testkit.fakes.telegram import TelegramFake
from testkit.service import Service

ADMIN = 4242  # LEADRELAY_TELEGRAM_ADMINS: a manager the service knows from the start
FIRST_NUM = 5000
TIMEOUT = 30.0


def _card(fake: TelegramFake, chat: int, num: int) -> dict[str, Any] | None:
    needle = f"#{num}</b>"
    return next((m for m in fake.messages(chat) if needle in str(m["text"])), None)


async def tap_latency(
    service: Service,
    fake: TelegramFake,
    flexbe: FlexbeFake,
    *,
    token: str,
    samples: int,
    chat: int,
) -> None:
    to_api, to_edit = [], []
    async with httpx.AsyncClient() as http:
        for index in range(samples):
            lead_id, num = 30_000 + index, FIRST_NUM + index
            event = lead_event(lead_id, num=num, time=int(time.time()))
            flexbe.leads[lead_id] = event["data"]
            await service.post_event(http, token, event)
            await until(lambda: _card(fake, chat, num) is not None, what="the card")  # noqa: B023
            card = _card(fake, chat, num)
            assert card is not None
            rows = card["reply_markup"]["inline_keyboard"]
            data = next(b["callback_data"] for row in rows for b in row if b["text"] == "Processed")
            calls = len(flexbe.calls("changeLead"))
            await asyncio.sleep(1.0)  # idle: the card's own sending is long over

            started = time.monotonic()
            fake.callback_update(ADMIN, chat, card["message_id"], data)
            await until(lambda: len(flexbe.calls("changeLead")) > calls, what="Flexbe")  # noqa: B023
            to_api.append(time.monotonic() - started)
            key = card["message_id"]
            await until(
                lambda: "Status: Processed" in str(fake.message(chat, key)["text"]),  # noqa: B023
                what="the edited card",
            )
            to_edit.append(fake.message(chat, key)["edited_at"] - started)
    api50, api99 = percentiles(to_api)
    edit50, edit99 = percentiles(to_edit)
    print(
        f"idle tap→changeLead: p50 {api50:.1f} ms, p99 {api99:.1f} ms; "
        f"tap→card edited: p50 {edit50:.1f} ms, p99 {edit99:.1f} ms "
        f"over {samples} taps (target p99 < 1000 ms)"
    )
