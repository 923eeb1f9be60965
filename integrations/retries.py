"""What callers of the clients pass in to shape their quick retries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

# The pause between a client's own quick retries: `asyncio.sleep`, or a simulated one in tests.
Sleep = Callable[[float], Awaitable[None]]
