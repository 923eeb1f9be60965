"""Outcomes through the database: retries on schedule, postponements, dead-lettering."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from integrations.errors import APIStatusError
from jobs.errors import PermanentFailure, RetryLater
from jobs.registry import HandlerRegistry, current_job
from storage.database import Database
from tests.jobs.conftest import (
    START,
    TEST,
    FakeClock,
    add_job,
    attempts_of,
    get_job,
    make_worker,
    run_to_the_end,
)


class Script:
    """A handler that plays back a list of outcomes: None succeeds, an exception is raised."""

    def __init__(self, clock: FakeClock, *outcomes: BaseException | None) -> None:
        self.clock = clock
        self.outcomes = list(outcomes)
        self.calls: list[tuple[float, int]] = []  # (seconds since START, attempt)

    async def __call__(self, payload: dict[str, Any]) -> None:
        self.calls.append(((self.clock() - START).total_seconds(), current_job().attempt))
        outcome = self.outcomes.pop(0)
        if outcome is not None:
            raise outcome


async def test_failures_are_retried_on_the_backoff_schedule_then_dead(database: Database) -> None:
    clock = FakeClock()
    script = Script(clock, *[RuntimeError(f"boom {n}") for n in range(1, 6)])
    registry = HandlerRegistry()
    registry.register(TEST, script)
    job_id = await add_job(database, key="k", max_attempts=5)

    await run_to_the_end(make_worker(database, registry, clock), clock, job_id, database)

    # Backoff 1, 2, 4, 8 s between attempts (base 1, factor 2, no jitter).
    assert script.calls == [(0, 1), (1, 2), (3, 3), (7, 4), (15, 5)]
    job = await get_job(database, job_id)
    assert (job.status, job.attempts, job.last_error) == ("dead", 5, "RuntimeError: boom 5")
    assert job.finished_at == START + timedelta(seconds=15)
    attempts = await attempts_of(database, job_id)
    assert [(a.attempt, a.outcome, a.error) for a in attempts] == [
        (1, "failed", "RuntimeError: boom 1"),
        (2, "failed", "RuntimeError: boom 2"),
        (3, "failed", "RuntimeError: boom 3"),
        (4, "failed", "RuntimeError: boom 4"),
        (5, "dead", "RuntimeError: boom 5"),
    ]


async def test_a_job_is_not_run_before_its_retry_is_due(database: Database) -> None:
    clock = FakeClock()
    script = Script(clock, RuntimeError("boom"), None)
    registry = HandlerRegistry()
    registry.register(TEST, script)
    job_id = await add_job(database, key="k")
    worker = make_worker(database, registry, clock)

    assert await worker.run_until_idle() == 1
    clock.advance(0.999)
    assert await worker.run_until_idle() == 0
    clock.advance(0.001)
    assert await worker.run_until_idle() == 1
    assert (await get_job(database, job_id)).status == "done"


async def test_retry_after_is_honoured_without_using_attempts(database: Database) -> None:
    clock = FakeClock()
    rate_limited = APIStatusError("429", status_code=429, body="", retry_after=30.0)
    script = Script(clock, rate_limited, RetryLater(5.0, "chat busy"), None)
    registry = HandlerRegistry()
    registry.register(TEST, script)
    job_id = await add_job(database, key="k", max_attempts=1)

    await run_to_the_end(make_worker(database, registry, clock), clock, job_id, database)

    assert script.calls == [(0, 1), (30, 1), (35, 1)]
    job = await get_job(database, job_id)
    assert (job.status, job.attempts, job.postponements) == ("done", 1, 2)
    outcomes = [(a.outcome, a.error) for a in await attempts_of(database, job_id)]
    assert outcomes == [
        ("postponed", "APIStatusError: 429"),
        ("postponed", "RetryLater: chat busy"),
        ("done", None),
    ]


async def test_a_permanent_failure_is_dead_at_once(database: Database) -> None:
    clock = FakeClock()
    dead_calls: list[Any] = []

    async def on_dead(payload: dict[str, Any], error: BaseException) -> None:
        dead_calls.append(error)

    registry = HandlerRegistry()
    registry.register(
        TEST,
        Script(clock, PermanentFailure("lead 7 is gone")),
        on_dead=on_dead,
    )
    job_id = await add_job(database, key="k")

    await make_worker(database, registry, clock).run_until_idle()

    job = await get_job(database, job_id)
    assert (job.status, job.attempts, job.last_error) == (
        "dead",
        1,
        "PermanentFailure: lead 7 is gone",
    )
    assert dead_calls == []  # the handler said so itself: no "retries used up" hook


async def test_a_non_retryable_integration_error_is_dead_at_once(database: Database) -> None:
    clock = FakeClock()
    registry = HandlerRegistry()
    registry.register(TEST, Script(clock, APIStatusError("400", status_code=400, body="")))
    job_id = await add_job(database, key="k")

    await make_worker(database, registry, clock).run_until_idle()

    assert (await get_job(database, job_id)).status == "dead"


async def test_on_dead_hears_once_when_attempts_run_out(database: Database) -> None:
    clock = FakeClock()
    heard: list[tuple[dict[str, Any], str]] = []

    async def on_dead(payload: dict[str, Any], error: BaseException) -> None:
        heard.append((payload, str(error)))

    registry = HandlerRegistry()
    registry.register(
        TEST,
        Script(clock, RuntimeError("one"), RuntimeError("two")),
        max_attempts=2,  # the kind's limit overrides the row's 8
        on_dead=on_dead,
    )
    job_id = await add_job(database, payload={"lead_id": 7}, key="k")

    await run_to_the_end(make_worker(database, registry, clock), clock, job_id, database)

    assert heard == [({"lead_id": 7}, "two")]
    assert (await get_job(database, job_id)).status == "dead"


async def test_a_handler_over_its_timeout_is_a_failed_attempt(database: Database) -> None:
    clock = FakeClock()

    async def hangs(payload: dict[str, Any]) -> None:
        await asyncio.Event().wait()

    registry = HandlerRegistry()
    registry.register(TEST, hangs, timeout=0.001)
    job_id = await add_job(database, key="k")

    await make_worker(database, registry, clock).run_until_idle()

    job = await get_job(database, job_id)
    assert (job.status, job.attempts, job.last_error) == ("pending", 1, "TimeoutError")


async def test_only_registered_kinds_are_claimed(database: Database) -> None:
    clock = FakeClock()
    registry = HandlerRegistry()
    registry.register(TEST, Script(clock, None))
    other = await add_job(database, "other", key="other")
    mine = await add_job(database, "test", key="mine")

    assert await make_worker(database, registry, clock).run_until_idle() == 1

    assert (await get_job(database, mine)).status == "done"
    assert (await get_job(database, other)).status == "pending"
