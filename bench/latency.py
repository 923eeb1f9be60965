"""What the latency benchmarks share: waiting for what a user would see, polled every
millisecond (the wait is what they measure), and the percentiles they print."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable


async def until(
    check: Callable[[], bool], *, timeout: float = 30.0, what: str = "the expected state"
) -> float:
    """Waits for `check`; the monotonic moment it held."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.001)
    return time.monotonic()


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return statistics.median(ordered) * 1000, p99 * 1000
