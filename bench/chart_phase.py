"""`bench/notify.py`'s chart phase: the roles apart, so the worker's memory is its own;
`/stats week` asked again and again (this week's leads are the tap phase's); the worker's
RSS before and after; and the time to draw a chart in this process, the first one
(matplotlib's import in it) and the next."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import psutil

from bench.tap_phase import ADMIN, TIMEOUT
from testkit.fakes.telegram import TelegramFake
from testkit.service import Service

MIB = 1024 * 1024
WARM_UP_CARDS = 3


async def _wait(check: object, what: str, timeout: float = TIMEOUT * 4) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def _rss(service: Service) -> float:
    assert service.process is not None
    return psutil.Process(service.process.pid).memory_info().rss / MIB


def draw_times(count: int) -> list[tuple[float, float]]:
    """(wall, CPU) seconds per chart of 30 days by 5 statuses, drawn here: the first imports
    matplotlib. CPU time is what the drawing costs, whatever else the machine runs."""
    from bot.charts import ChartText, draw_png
    from bot.stats import DaySeries

    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(30)]
    series = DaySeries(
        days=days,
        by_status={code: [(n * code) % 7 for n in range(30)] for code in (0, 1, 2, 10, 11)},
        paid=[Decimal(n * 1000) for n in range(30)],
    )
    text = ChartText("week", "Leads", "Paid", {0: "New", 1: "Processed", 2: "Fulfilled"})
    times = []
    for _ in range(count):
        started, cpu = time.perf_counter(), time.process_time()
        draw_png(series, text)
        times.append((time.perf_counter() - started, time.process_time() - cpu))
    return times


async def chart_phase(env: dict[str, str], workdir: Path, fake: TelegramFake, charts: int) -> None:
    bot = Service(env, workdir, "--role", "bot")
    worker = Service(env, workdir, "--role", "worker")
    try:
        await bot.start(serves_http=False)
        await worker.start(serves_http=False)
        # A worker that has done its usual work (cards) before the first chart.
        for num in range(WARM_UP_CARDS):
            sent = len(fake.sent)
            fake.message_update(ADMIN, f"/lead {num}")
            await _wait(lambda sent=sent: len(fake.sent) > sent, "a card")
        await asyncio.sleep(2.0)
        before = _rss(worker)
        after, waits = [], []
        for _ in range(charts):
            photos = len(fake.photos)
            started = time.monotonic()
            fake.message_update(ADMIN, "/stats week")
            await _wait(lambda photos=photos: len(fake.photos) > photos, "a chart")
            waits.append(fake.photos[-1]["at"] - started)
            await asyncio.sleep(1.0)
            after.append(_rss(worker))
    finally:
        await bot.stop()
        await worker.stop()
    size = len(fake.photos[-1]["data"]) // 1024 if fake.photos else 0
    print(
        f"chart: /stats→sendPhoto first {waits[0] * 1000:.0f} ms, then median "
        f"{statistics.median(waits[1:] or waits) * 1000:.0f} ms (worker polls SQLite every "
        f"0.5 s); PNG {size} KiB"
    )
    print(
        f"worker RSS: {before:.0f} MiB before any chart, {after[0]:.0f} MiB after the first, "
        f"{after[-1]:.0f} MiB after {charts}: growth {after[-1] - before:.0f} MiB (target < 80)"
    )
    times = draw_times(6)
    wall = statistics.median(t[0] for t in times[1:]) * 1000
    cpu = statistics.median(t[1] for t in times[1:]) * 1000
    print(
        f"chart drawn in this process: first {times[0][0] * 1000:.0f} ms wall, "
        f"{times[0][1] * 1000:.0f} ms CPU (matplotlib's import in it), then median {wall:.0f} ms "
        f"wall, {cpu:.0f} ms CPU (target < 500 ms); load average {_load()}"
    )
