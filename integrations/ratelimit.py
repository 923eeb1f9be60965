"""In-process rate limiting: at most `limit` calls in any `window` seconds."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol


class Limiter(Protocol):
    async def acquire(self) -> None:
        """Wait until one more call is allowed, and count it."""


class SlidingWindowLimiter:
    """Waits (never fails) until a call fits; the clock and sleep are injectable for tests."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._calls: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                while self._calls and self._calls[0] <= now - self.window:
                    self._calls.popleft()
                if len(self._calls) < self.limit:
                    self._calls.append(now)
                    return
                await self._sleep(self._calls[0] + self.window - now)


_shared: dict[str, SlidingWindowLimiter] = {}


def shared_limiter(key: str, *, limit: int, window: float) -> SlidingWindowLimiter:
    """One limiter per key (e.g. a Flexbe site's API URL) for the whole process."""
    limiter = _shared.get(key)
    if limiter is None:
        limiter = _shared[key] = SlidingWindowLimiter(limit, window)
    return limiter
