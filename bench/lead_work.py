"""Working on a lead: a reply with a note → `changeLead` at Flexbe → the card edited, against
the status button's tap → `changeLead` → card edited, measured in the same run.

The real service (`leadrelay serve`, SQLite, all roles, the bot polling) runs as a
subprocess, pointed at a loopback Telegram Bot API and a loopback Flexbe served by this
process. For each lead, one at a time (idle): an admin taps "Processed" on its card (the
baseline), then replies to the card with a note; each is timed from the update's arrival
at the fake to the card's edit that shows it done. Prints p50/p99 of both and the ratio of
the p99s (the note's path should cost about what a tap costs: target p99 < 1 s, ratio ≈ 1).
Telegram's pace is lifted in the service's settings: the figures are leadrelay's own.

    .venv/bin/python bench/lead_work.py [--leads 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.command_line import leads_parser  # noqa: E402
from bench.latency import percentiles, until  # noqa: E402
from testkit.factories import lead_event  # noqa: E402
from testkit.fakes.flexbe import FlexbeFake  # noqa: E402
from testkit.fakes.server import serve_app  # noqa: E402
from testkit.fakes.telegram import TelegramFake  # noqa: E402
from testkit.service import Service, served_on_sqlite, telegram_settings  # noqa: E402

TOKEN = "bench-lead-work-token-0123456789"
GROUP = -1001000
ADMIN = 11


def card(fake: TelegramFake, num: int) -> dict[str, Any] | None:
    needle = f"#{num}</b>"
    return next((m for m in fake.messages(GROUP) if needle in str(m["text"])), None)


async def run(args: argparse.Namespace) -> None:
    telegram, flexbe = TelegramFake(), FlexbeFake()
    async with (
        telegram.running(),
        serve_app(flexbe.app) as flexbe_url,
        served_on_sqlite(
            LEADRELAY_WEBHOOK_TOKEN=TOKEN,
            LEADRELAY_FLEXBE_API_URL=f"{flexbe_url}/mod/api/",
            LEADRELAY_FLEXBE_API_KEY=flexbe.api_key,
            **telegram_settings(telegram, chats=(GROUP,), admins=(ADMIN,)),
            LEADRELAY_LOG_LEVEL="WARNING",
            # The path's own cost: with Telegram's group pace (20 a minute) each of the
            # card's two edits ("in progress", "done") waits its turn instead.
            LEADRELAY_TELEGRAM_CHAT_PER_SECOND="1000",
            LEADRELAY_TELEGRAM_GROUP_PER_MINUTE="60000",
        ) as service,
    ):
        await measure(service, telegram, flexbe, args.leads)


async def measure(service: Service, telegram: TelegramFake, flexbe: FlexbeFake, n: int) -> None:
    taps: list[float] = []
    notes: list[float] = []
    async with httpx.AsyncClient() as http:
        for index in range(n):
            lead_id = 10_000 + index
            num = lead_id % 1000
            event = lead_event(lead_id)
            flexbe.leads[lead_id] = event["data"]
            await service.post_event(http, TOKEN, event)
            await until(lambda: card(telegram, num) is not None)  # noqa: B023
            shown = card(telegram, num)
            assert shown is not None
            processed = next(
                button["callback_data"]
                for row in shown["reply_markup"]["inline_keyboard"]
                for button in row
                if button["text"] == "Processed"
            )

            started = time.monotonic()
            telegram.callback_update(ADMIN, GROUP, shown["message_id"], processed)
            done = await until(
                lambda: "Processed: done" in str(card(telegram, num)["text"])  # type: ignore[index]  # noqa: B023
            )
            taps.append(done - started)

            started = time.monotonic()
            telegram.message_update(
                ADMIN, f"Заметка {index}", chat_id=GROUP, reply_to=shown["message_id"]
            )
            done = await until(
                lambda: "note: done" in str(card(telegram, num)["text"])  # type: ignore[index]  # noqa: B023
            )
            notes.append(done - started)
            await asyncio.sleep(0.5)  # idle between leads
    assert len(flexbe.calls("changeLead")) == 2 * n, "one change per tap and per note"
    tap50, tap99 = percentiles(taps)
    note50, note99 = percentiles(notes)
    print(f"status tap → changeLead → card edited: p50 {tap50:.0f} ms, p99 {tap99:.0f} ms")
    print(
        f"note reply → changeLead → card edited: p50 {note50:.0f} ms, p99 {note99:.0f} ms "
        f"(target p99 < 1000 ms)"
    )
    print(f"note p99 / tap p99 = {note99 / tap99:.2f} over {n} leads each")


def main() -> None:
    asyncio.run(run(leads_parser(__doc__, leads=30).parse_args()))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
