"""Webhook to Telegram: card latency when idle, and a burst within Telegram's limits.

The real service (`leadrelay serve`, SQLite, all roles) runs as a subprocess, pointed at a
loopback Telegram Bot API and fed webhooks from this process.
  1. idle: one lead at a time to one chat; time from the webhook's POST to the card's
     `sendMessage` at the fake; p50/p99 (target p99 < 100 ms);
  2. tap: a manager taps "Processed" on a fresh card through the real bot (long polling
     the fake) while idle; time from the tap to Flexbe's `changeLead` and to the card's
     edit at the fake; p50/p99 (target p99 < 1 s);
  3. burst: 1,000 leads to 3 chats while the fake enforces per-chat and global limits
     that leadrelay is configured to keep to; counts 429s (target 0) and cards delivered
     (target all), and compares the total time with the bound those limits allow
     (target ≤ 1.2 × bound);
  4. chart: the roles apart (`--role bot`, `--role worker`), `/stats week` asked again and
     again; the worker's RSS before any chart and after them (target: growth < 80 MiB),
     the time from `/stats` to the chart's `sendPhoto`, and, in this process, the time to
     draw one: the first (matplotlib's import included) and the next (target < 500 ms).

    .venv/bin/python bench/notify.py [--leads 1000] [--chat-rate 20] [--global-rate 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.chart_phase import chart_phase  # noqa: E402
from bench.command_line import leads_parser  # noqa: E402
from bench.tap_phase import ADMIN, tap_latency  # noqa: E402
from testkit.factories import lead_event  # noqa: E402
from testkit.fakes.flexbe import FlexbeFake  # noqa: E402
from testkit.fakes.server import serve_app  # noqa: E402
from testkit.fakes.telegram import Limits, TelegramFake  # noqa: E402
from testkit.service import Service, service_environment  # noqa: E402

TOKEN = "bench-notify-token-0123456789"
CHATS = (101, 102, 103)


def cards_for(fake: TelegramFake, num: int) -> list[dict[str, object]]:
    needle = f"#{num}</b>"
    return [m for m in fake.sent if needle in str(m["text"])]


async def post(http: httpx.AsyncClient, service: Service, lead_id: int) -> None:
    await service.post_event(http, TOKEN, lead_event(lead_id))


async def run(args: argparse.Namespace) -> None:
    fake = TelegramFake(
        limits=Limits(
            chat_interval=1 / args.chat_rate,
            chat_burst=args.chat_rate,  # at most chat_rate in any second
            global_per_second=args.global_rate,
        )
    )
    flexbe = FlexbeFake(rate_limit=10_000)
    async with fake.running(), serve_app(flexbe.app) as flexbe.base_url:
        with tempfile.TemporaryDirectory() as tmp:
            env = service_environment(
                LEADRELAY_DATABASE_URL=f"sqlite+aiosqlite:///{tmp}/notify.db",
                LEADRELAY_WEBHOOK_TOKEN=TOKEN,
                LEADRELAY_TELEGRAM_BOT_TOKEN=fake.token,
                LEADRELAY_TELEGRAM_API_URL=fake.base_url,
                LEADRELAY_TELEGRAM_CHATS=str(CHATS[0]),
                # A little under the fake's limits, as one configures for real Telegram.
                LEADRELAY_TELEGRAM_CHAT_PER_SECOND=str(args.chat_rate - 1),
                LEADRELAY_TELEGRAM_PER_SECOND=str(args.global_rate - 2),
                LEADRELAY_LOG_LEVEL="WARNING",
                LEADRELAY_FLEXBE_API_URL=flexbe.api_url,
                LEADRELAY_FLEXBE_API_KEY=flexbe.api_key,
                LEADRELAY_FLEXBE_PER_MINUTE="6000",
                LEADRELAY_TELEGRAM_ADMINS=str(ADMIN),
            )
            service = Service(env, Path(tmp))
            await service.migrate()
            await service.start()
            try:
                await idle_latency(service, fake, args.idle)
                if args.taps:
                    await tap_latency(
                        service, fake, flexbe, token=TOKEN, samples=args.taps, chat=CHATS[0]
                    )
                await service.stop()
                env["LEADRELAY_TELEGRAM_CHATS"] = ",".join(str(c) for c in CHATS)
                service = Service(env, Path(tmp))
                await service.start()
                if args.leads:
                    await burst(service, fake, args)
                await service.stop()
                if args.charts:
                    await chart_phase(env, Path(tmp), fake, args.charts)
            finally:
                await service.stop()


async def idle_latency(service: Service, fake: TelegramFake, samples: int) -> None:
    latencies = []
    async with httpx.AsyncClient() as http:
        for index in range(samples):
            lead_id = 10_000 + index
            started = time.monotonic()
            await post(http, service, lead_id)
            while not cards_for(fake, lead_id % 1000):
                await asyncio.sleep(0.001)
            latencies.append(cards_for(fake, lead_id % 1000)[-1]["at"] - started)  # type: ignore[operator]
            fake.sent.clear()
            await asyncio.sleep(1.2)  # idle, and within the chat's pace
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000
    print(
        f"idle webhook→sendMessage: p50 {p50:.1f} ms, p99 {p99:.1f} ms "
        f"over {samples} leads (target p99 < 100 ms)"
    )


async def burst(service: Service, fake: TelegramFake, args: argparse.Namespace) -> None:
    fake.sent.clear()
    fake.retry_afters.clear()
    messages = args.leads * len(CHATS)
    bound = max(args.leads / args.chat_rate, messages / args.global_rate)
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as http:
        for first in range(0, args.leads, 50):
            await asyncio.gather(
                *(
                    post(http, service, 20_000 + i)
                    for i in range(first, min(first + 50, args.leads))
                )
            )
    deadline = started + bound * 3 + 60
    while len(fake.sent) < messages and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    elapsed = time.monotonic() - started
    delivered = len(fake.sent)
    print(
        f"burst: {args.leads} leads × {len(CHATS)} chats = {messages} cards; "
        f"delivered {delivered}; 429s {len(fake.retry_afters)}; "
        f"{elapsed:.1f} s against a bound of {bound:.1f} s "
        f"(ratio {elapsed / bound:.2f}, target ≤ 1.2)"
    )


def main() -> None:
    parser = leads_parser(__doc__, leads=1000)
    parser.add_argument("--idle", type=int, default=40, help="idle latency samples")
    parser.add_argument("--taps", type=int, default=40, help="tap latency samples (0: none)")
    parser.add_argument("--charts", type=int, default=5, help="charts asked for (0: none)")
    parser.add_argument("--chat-rate", type=int, default=20, help="the fake's messages/s per chat")
    parser.add_argument("--global-rate", type=int, default=60, help="the fake's messages/s in all")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
