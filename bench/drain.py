"""The drain: how long each chat's queued cards take to go out, one card at a time.

The kill tests' drain after their burst is bound by each chat's cards going out one after
the other (a queue per chat), so the cost of one card (claim, read, render, send, record,
finish) is the figure. This measures it on the real service:
  1. `leadrelay serve --role web` takes `--leads` webhooks, each a lead of its own client,
     with two chats configured: the card jobs wait, as no worker runs;
  2. `leadrelay serve --role worker` starts against the loopback Telegram fake and drains
     them; the fake notes when each card arrives. Per card = (last - first) / (cards - 1)
     in each chat, the slower chat counted (the worker's start-up is left out); also the
     worker's CPU time per card (its own process, all threads), which the load of the
     machine moves less;
  3. the baseline, in the same run: the same cards posted to the fake as bare
     `sendMessage` requests, one chat after the other at a time per chat, from this
     process (the floor: an HTTP round trip and the fake's own work).

With `--compare-with DIR` (another checkout of leadrelay, installed: `DIR/.venv`), that
version drains the same way on a database of its own, in turns with this one, and the
ratio old/new per card is printed (how many times faster a card goes out now).

    .venv/bin/python bench/drain.py [--leads 300] [--rounds 3] [--compare-with DIR]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.jobs import drop_postgres, fresh_postgres  # noqa: E402
from testkit.factories import new_client_lead_event  # noqa: E402
from testkit.fakes.telegram import DEFAULT_TOKEN, TelegramFake  # noqa: E402
from testkit.service import Service, kill_test_environment  # noqa: E402
from webhooks.forms import encode_form  # noqa: E402

TOKEN = "bench-drain-token-0123456789abcdef"
CHATS = (-100, 42)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
IN_FLIGHT = 16


@dataclass
class Tally:
    """One version's drains: ms per card (wall, slower chat) and worker CPU ms per card."""

    label: str
    leadrelay: str  # the executable
    per_card: list[float] = field(default_factory=list)
    cpu_per_card: list[float] = field(default_factory=list)

    def median(self) -> float:
        return statistics.median(self.per_card)

    def cpu_median(self) -> float:
        return statistics.median(self.cpu_per_card)


async def _drain(tally: Tally, telegram: TelegramFake, database_url: str, leads: int) -> None:
    telegram.reset()
    # As the kill tests run the service: the fake enforces no limits, the pace is far
    # above the load, and access lines are logged at INFO.
    env = kill_test_environment(
        database_url=database_url, token=TOKEN, telegram=telegram, chats=CHATS
    )
    with tempfile.TemporaryDirectory(prefix="leadrelay-bench-drain-") as folder:
        workdir = Path(folder)
        if database_url.startswith("sqlite"):
            env["LEADRELAY_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir}/drain.db"
        web = Service(env, workdir, "--role", "web", executable=tally.leadrelay)
        await web.migrate()
        await web.start(timeout=120)
        try:
            await _post(f"{web.url}/flexbe/{TOKEN}", leads)
        finally:
            await web.stop()
        worker = Service(env, workdir, "--role", "worker", executable=tally.leadrelay)
        await worker.start(serves_http=False)
        try:
            assert worker.process is not None
            process = psutil.Process(worker.process.pid)
            wanted = leads * len(CHATS)
            deadline = time.monotonic() + 60 + leads
            cpu_at_first: float | None = None
            while _cards(telegram) < wanted:
                if cpu_at_first is None and telegram.sent:
                    cpu_at_first = _cpu(process)
                assert time.monotonic() < deadline, f"{tally.label}: the cards never all came"
                await asyncio.sleep(0.05)
            cpu = _cpu(process) - (cpu_at_first or 0.0)
        finally:
            await worker.stop()
    per_chat = []
    for chat in CHATS:
        times = [message["at"] for message in telegram.chat(chat)]
        per_chat.append((max(times) - min(times)) / (len(times) - 1))
    tally.per_card.append(max(per_chat) * 1000)
    tally.cpu_per_card.append(cpu / wanted * 1000)


def _cards(telegram: TelegramFake) -> int:
    return len(telegram.sent)


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def _post(url: str, leads: int) -> None:
    slots = asyncio.Semaphore(IN_FLIGHT)
    async with httpx.AsyncClient(timeout=30) as http:

        async def one(lead_id: int) -> None:
            async with slots:
                response = await http.post(
                    url, content=encode_form(new_client_lead_event(lead_id)), headers=FORM
                )
            assert response.status_code == 200, response.text

        await asyncio.gather(*(one(lead_id) for lead_id in range(1, leads + 1)))


async def _bare(telegram: TelegramFake, cards: list[dict[str, Any]], leads: int) -> float:
    """ms per bare `sendMessage` of the same cards, each chat's one at a time."""
    telegram.reset()
    url = f"{telegram.base_url}/bot{DEFAULT_TOKEN}/sendMessage"
    async with httpx.AsyncClient(timeout=30) as http:

        async def chat(chat_id: int) -> None:
            for card in cards[:leads]:
                body = {
                    "chat_id": chat_id,
                    "text": card["text"],
                    "parse_mode": "HTML",
                    "reply_markup": card["reply_markup"],
                }
                response = await http.post(url, json=body)
                assert response.status_code == 200, response.text

        await asyncio.gather(*(chat(chat_id) for chat_id in CHATS))
    per_chat = []
    for chat_id in CHATS:
        times = [message["at"] for message in telegram.chat(chat_id)]
        per_chat.append((max(times) - min(times)) / (len(times) - 1))
    return float(max(per_chat) * 1000)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=300, help="leads, a card each per chat")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compare-with", type=Path, help="another checkout, installed")
    parser.add_argument("--database-url", help="a PostgreSQL server (else SQLite files)")
    args = parser.parse_args()
    tallies = [Tally("new", str(Path(sys.executable).with_name("leadrelay")))]
    if args.compare_with is not None:
        checkout = args.compare_with.resolve()
        tallies.append(Tally("old", str(checkout / ".venv" / "bin" / "leadrelay")))
    bare: list[float] = []
    async with TelegramFake().running() as telegram:
        for round_ in range(args.rounds):
            # Alternate which version goes first: the machine's speed drifts.
            order = tallies if round_ % 2 == 0 else tallies[::-1]
            for tally in order:
                url = "sqlite"
                if args.database_url:
                    url = await fresh_postgres(args.database_url)
                try:
                    await _drain(tally, telegram, url, args.leads)
                finally:
                    if args.database_url:
                        await drop_postgres(args.database_url)
                print(
                    f"round {round_ + 1}, {tally.label}: {tally.per_card[-1]:.1f} ms per card, "
                    f"worker CPU {tally.cpu_per_card[-1]:.1f} ms per card",
                    flush=True,
                )
                cards = telegram.chat(CHATS[0])
            bare.append(await _bare(telegram, cards, args.leads))
    floor = statistics.median(bare)
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\n{database}, {args.leads} cards per chat, {len(CHATS)} chats, {args.rounds} rounds:")
    print(f"  bare sendMessage to the fake: {floor:.1f} ms per card (the floor)")
    for tally in tallies:
        print(
            f"  {tally.label}: {tally.median():.1f} ms per card "
            f"({tally.median() / floor:.1f}× the floor; all: "
            f"{', '.join(f'{value:.1f}' for value in tally.per_card)}), worker CPU "
            f"{tally.cpu_median():.1f} ms per card"
        )
    if len(tallies) == 2:
        new, old = tallies
        print(
            f"  old/new per card: {old.median() / new.median():.2f}× faster; "
            f"worker CPU per card old/new: {old.cpu_median() / new.cpu_median():.2f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
