"""The worker: claims due jobs in batches, runs their handlers concurrently, records outcomes.

The loop claims as many jobs as there are free slots, in one transaction; one task per job
runs its handler; a flusher records finished jobs in batches and, in the same transaction,
claims what they let through (a queue's next job). A heartbeat marks the worker alive every
few seconds (`jobs.heartbeats`) and renews the leases of jobs held; a reaper takes back
jobs whose worker stopped heartbeating (it died or hangs) or whose lease expired. The loop
sleeps until notified (`wakeup`, LISTEN/NOTIFY), until the next job is due, or at most
`poll_interval`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection

from jobs import heartbeats, metrics, signals, store
from jobs.listener import listen
from jobs.policy import MAX_POSTPONEMENTS, Backoff, Decision, Verdict, decide
from jobs.ratelimit import RateLimits, RateTable
from jobs.registry import HandlerRegistry, JobContext, OnDead, running
from jobs.signals import Wakeup
from jobs.store import ClaimedJob, ClaimResult, Finished
from storage.clock import utcnow
from storage.database import Database

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
T = TypeVar("T")

SQLITE_POLL_SECONDS = 0.5
# PostgreSQL workers are woken by NOTIFY; the poll only catches what no insert announced.
POSTGRES_POLL_SECONDS = 2.0
ERROR_PAUSE_SECONDS = 1.0
# A claimed job whose kind this worker stopped running: due again this much later, for
# whichever worker runs its kind.
NOT_RUN_HERE_SECONDS = 1.0


HOST = socket.gethostname()
# A payload not read yet (or that could not be).
_UNREAD: Any = object()


def default_worker_name() -> str:
    return f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """Runs the registry's kinds of job from `database` until `run`'s stop event is set.

    `concurrency` handlers at most run at once; `batch_size` caps one claim; `liveness` is
    how long (seconds) the worker may go without a heartbeat before others take its jobs;
    `lease` is how long a claimed job stays its own without a lease renewal, the backstop;
    `shutdown_timeout` is how long running jobs get to finish on stop; `rate_limits` the rate
    of each key a job spends (without: none is limited). `clock`, `rand` and
    `run_once` are for tests: with them, no test waits for real time.
    """

    def __init__(
        self,
        database: Database,
        registry: HandlerRegistry,
        *,
        concurrency: int = 32,
        batch_size: int = 100,
        lease: float = 60.0,
        liveness: float = heartbeats.LIVENESS.total_seconds(),
        poll_interval: float | None = None,
        shutdown_timeout: float = 20.0,
        rate_limits: RateLimits | None = None,
        backoff: Backoff | None = None,
        max_postponements: int = MAX_POSTPONEMENTS,
        clock: Clock = utcnow,
        rand: Callable[[], float] = random.random,
        name: str | None = None,
        wakeup: Wakeup | None = None,
        listen: bool = True,
    ) -> None:
        if concurrency < 1 or batch_size < 1 or lease <= 0 or liveness <= 0:
            raise ValueError("concurrency, batch_size, lease and liveness must be positive")
        self.database = database
        self.registry = registry
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.lease = timedelta(seconds=lease)
        self.liveness = timedelta(seconds=liveness)
        # Four beats per liveness timeout: a beat or two lost to a slow moment is no death.
        self.beat_interval = liveness / 4
        self.poll_interval = poll_interval or (
            SQLITE_POLL_SECONDS if database.is_sqlite else POSTGRES_POLL_SECONDS
        )
        self.shutdown_timeout = shutdown_timeout
        self.rate_limits = rate_limits if rate_limits is not None else RateTable()
        self.backoff = backoff or Backoff()
        self.max_postponements = max_postponements
        self.clock = clock
        self.rand = rand
        self.name = name or default_worker_name()
        self.wakeup = wakeup or Wakeup()
        self.listen = listen and not database.is_sqlite
        # Claimed and not yet recorded as finished: the leases this worker holds.
        self._held: dict[int, ClaimedJob] = {}
        # Handlers running now: the slots in use. A finished job frees its slot at once,
        # while its outcome waits for the next flush.
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._running = 0
        # Slots promised to a claim still in flight (the loop's and a flush's may overlap).
        self._claiming = 0
        # Wake the loop to claim when this many slots are free: claims stay batched.
        self._claim_threshold = max(1, concurrency // 4)
        self._finished: list[Finished] = []
        self._flush_wanted = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._stopping = False
        # When the loop will next look for work unless woken (time.monotonic()).
        self._wake_at = 0.0
        # Woken while a flush claimed into every free slot: that claim may have looked
        # before what woke the loop was committed, so the flush wakes the loop again.
        self._woken_while_claiming = False
        # The time the last heartbeat wrote (by `clock`, as others judge it); None before.
        self._beaten_at: datetime | None = None
        self._unregistered = False  # at shutdown: no heartbeat brings the row back

    def use_registry(self, registry: HandlerRegistry) -> None:
        """Claim and run `registry`'s kinds from now on (what a process can run changed,
        e.g. its bot came or went): the jobs running finish as they began; one claimed but
        not yet started whose kind is no longer run here is postponed, not failed."""
        self.registry = registry
        log.info(
            "job worker %s now runs the kinds: %s", self.name, ", ".join(sorted(registry.kinds))
        )
        self.wakeup.notify()

    # The loop

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set, then stop claiming, let running jobs finish within
        `shutdown_timeout`, record them, and hand back the leases of the rest."""
        signals.register(self.wakeup)
        helpers = [
            asyncio.create_task(self._wake_on(stop), name="jobs-stop"),
            asyncio.create_task(self._flusher(), name="jobs-flusher"),
            asyncio.create_task(self._heartbeat(), name="jobs-heartbeat"),
        ]
        if self.listen:
            helpers.append(
                asyncio.create_task(
                    listen(self.database.url, self.wakeup.notify), name="jobs-listen"
                )
            )
        log.info(
            "job worker %s started (kinds: %s)", self.name, ", ".join(sorted(self.registry.kinds))
        )
        self._stopping = False
        await self._guarded(self.beat())
        try:
            await self._loop(stop)
        finally:
            try:
                await self._shut_down()
            finally:
                for helper in helpers:
                    helper.cancel()
                await asyncio.gather(*helpers, return_exceptions=True)
                signals.unregister(self.wakeup)
            log.info("job worker %s stopped", self.name)

    async def _loop(self, stop: asyncio.Event) -> None:
        next_reap = 0.0
        while not stop.is_set():
            # Cleared before looking for work: a notification from here on is not lost.
            self.wakeup.clear()
            timeout = self.poll_interval
            if time.monotonic() >= next_reap:
                await self._guarded(self.reap())
                next_reap = time.monotonic() + self._reap_interval
            free = self._free_slots()
            if free <= 0 and self._claiming > 0:
                self._woken_while_claiming = True
            if free > 0:
                wanted = min(free, self.batch_size)
                result = await self._guarded(self._claim(wanted))
                if result is None:
                    timeout = ERROR_PAUSE_SECONDS
                else:
                    await self._start_claimed(result.jobs)
                    if len(result.jobs) == wanted and self._free_slots() > 0:
                        continue  # there may be more due right now
                    if result.next_due is not None:
                        due_in = (result.next_due - self.clock()).total_seconds()
                        timeout = min(timeout, max(due_in, 0.0))
            timeout = min(timeout, max(next_reap - time.monotonic(), 0.0))
            self._wake_at = time.monotonic() + timeout
            await self.wakeup.wait(timeout)

    @property
    def _reap_interval(self) -> float:
        return min(self.lease.total_seconds() / 2, self.beat_interval, 30.0)

    async def _guarded(self, work: Awaitable[T]) -> T | None:
        """A database step of the loop; its failure is logged and tried again later."""
        try:
            return await work
        except Exception:
            log.exception("job worker %s: a database step failed", self.name)
            return None

    # One step at a time (tests, tools): the same work as the loop, on the injected clock.

    async def run_once(self) -> int:
        """Take back expired leases, claim one batch of due jobs, run it, record it.

        Returns how many jobs ran.
        """
        await self.reap()
        result = await self._claim(self.batch_size)
        jobs = await self._keep_if_fresh(result.jobs)
        await asyncio.gather(*(self._execute(job) for job in self._adopt(jobs)))
        await self._flush()
        return len(result.jobs)

    async def run_until_idle(self, *, max_rounds: int = 10_000) -> int:
        """`run_once` until nothing is due by the injected clock; returns how many ran."""
        total = 0
        for _ in range(max_rounds):
            ran = await self.run_once()
            if ran == 0:
                return total
            total += ran
        raise RuntimeError(f"still busy after {max_rounds} rounds")

    # Steps

    async def reap(self) -> int:
        """Take back jobs whose worker stopped heartbeating or whose lease expired (their
        worker died or hangs); returns how many."""
        abandoned = await self.database.run_in_transaction(
            functools.partial(
                store.reap,
                now=self.clock(),
                max_attempts=self.registry.max_attempts_overrides(),
                running_here=list(self._held),
                liveness=self.liveness,
            )
        )
        for item in abandoned:
            log.warning(
                "job %s (%s) taken over from worker %s, which stopped heartbeating; %s",
                item.id,
                item.kind,
                item.worker,
                "dead: no attempts left" if item.dead else "running it again",
            )
            metrics.ATTEMPTS.labels(item.kind, store.AttemptOutcome.LOST).inc()
            metrics.FAILURES.labels(item.kind).inc()
        return len(abandoned)

    async def _claim(self, limit: int) -> ClaimResult:
        if not self._fresh():
            # Woken after a pause (or its clock moved on): beat first, in a transaction of
            # its own, so what it claims is not handed back for a stall that is over.
            await self.beat()
        self._claiming += limit
        try:
            return await self.database.run_in_transaction(self._claim_work(limit, self.clock()))
        finally:
            self._claiming -= limit

    def _fresh(self) -> bool:
        """Whether this worker's last heartbeat is recent enough that no other worker takes
        its jobs yet: half the liveness timeout, a margin for clocks and commits. (Claims do
        not write the heartbeat: on PostgreSQL, a flush holding job rows would then wait for
        the worker's row, held by a heartbeat waiting for those job rows.)"""
        if self._beaten_at is None:
            return True  # not registered: judged by its leases only, renewed in time
        return self.clock() - self._beaten_at < self.liveness / 2

    async def _keep_if_fresh(self, jobs: Sequence[ClaimedJob]) -> Sequence[ClaimedJob]:
        """The claimed jobs, unless this worker stalled since its last heartbeat (a claim
        that took seconds to commit, or one made on waking from a stall): then another may
        take them any moment, so they are handed back unstarted rather than run twice."""
        if not jobs or self._fresh():
            return jobs
        log.warning(
            "job worker %s stalled after claiming %s jobs; handing them back", self.name, len(jobs)
        )
        await self.database.run_in_transaction(
            functools.partial(
                store.release,
                jobs=jobs,
                worker=self.name,
                now=self.clock(),
                reason=store.STALLED,
            )
        )
        return []

    async def _start_claimed(self, jobs: Sequence[ClaimedJob]) -> None:
        for job in await self._keep_if_fresh(jobs):
            self._start(job)

    def _claim_work(self, limit: int, now: datetime) -> Callable[[Connection], ClaimResult]:
        return functools.partial(
            store.claim,
            now=now,
            worker=self.name,
            limit=limit,
            lease=self.lease,
            kinds=self.registry.kinds,
            limit_keys=self.registry.limit_keys,
            limits=self.rate_limits,
        )

    def _adopt(self, jobs: Sequence[ClaimedJob]) -> Sequence[ClaimedJob]:
        # A job held already is one taken from this worker while it stalled, and claimed
        # again: the newer attempt is the one held; the older one's outcome is dropped.
        for job in jobs:
            self._held[job.id] = job
        return jobs

    def _free_slots(self) -> int:
        # Outcomes waiting for a slow flush also hold slots, past twice the concurrency.
        backlog = max(0, len(self._held) - self._running - self.concurrency)
        return self.concurrency - self._running - self._claiming - backlog

    def _start(self, job: ClaimedJob) -> None:
        self._adopt([job])
        self._running += 1
        task = asyncio.create_task(self._run_in_slot(job), name=f"job-{job.id}")
        self._tasks[job.id] = task
        task.add_done_callback(lambda done: self._forget_task(job.id, done))

    def _forget_task(self, job_id: int, task: asyncio.Task[None]) -> None:
        if self._tasks.get(job_id) is task:  # not a newer attempt's
            del self._tasks[job_id]

    async def _run_in_slot(self, job: ClaimedJob) -> None:
        try:
            await self._execute(job)
        finally:
            self._running -= 1
            if self._free_slots() >= self._claim_threshold:
                self.wakeup.notify()

    async def _execute(self, job: ClaimedJob) -> None:
        if job.kind not in self.registry:  # its registry was swapped out since the claim
            self._finished.append(Finished(job, self._no_longer_run(job), self.clock()))
            self._flush_wanted.set()
            return
        registration = self.registry.get(job.kind)
        max_attempts = registration.max_attempts or job.max_attempts
        context = JobContext(
            job_id=job.id,
            kind=job.kind,
            attempt=job.attempt,
            max_attempts=max_attempts,
            queue=job.queue,
            dedupe_key=job.dedupe_key,
            enqueued_at=job.created_at,
            worker=self.name,
        )
        if job.attempt == 1 and job.postponements == 0:
            delay = (job.started_at - job.created_at).total_seconds()
            metrics.QUEUE_LATENCY.labels(job.kind).observe(max(delay, 0.0))
        began = time.perf_counter()
        error: Exception | None = None
        payload: Any = _UNREAD
        try:
            async with asyncio.timeout(registration.timeout):
                # Read once, as the kind's: one that cannot be read fails the attempt.
                payload = registration.kind.parse(job.payload)
                with running(context):
                    await registration.handler(payload)
        except Exception as exc:
            error = exc
        metrics.RUN_DURATION.labels(job.kind).observe(time.perf_counter() - began)
        now = self.clock()
        decision = decide(
            error,
            attempt=job.attempt,
            max_attempts=max_attempts,
            postponements=job.postponements,
            now=now,
            backoff=self.backoff,
            rand=self.rand(),
            max_postponements=self.max_postponements,
        )
        if error is not None:
            self._log_failure(job, decision)
            if decision.exhausted and registration.on_dead is not None:
                await self._tell_dead(job, registration.on_dead, payload, error)
        self._finished.append(Finished(job, decision, now))
        self._flush_wanted.set()

    def _no_longer_run(self, job: ClaimedJob) -> Decision:
        """A postponement: the job waits, unclaimed here, for a worker that runs its kind."""
        return Decision(
            Verdict.POSTPONE,
            self.clock() + timedelta(seconds=NOT_RUN_HERE_SECONDS),
            f"{job.kind} is no longer run by worker {self.name}",
        )

    async def _tell_dead(
        self, job: ClaimedJob, on_dead: OnDead[Any], payload: Any, error: Exception
    ) -> None:
        if payload is _UNREAD:
            log.error(
                "job %s (%s): its payload cannot be read, nor its on_dead told", job.id, job.kind
            )
            return
        try:
            await on_dead(payload, error)
        except Exception:
            log.exception("job %s (%s): its on_dead hook failed", job.id, job.kind)

    def _log_failure(self, job: ClaimedJob, decision: Decision) -> None:
        verdict = decision.verdict
        if verdict is Verdict.POSTPONE:
            log.info("job %s (%s) postponed: %s", job.id, job.kind, decision.error)
        elif verdict is Verdict.RETRY:
            log.warning(
                "job %s (%s) attempt %s failed, retrying at %s: %s",
                job.id,
                job.kind,
                job.attempt,
                decision.run_at,
                decision.error,
            )
        else:
            log.error("job %s (%s) is dead: %s", job.id, job.kind, decision.error)

    async def _flush(self, *, claim_more: bool = False) -> None:
        """Record every finished job, in one transaction; with `claim_more`, claim what is
        due into the free slots in that same transaction."""
        async with self._flush_lock:
            await self._flush_locked(claim_more=claim_more and not self._stopping)

    async def _flush_locked(self, *, claim_more: bool = False) -> None:
        batch, self._finished = self._finished, []
        superseded = [item for item in batch if not self._holds(item.job)]
        if superseded:
            log.warning(
                "jobs %s finished after they were taken over; not recorded",
                sorted(item.job.id for item in superseded),
            )
            batch = [item for item in batch if self._holds(item.job)]
        if not batch:
            return
        now = self.clock()
        record = functools.partial(store.finish, finished=batch, worker=self.name, now=now)
        # Recording a job may free its queue (a chat's next card): claiming right after, in
        # the same transaction, starts that card without another round trip.
        limit = min(self._free_slots(), self.batch_size) if claim_more else 0
        claim = self._claim_work(limit, now) if limit > 0 else None

        def work(connection: Connection) -> tuple[list[Finished], ClaimResult | None]:
            return record(connection), claim(connection) if claim is not None else None

        self._claiming += limit
        try:
            applied, claimed = await self.database.run_in_transaction(work)
        except BaseException:
            self._finished[:0] = batch  # kept for the next flush
            raise
        finally:
            self._claiming -= limit
        if len(applied) < len(batch):
            lost = sorted({item.job.id for item in batch} - {item.job.id for item in applied})
            log.warning("jobs %s finished after their lease was taken back; not recorded", lost)
        for item in batch:
            self._held.pop(item.job.id, None)
        # After the pops: a job retried at once may be among those just claimed.
        if claimed is not None and claimed.jobs:
            await self._start_claimed(claimed.jobs)
        self._after_flush(limit, claimed)
        for item in applied:
            outcome = store.ATTEMPT_OUTCOMES[item.decision.verdict]
            metrics.ATTEMPTS.labels(item.job.kind, outcome).inc()
            if item.decision.verdict in (Verdict.RETRY, Verdict.DEAD):
                metrics.FAILURES.labels(item.job.kind).inc()

    def _after_flush(self, limit: int, claimed: ClaimResult | None) -> None:
        """Wake the loop only if it has something to do sooner than it planned."""
        if self._woken_while_claiming or claimed is None or len(claimed.jobs) == limit:
            self._woken_while_claiming = False
            self.wakeup.notify()  # slots or queues moved on, and more may be due
        elif claimed.next_due is not None:
            due_in = (claimed.next_due - self.clock()).total_seconds()
            if time.monotonic() + due_in < self._wake_at:
                self.wakeup.notify()

    async def _flusher(self) -> None:
        while True:
            await self._flush_wanted.wait()
            self._flush_wanted.clear()
            try:
                await self._flush(claim_more=True)
            except Exception:
                log.exception("cannot record finished jobs; trying again")
                await asyncio.sleep(ERROR_PAUSE_SECONDS)
                self._flush_wanted.set()
                continue

    async def _heartbeat(self) -> None:
        renew_every = self.lease.total_seconds() / 3
        next_renewal = time.monotonic() + renew_every
        while True:
            await asyncio.sleep(min(self.beat_interval, renew_every))
            renew = time.monotonic() >= next_renewal
            try:
                await self.beat(renew_leases=renew)
            except Exception:
                log.exception("job worker %s: cannot write its heartbeat", self.name)
                continue
            if renew:
                next_renewal = time.monotonic() + renew_every

    async def beat(self, *, renew_leases: bool = False) -> None:
        """Mark this worker alive (registering it if need be); with `renew_leases`, also
        extend the leases of the jobs it holds, in the same transaction."""
        # Finished but not yet recorded counts too: its lease must outlive a slow flush.
        running = list(self._held) if renew_leases else []
        now = self.clock()

        def work(connection: Connection) -> set[int]:
            if not heartbeats.beat(connection, name=self.name, now=now) and not self._unregistered:
                heartbeats.register(connection, name=self.name, host=HOST, pid=os.getpid(), now=now)
            return store.renew(connection, running, worker=self.name, until=now + self.lease)

        held = await self.database.run_in_transaction(work)
        if self._beaten_at is not None and now - self._beaten_at > self.liveness:
            log.warning(
                "job worker %s went %.0f s without a heartbeat: others may have taken its jobs",
                self.name,
                (now - self._beaten_at).total_seconds(),
            )
        self._beaten_at = now
        # Ignore those recorded as finished meanwhile: they no longer need a lease.
        lost = [job_id for job_id in running if job_id not in held and job_id in self._held]
        if lost:
            log.warning("jobs %s were taken over: another worker may run them", lost)

    def _holds(self, job: ClaimedJob) -> bool:
        held = self._held.get(job.id)
        return held is not None and held.attempt == job.attempt

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._stopping = True
        self.wakeup.notify()

    async def _shut_down(self) -> None:
        self._stopping = True
        async with self._flush_lock:
            pass  # a flush that is claiming more jobs has started them by now
        tasks = list(self._tasks.values())
        if tasks:
            log.info("waiting up to %.0f s for %s running jobs", self.shutdown_timeout, len(tasks))
            _done, pending = await asyncio.wait(tasks, timeout=self.shutdown_timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        try:
            async with self._flush_lock:
                await self._flush_locked()
                unfinished = list(self._held.values())
                if unfinished:
                    released = await self.database.run_in_transaction(
                        functools.partial(
                            store.release, jobs=unfinished, worker=self.name, now=self.clock()
                        )
                    )
                    log.warning("handed back %s unfinished jobs", len(released))
                # Holding nothing, it leaves the live workers; otherwise its heartbeat
                # lapses and others take what it still holds.
                self._unregistered = True
                await self.database.run_in_transaction(
                    functools.partial(heartbeats.unregister, name=self.name)
                )
        except Exception:
            log.exception("cannot record the last jobs; others take them over when it is gone")
        self._held.clear()
