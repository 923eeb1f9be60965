"""Backfill speed and memory: `leadrelay sync` against a loopback Flexbe holding 10,000 and
100,000 leads, its 100 requests/minute limit enforced.

The baseline is the bound that limit sets: requests ÷ 100 per minute. Prints, per size,
the total time against 1.1 × that bound and the sync process's peak RSS; the two sizes'
RSS should be nearly the same.

    .venv/bin/python bench/backfill.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testkit.fakes.flexbe import FlexbeFake  # noqa: E402
from testkit.fakes.server import serve_app  # noqa: E402

OLD = 1_600_000_000


def bound_seconds(requests: int) -> float:
    """Requests ÷ 100 per minute: the time Flexbe's limit alone would take."""
    return 60.0 * requests / 100


async def one_run(size: int) -> dict[str, float]:
    fake = FlexbeFake()
    for lead_id in range(1, size + 1):
        fake.add_lead(lead_id, time=OLD + lead_id)
    with tempfile.TemporaryDirectory() as tmp:
        async with serve_app(fake.app) as base_url:
            env = {k: v for k, v in os.environ.items() if not k.startswith("LEADRELAY_")}
            env.update(
                LEADRELAY_DATABASE_URL=f"sqlite+aiosqlite:///{tmp}/backfill.db",
                LEADRELAY_WEBHOOK_TOKEN="bench-backfill-token-0123456789",
                LEADRELAY_FLEXBE_API_URL=f"{base_url}/mod/api/",
                LEADRELAY_FLEXBE_API_KEY=fake.api_key,
                LEADRELAY_LOG_LEVEL="WARNING",
            )
            leadrelay = str(Path(sys.executable).with_name("leadrelay"))
            migrate = await asyncio.create_subprocess_exec(
                leadrelay, "migrate", env=env, stdout=asyncio.subprocess.DEVNULL
            )
            await migrate.wait()
            started = time.monotonic()
            process = await asyncio.create_subprocess_exec(
                leadrelay,
                "sync",
                "--since",
                "20000d",
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
            peak = 0
            watched = psutil.Process(process.pid)
            while process.returncode is None:
                with contextlib.suppress(psutil.Error):
                    peak = max(peak, watched.memory_info().rss)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(process.wait(), 0.1)
            elapsed = time.monotonic() - started
            output = (await process.stdout.read()).decode() if process.stdout else ""
    requests = len(fake.calls("getLeads"))
    bound = bound_seconds(requests)
    print(
        f"{size:>7} leads: {elapsed:6.1f} s for {requests} requests (bound {bound:.1f} s, "
        f"limit {1.1 * bound:.1f} s, {'met' if elapsed <= max(1.1 * bound, 1e-9) else 'NOT met'}); "
        f"peak RSS {peak / 2**20:.0f} MiB; {output.strip()}"
    )
    return {"elapsed": elapsed, "bound": bound, "rss": peak / 2**20}


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    results = [await one_run(size) for size in args.sizes]
    if len(results) >= 2:
        small, large = results[0], results[-1]
        print(f"peak RSS ratio largest/smallest: {large['rss'] / small['rss']:.2f} (flat is 1.0)")


if __name__ == "__main__":
    asyncio.run(main())
