"""Prometheus metrics of the job engine.

Counters and histograms count what this process's workers did; the gauges (queue depth,
age of the oldest due job) are read from the database at scrape time, so any process's
`/metrics` shows the whole queue.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from jobs import heartbeats
from storage.clock import utcnow
from storage.database import Database
from storage.queries.jobs import JobCount, oldest_due, prefer_indexes, queue_depth

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)

ATTEMPTS = Counter(
    "leadrelay_job_attempts",
    "Job attempts finished by this process, by kind and outcome.",
    ["kind", "outcome"],
)
FAILURES = Counter(
    "leadrelay_job_failures",
    "Job attempts that failed (retried, dead or lost), by kind.",
    ["kind"],
)
QUEUE_LATENCY = Histogram(
    "leadrelay_job_queue_latency_seconds",
    "From enqueue to the start of the job's first attempt.",
    ["kind"],
    buckets=_LATENCY_BUCKETS,
)
RUN_DURATION = Histogram(
    "leadrelay_job_run_seconds",
    "How long an attempt's handler ran.",
    ["kind"],
    buckets=_LATENCY_BUCKETS,
)


class _Snapshot(Collector):
    """Gauges read from the database, already fetched (collect() cannot await)."""

    def __init__(
        self, counts: list[JobCount], oldest: datetime | None, now: datetime, workers: int
    ) -> None:
        self._counts = counts
        self._oldest = oldest
        self._now = now
        self._workers = workers

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "leadrelay_jobs",
            "Jobs pending, running or dead, by kind and status (done ones: attempts_total).",
            labels=["kind", "status"],
        )
        for count in self._counts:
            depth.add_metric([count.kind, count.status], count.count)
        yield depth
        age = 0.0 if self._oldest is None else (self._now - self._oldest).total_seconds()
        yield GaugeMetricFamily(
            "leadrelay_job_oldest_due_age_seconds",
            "How long the oldest due pending job has waited; 0 when none is due.",
            value=max(0.0, age),
        )
        yield GaugeMetricFamily(
            "leadrelay_job_workers_live",
            "Worker processes whose heartbeat is fresh (within the liveness timeout).",
            value=self._workers,
        )


async def render_metrics(
    database: Database,
    *,
    registry: CollectorRegistry = REGISTRY,
    liveness: timedelta = heartbeats.LIVENESS,
) -> tuple[bytes, str]:
    """The `/metrics` body and its content type: `registry` (by default every metric of
    this process) followed by the job gauges read from the database now."""
    now = utcnow()
    async with database.read() as session:
        if not database.is_sqlite:
            await prefer_indexes(session)
        counts = await queue_depth(session, sqlite=database.is_sqlite)
        oldest = await oldest_due(session, now=now)
        workers = await heartbeats.count_live(session, now=now, liveness=liveness)
    snapshot = CollectorRegistry(auto_describe=False)
    snapshot.register(_Snapshot(counts, oldest, now, workers))
    return generate_latest(registry) + generate_latest(snapshot), CONTENT_TYPE_LATEST
