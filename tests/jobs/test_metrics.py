"""`/metrics`: the queue as the database holds it, and what this process's workers did."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from jobs.errors import PermanentFailure
from jobs.metrics import render_metrics
from jobs.registry import HandlerRegistry, RawKind
from storage.clock import utcnow
from storage.database import Database
from storage.queries.jobs import oldest_due_query, prefer_indexes, queue_depth_query
from tests.jobs.conftest import FakeClock, add_job, make_worker


def _samples(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def _counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_metrics_show_depth_by_state_and_the_oldest_due_job(database: Database) -> None:
    now = utcnow()
    registry = HandlerRegistry()

    @registry.handler(RawKind("metrics.test"))
    async def handle(payload: dict[str, Any]) -> None:
        if payload.get("fail"):
            raise PermanentFailure("no")

    await add_job(database, "metrics.test", key="ok", run_at=now)
    await add_job(database, "metrics.test", {"fail": True}, key="bad", run_at=now)
    await add_job(database, "metrics.other", key="waiting", run_at=now - timedelta(minutes=5))
    before = {
        "done": _counter("leadrelay_job_attempts_total", kind="metrics.test", outcome="done"),
        "failures": _counter("leadrelay_job_failures_total", kind="metrics.test"),
        "latency": _counter("leadrelay_job_queue_latency_seconds_count", kind="metrics.test"),
    }
    await make_worker(database, registry, FakeClock(now)).run_until_idle()

    body, content_type = await render_metrics(database)

    assert content_type.startswith("text/plain")
    samples = _samples(body)
    depth = "leadrelay_jobs"
    # Done jobs are history, counted by the attempts counter below, not by the gauge.
    assert (depth, (("kind", "metrics.test"), ("status", "done"))) not in samples
    assert samples[(depth, (("kind", "metrics.test"), ("status", "dead")))] == 1
    assert samples[(depth, (("kind", "metrics.other"), ("status", "pending")))] == 1
    oldest = samples[("leadrelay_job_oldest_due_age_seconds", ())]
    assert 300 <= oldest < 360
    assert (
        _counter("leadrelay_job_attempts_total", kind="metrics.test", outcome="done")
        == before["done"] + 1
    )
    assert _counter("leadrelay_job_failures_total", kind="metrics.test") == before["failures"] + 1
    assert (
        _counter("leadrelay_job_queue_latency_seconds_count", kind="metrics.test")
        == before["latency"] + 2
    )


async def test_nothing_due_means_an_oldest_age_of_zero(database: Database) -> None:
    await add_job(database, key="later", run_at=utcnow() + timedelta(hours=1))

    samples = _samples((await render_metrics(database))[0])

    assert samples[("leadrelay_job_oldest_due_age_seconds", ())] == 0


def _sql(statement: Any, dialect: Any) -> str:
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


async def test_metrics_read_indexes_and_never_the_done_jobs(database: Database) -> None:
    # A scrape must cost the same with a million done jobs as with none: the depth is
    # counted on the partial index of live and dead jobs, the oldest due job is one seek.
    depth = queue_depth_query(sqlite=database.is_sqlite)
    oldest = oldest_due_query(now=utcnow())
    if database.is_sqlite:
        plans = [await _sqlite_plan(database, statement) for statement in (depth, oldest)]

        assert plans == [
            ["SCAN job USING COVERING INDEX ix_job_counted_kind"],
            ["SEARCH job USING COVERING INDEX ix_job_due (status=? AND run_at<?)"],
        ]
        return
    # PostgreSQL picks plans from statistics: an empty table is read whole, which is
    # cheapest, and a connection keeps that plan as the table grows. The scrape tells it
    # to prefer indexes, and then the plan shows the index serves it.
    depth_plan, oldest_plan = [await _postgres_plan(database, s) for s in (depth, oldest)]

    assert "ix_job_counted_kind" in depth_plan, depth_plan
    assert "ix_job_due" in oldest_plan, oldest_plan
    assert "Seq Scan" not in depth_plan + oldest_plan


async def _sqlite_plan(database: Database, statement: Any) -> list[str]:
    async with database.reader.connect() as connection:
        sql = _sql(statement, connection.dialect)
        return [
            str(row[-1]) for row in await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
        ]


async def _postgres_plan(database: Database, statement: Any) -> str:
    async with database.read() as session:
        await prefer_indexes(session)  # as the scrape does
        connection = await session.connection()
        sql = _sql(statement, connection.dialect)
        return "\n".join(str(row[0]) for row in await connection.exec_driver_sql(f"EXPLAIN {sql}"))
