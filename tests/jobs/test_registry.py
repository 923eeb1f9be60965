"""The registry reads each payload once, as its kind's: the handler, its rate-limit keys and
its death hook get what the kind read; a payload the kind cannot read fails the attempt."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from jobs.registry import HandlerRegistry, JobContext, current_job
from storage.database import Database
from tests.jobs.conftest import (
    FakeClock,
    add_job,
    attempts_of,
    get_job,
    make_worker,
    run_to_the_end,
)


@dataclass(frozen=True, slots=True)
class Count:
    n: int


@dataclass(frozen=True, slots=True)
class CountKind:
    """A kind whose payload is `{"n": <int>}`, read as a `Count`."""

    name: str = "count"

    def parse(self, raw: Mapping[str, Any], /) -> Count:
        n = raw.get("n")
        if not isinstance(n, int):
            raise ValueError("no count")
        return Count(n)


COUNT = CountKind()


async def test_the_handler_its_limits_and_its_death_hook_get_the_payload_as_read(
    database: Database,
) -> None:
    clock = FakeClock()
    ran: list[tuple[Count, JobContext]] = []
    heard: list[Count] = []

    async def handle(count: Count) -> None:
        ran.append((count, current_job()))
        raise RuntimeError("again")

    async def on_dead(count: Count, error: BaseException) -> None:
        heard.append(count)

    registry = HandlerRegistry()
    registry.register(
        COUNT, handle, max_attempts=2, limits=lambda count: [f"k:{count.n}"], on_dead=on_dead
    )
    job_id = await add_job(database, COUNT.name, {"n": 3}, key="c", queue="q")

    await run_to_the_end(make_worker(database, registry, clock), clock, job_id, database)

    assert [count for count, _ in ran] == [Count(3), Count(3)]
    assert [(c.job_id, c.kind, c.attempt, c.queue) for _, c in ran] == [
        (job_id, "count", 1, "q"),
        (job_id, "count", 2, "q"),
    ]
    assert heard == [Count(3)]
    assert registry.limit_keys(COUNT.name, {"n": 3, "limits": ["extra"]}) == ["k:3", "extra"]


async def test_a_payload_its_kind_cannot_read_fails_the_attempt(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    ran: list[Count] = []
    heard: list[Any] = []

    async def handle(count: Count) -> None:
        ran.append(count)

    async def on_dead(count: Count, error: BaseException) -> None:
        heard.append(count)

    registry = HandlerRegistry()
    registry.register(
        COUNT, handle, max_attempts=2, limits=lambda count: [f"k:{count.n}"], on_dead=on_dead
    )
    job_id = await add_job(database, COUNT.name, {"n": "three", "limits": ["extra"]}, key="c")

    with caplog.at_level(logging.WARNING):
        # The rate-limit keys cannot be told either: only the payload's own list counts.
        assert registry.limit_keys(COUNT.name, {"n": "three", "limits": ["x"]}) == ["x"]
        await run_to_the_end(make_worker(database, registry, clock), clock, job_id, database)

    assert ran == [] and heard == []
    job = await get_job(database, job_id)
    assert (job.status, job.attempts, job.last_error) == ("dead", 2, "ValueError: no count")
    assert [a.outcome for a in await attempts_of(database, job_id)] == ["failed", "dead"]
    assert "its payload cannot be read, nor its on_dead told" in caplog.text


def test_current_job_is_known_only_inside_a_handler() -> None:
    with pytest.raises(LookupError):
        current_job()
