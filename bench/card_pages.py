"""The card's own buttons, idle: how soon a tap shows, against the Take measured in the same run.

The real service (`leadrelay serve`, SQLite, all roles) runs as a subprocess, polling a
loopback Telegram Bot API; an admin taps on each lead's card in the group:
  1. "More…" and "Back": tap to `editMessageReplyMarkup` (the handler redraws the keyboard);
  2. assign the lead to themselves: tap to the new card's `sendMessage` in their private
     chat (the tap's transaction queues it; the worker sends it);
  3. baseline, Take (released first): tap to the group card's `editMessageText`.
p50/p99 of each, and each p99 as a ratio of Take's (target: pages ≤ 1, assignment ≤ 1.5).

    .venv/bin/python bench/card_pages.py [--leads 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.command_line import leads_parser  # noqa: E402
from bench.latency import until  # noqa: E402
from testkit.factories import lead_event  # noqa: E402
from testkit.fakes.telegram import TelegramFake  # noqa: E402
from testkit.service import Service, served_on_sqlite, telegram_settings  # noqa: E402

TOKEN = "bench-pages-token-0123456789"
GROUP, ADMIN = -1001, 11
LEAD_ID = re.compile(r"^la:take:(\d+)$")


def card(fake: TelegramFake, chat: int, num: int) -> dict[str, object] | None:
    found = [m for m in fake.chat(chat) if f"#{num}</b>" in str(m["text"])]
    return found[-1] if found else None


def data_of(message: dict[str, object]) -> list[str]:
    markup = message.get("reply_markup") or {}
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    return [b.get("callback_data", "") for row in rows for b in row]


async def tap(fake: TelegramFake, chat: int, message_id: int, data: str) -> float:
    started = time.monotonic()
    fake.callback_update(ADMIN, chat, message_id, data)
    return started


async def redraw(fake: TelegramFake, message_id: int, data: str) -> float:
    """A tap on a page button, to the keyboard's edit."""
    edits = len(fake.calls_of("editMessageReplyMarkup"))
    started = await tap(fake, GROUP, message_id, data)
    return await until(lambda: len(fake.calls_of("editMessageReplyMarkup")) > edits) - started


async def one_lead(
    fake: TelegramFake, service: Service, http: httpx.AsyncClient, index: int
) -> dict[str, float]:
    num = 1 + index
    event = lead_event(5_000 + num, num=num)
    await service.post_event(http, TOKEN, event)
    await until(lambda: card(fake, GROUP, num) is not None and card(fake, ADMIN, num) is not None)
    group = card(fake, GROUP, num)
    assert group is not None
    message_id = int(group["message_id"])  # type: ignore[call-overload]
    lead_id = next(int(m.group(1)) for d in data_of(group) if (m := LEAD_ID.match(d)))
    took: dict[str, float] = {}

    for page in ("more", "main"):
        took[page] = await redraw(fake, message_id, f"cp:{page}:{lead_id}")

    private = len(fake.chat(ADMIN))
    started = await tap(fake, GROUP, message_id, f"as:{lead_id}:{ADMIN}")
    took["assign"] = await until(lambda: len(fake.chat(ADMIN)) > private) - started
    await until(lambda: "Assigned to" in str((card(fake, GROUP, num) or {}).get("text")))
    await tap(fake, GROUP, message_id, f"la:rel:{lead_id}")
    await until(lambda: "Assigned to" not in str((card(fake, GROUP, num) or {}).get("text")))
    await asyncio.sleep(1.1)  # idle again, within the group's pace

    edits = len(fake.calls_of("editMessageText"))
    started = await tap(fake, GROUP, message_id, f"la:take:{lead_id}")
    took["take"] = await until(lambda: len(fake.calls_of("editMessageText")) > edits) - started
    await asyncio.sleep(1.1)
    return took


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def run(args: argparse.Namespace) -> None:
    fake = TelegramFake()
    samples: dict[str, list[float]] = {}
    async with (
        fake.running(),
        served_on_sqlite(
            LEADRELAY_WEBHOOK_TOKEN=TOKEN,
            **telegram_settings(fake, chats=(GROUP,), admins=(ADMIN,)),
            LEADRELAY_TELEGRAM_CHAT_PER_SECOND="50",
            LEADRELAY_TELEGRAM_GROUP_PER_MINUTE="6000",
            LEADRELAY_LOG_LEVEL="WARNING",
        ) as service,
        httpx.AsyncClient(timeout=30) as http,
    ):
        for index in range(args.leads):
            for name, seconds in (await one_lead(fake, service, http, index)).items():
                samples.setdefault(name, []).append(seconds)
    base = p(samples["take"], 0.99)
    for name, label in (
        ("take", "Take → card edited (baseline)"),
        ("more", "More… → keyboard edited"),
        ("main", "Back → keyboard edited"),
        ("assign", "Assign → card in the manager's private chat"),
    ):
        values = samples[name]
        print(
            f"{label}: p50 {statistics.median(values) * 1000:.1f} ms, "
            f"p99 {p(values, 0.99):.1f} ms, p99/Take p99 {p(values, 0.99) / base:.2f} "
            f"({len(values)} taps)"
        )


def main() -> None:
    asyncio.run(run(leads_parser(__doc__, leads=30).parse_args()))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
