"""Webhook intake throughput and latency, against a bare FastAPI endpoint served the same way.

Both apps run under uvicorn in a subprocess on loopback, side by side; the load comes
from this process.
  1. sustained: a closed loop of CONCURRENCY clients, SECONDS per app in ROUNDS turns that
     alternate between the apps (and alternate which goes first), so that both figures
     span the same minutes of a machine whose speed drifts → webhooks/s of each app;
  2. latency: an open loop offering RATE requests/s for SECONDS → p50/p99 of each app.
Prints the ratio real/bare, each server's CPU time per webhook (its own process, all
threads: a figure the load generator's share of the cores does not move much) and the
peak RSS of the real service.

With `--compare-with DIR` (another checkout of leadrelay, installed: `DIR/.venv`), that
version is served too, on a database of its own, and takes its turns with the others: a
change is measured against the code before it in the same minutes, and the ratio
new/old printed.

    .venv/bin/python bench/ingest.py [--seconds 10] [--rounds 5] [--rate 200] [--concurrency 32]
        [--compare-with DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.server_process import ServerProcess  # noqa: E402
from testkit.factories import lead_event  # noqa: E402
from testkit.service import free_port  # noqa: E402
from webhooks.forms import encode_form  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Served(ServerProcess):
    """A server subprocess and its peak resident memory."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int, cwd: Path = ROOT) -> None:
        super().__init__(argv, port=port, cwd=cwd, env=env, name="server")
        self.peak_rss = 0

    async def wait_listening(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self.check_running()
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


def bodies(start: int) -> Callable[[], str]:
    counter = iter(range(start, 10**9))
    return lambda: encode_form(lead_event(next(counter)))


async def closed_loop(
    url: str, make_body: Callable[[], str], seconds: float, clients: int
) -> tuple[int, int, float]:
    """Answers 200, other answers, and the seconds it ran."""
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
        return done, errors, time.monotonic() - started


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


@dataclass
class Tally:
    """One server's share of the sustained rounds, and its latency run."""

    name: str
    served: Served
    make_body: Callable[[], str]
    done: int = 0
    errors: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.served.port}/flexbe/{TOKEN}"

    @property
    def throughput(self) -> float:
        return self.done / self.seconds

    @property
    def cpu_ms(self) -> float:
        return self.cpu_seconds * 1000 / max(self.done, 1)

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


async def sustained(tallies: list[Tally], args: argparse.Namespace) -> None:
    """Closed loops taking turns, in alternating order: the machine's speed drifts over
    seconds, and each server's figure then spans the same stretch of it."""
    for tally in tallies:
        await closed_loop(tally.url, tally.make_body, 1.0, args.concurrency)  # warm-up
    for turn in range(args.rounds):
        for tally in tallies if turn % 2 == 0 else tallies[::-1]:
            cpu_before = tally.served.cpu_seconds()
            done, errors, seconds = await closed_loop(
                tally.url, tally.make_body, args.seconds / args.rounds, args.concurrency
            )
            tally.cpu_seconds += tally.served.cpu_seconds() - cpu_before
            tally.done += done
            tally.errors += errors
            tally.seconds += seconds


async def latency(tally: Tally, args: argparse.Namespace) -> None:
    tally.latencies, errors = await open_loop(tally.url, tally.make_body, args.seconds, args.rate)
    tally.errors += errors


def report(tally: Tally, args: argparse.Namespace) -> None:
    print(
        f"{tally.name:>5}: {tally.throughput:8.0f} webhooks/s sustained, "
        f"{tally.cpu_ms:.2f} ms server CPU each | at {args.rate:.0f}/s offered: "
        f"p50 {tally.percentile_ms(0.5):.1f} ms, p99 {tally.percentile_ms(0.99):.1f} ms | "
        f"errors {tally.errors} | peak RSS {tally.served.peak_rss / 2**20:.0f} MiB"
    )


async def sample_rss(servers: list[Served], stop: asyncio.Event) -> None:
    while not stop.is_set():
        for served in servers:
            served.sample_rss()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.2)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="per server and phase")
    parser.add_argument("--rounds", type=int, default=5, help="turns the closed loops take")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument(
        "--compare-with",
        type=Path,
        default=None,
        metavar="DIR",
        help="another installed checkout, served too (SQLite only): prints new/old",
    )
    args = parser.parse_args()
    if args.compare_with is not None and args.database_url is not None:
        parser.error("--compare-with serves each version on a SQLite file of its own")

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
        bare_port, real_port = free_port(), free_port()
        bare = Served(
            # Served the same way: uvicorn picks the loop (uvloop) as the service does, and
            # at LEADRELAY_LOG_LEVEL=WARNING neither writes access lines.
            [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--port", str(bare_port)]
            + ["--log-level", "warning"],
            env,
            bare_port,
        )
        real = Served(
            [leadrelay, "serve", "--role", "web", "--port", str(real_port)], env, real_port
        )
        baseline, service = Tally("bare", bare, bodies(1)), Tally("real", real, bodies(10**8))
        tallies = [baseline, service]
        if args.compare_with is not None:
            tallies.append(Tally("old", _older(args.compare_with, env, tmp), bodies(2 * 10**8)))
        servers = [tally.served for tally in tallies]
        stop_sampling = asyncio.Event()
        sampler = asyncio.create_task(sample_rss(servers, stop_sampling))
        try:
            for served in servers:
                await served.wait_listening()
            await sustained(tallies, args)
            for tally in tallies:
                await latency(tally, args)
        finally:
            stop_sampling.set()
            await sampler
            for served in servers:
                served.stop(grace=10)
    for tally in tallies:
        report(tally, args)
    if len(tallies) == 3:
        older = tallies[2]
        print(
            f"ratio new/old sustained throughput: {service.throughput / older.throughput:.2f}; "
            f"old real/bare: {older.throughput / baseline.throughput:.2f}; "
            f"CPU per webhook new/old: {service.cpu_ms / older.cpu_ms:.2f}"
        )

    ratio = service.throughput / baseline.throughput
    print(f"ratio real/bare sustained throughput: {ratio:.2f} (target >= 0.5)")
    print(f"ratio bare/real server CPU per webhook: {baseline.cpu_ms / service.cpu_ms:.2f}")
    p99 = service.percentile_ms(0.99)
    print(f"real p99 at {args.rate:.0f}/s offered: {p99:.1f} ms (target < 50 ms)")
    print(f"real peak RSS: {service.served.peak_rss / 2**20:.0f} MiB")


def _older(checkout: Path, env: dict[str, str], tmp: str) -> Served:
    """The other version, migrated and served from its own checkout and SQLite file."""
    checkout = checkout.resolve()
    leadrelay = str(checkout / ".venv" / "bin" / "leadrelay")
    env = {**env, "LEADRELAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/old.db"}
    subprocess.run([leadrelay, "migrate"], env=env, cwd=checkout, check=True, capture_output=True)
    port = free_port()
    return Served([leadrelay, "serve", "--role", "web", "--port", str(port)], env, port, checkout)


if __name__ == "__main__":
    asyncio.run(main())
