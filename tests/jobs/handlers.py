"""Handlers that more than one of the job engine's tests registers."""

from __future__ import annotations

from typing import Any

from jobs.registry import HandlerRegistry, current_job
from tests.jobs.conftest import TEST


def recording_attempts(ran: list[int]) -> HandlerRegistry:
    """A registry whose `TEST` handler appends the attempt it runs as to `ran`."""
    registry = HandlerRegistry()

    @registry.handler(TEST)
    async def handle(payload: dict[str, Any]) -> None:
        ran.append(current_job().attempt)

    return registry
