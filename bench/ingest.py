"""Webhook intake throughput and latency, against a bare FastAPI endpoint served the same way.

Both apps run under uvicorn in a subprocess on loopback; the load comes from this process.
  1. sustained: a closed loop of CONCURRENCY clients for SECONDS → webhooks/s of each app;
  2. latency: an open loop offering RATE requests/s for SECONDS → p50/p99 of each app.
Prints the ratio real/bare, each server's CPU time per webhook (its own process, all
threads: a figure the load generator's share of the cores does not move much) and the
peak RSS of the real service.

    .venv/bin/python bench/ingest.py [--seconds 10] [--rate 200] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.factories import lead_event  # noqa: E402
from webhooks.forms import encode_form  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Served:
    """A server subprocess and its peak resident memory."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int) -> None:
        self.port = port
        self.process = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.peak_rss = 0

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.1)
        raise RuntimeError("server did not start")

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def sample_rss(self) -> None:
        try:
            rss = psutil.Process(self.process.pid).memory_info().rss
        except psutil.Error:
            return
        self.peak_rss = max(self.peak_rss, rss)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def bodies(start: int) -> Callable[[], str]:
    counter = iter(range(start, 10**9))
    return lambda: encode_form(lead_event(next(counter)))


async def closed_loop(
    url: str, make_body: Callable[[], str], seconds: float, clients: int
) -> tuple[float, int]:
    done = errors = 0
    stop_at = time.monotonic() + seconds
    async with aiohttp.ClientSession() as http:

        async def client() -> None:
            nonlocal done, errors
            while time.monotonic() < stop_at:
                async with http.post(url, data=make_body(), headers=FORM) as response:
                    await response.read()
                    if response.status == 200:
                        done += 1
                    else:
                        errors += 1

        started = time.monotonic()
        await asyncio.gather(*(client() for _ in range(clients)))
        return done / (time.monotonic() - started), errors


async def open_loop(
    url: str, make_body: Callable[[], str], seconds: float, rate: float
) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def one(body: str) -> None:
            nonlocal errors
            sent = time.perf_counter()
            async with http.post(url, data=body, headers=FORM) as response:
                await response.read()
                if response.status != 200:
                    errors += 1
            latencies.append(time.perf_counter() - sent)

        tasks = []
        start = time.perf_counter()
        for index in range(int(seconds * rate)):
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(make_body())))
        await asyncio.gather(*tasks)
    return latencies, errors


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def measure(
    name: str, served: Served, args: argparse.Namespace, start_id: int
) -> dict[str, float]:
    await served.wait_ready()
    url = f"http://127.0.0.1:{served.port}/flexbe/{TOKEN}"
    sampling = True

    async def sampler() -> None:
        while sampling:
            served.sample_rss()
            await asyncio.sleep(0.2)

    sampler_task = asyncio.create_task(sampler())
    try:
        await closed_loop(url, bodies(start_id), 1.0, args.concurrency)  # warm-up
        cpu_before, started = served.cpu_seconds(), time.monotonic()
        throughput, errors_a = await closed_loop(
            url, bodies(start_id + 10**6), args.seconds, args.concurrency
        )
        served_count = throughput * (time.monotonic() - started)
        cpu_ms = (served.cpu_seconds() - cpu_before) * 1000 / max(served_count, 1)
        latencies, errors_b = await open_loop(
            url, bodies(start_id + 2 * 10**6), args.seconds, args.rate
        )
    finally:
        sampling = False
        await sampler_task
    result = {
        "throughput": throughput,
        "cpu_ms": cpu_ms,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "errors": errors_a + errors_b,
        "peak_rss_mb": served.peak_rss / 2**20,
    }
    print(
        f"{name:>5}: {throughput:8.0f} webhooks/s sustained, {cpu_ms:.2f} ms server CPU each"
        f" | at {args.rate:.0f}/s offered: "
        f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms | "
        f"errors {result['errors']:.0f} | peak RSS {result['peak_rss_mb']:.0f} MiB"
    )
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env.update(
            LEADRELAY_DATABASE_URL=args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db",
            LEADRELAY_WEBHOOK_TOKEN=TOKEN,
            LEADRELAY_TELEGRAM_CHATS="-100111,-100222",
            LEADRELAY_LOG_LEVEL="WARNING",
        )
        env.pop("LEADRELAY_CONFIG", None)
        leadrelay = str(Path(sys.executable).with_name("leadrelay"))
        subprocess.run([leadrelay, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)

        print(f"database: {env['LEADRELAY_DATABASE_URL'].split('://')[0]}, {os.cpu_count()} cores")
        bare_port = free_port()
        bare = Served(
            # Served the same way: uvicorn picks the loop (uvloop) as the service does, and
            # at LEADRELAY_LOG_LEVEL=WARNING neither writes access lines.
            [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--port", str(bare_port)]
            + ["--log-level", "warning"],
            env,
            bare_port,
        )
        try:
            baseline = await measure("bare", bare, args, 1)
        finally:
            bare.stop()
        real_port = free_port()
        real = Served(
            [leadrelay, "serve", "--role", "web", "--port", str(real_port)], env, real_port
        )
        try:
            service = await measure("real", real, args, 10**8)
        finally:
            real.stop()

    ratio = service["throughput"] / baseline["throughput"]
    print(f"ratio real/bare sustained throughput: {ratio:.2f} (target >= 0.5)")
    print(f"ratio bare/real server CPU per webhook: {baseline['cpu_ms'] / service['cpu_ms']:.2f}")
    print(f"real p99 at {args.rate:.0f}/s offered: {service['p99_ms']:.1f} ms (target < 50 ms)")
    print(f"real peak RSS: {service['peak_rss_mb']:.0f} MiB")


if __name__ == "__main__":
    asyncio.run(main())
