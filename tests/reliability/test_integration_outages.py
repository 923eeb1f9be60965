"""5CRM and Comunik8 go down: the buttons' jobs back off and succeed once the service is
back, with nothing done twice; a service that never comes back ends in a dead job, a
failure with Retry on the card and one message to each admin.

The whole stack runs (real bot against the Telegram fake, real worker, loopback 5CRM and
Comunik8 over HTTP) on a simulated clock: the worker's backoff and the clients' own quick
retries skip time instead of waiting, so "down for a minute" takes well under a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from jobs import signals
from jobs.policy import Backoff
from jobs.store import AttemptOutcome
from storage.clock import utcnow
from storage.database import Database
from storage.models import Job, JobAttempt, JobStatus
from testkit.fakes.server import DOWN
from testkit.logs import FORBIDDEN_IN_LOGS
from tests.e2e.conftest import Stack, buttons, card_of, card_text, eventually, more_of, open_stack
from tests.e2e.team import ADMIN, GROUP, MANAGER, RUSSIAN

OUTAGE_SECONDS = 60.0
# Attempts the buttons' jobs get (leadrelay.handlers): enough to ride out a minute.
MAX_ATTEMPTS = 6
# The worker's backoff without jitter (its `rand` is fixed at 0.5 here).
SCHEDULE = [Backoff().delay(attempt, 0.5) for attempt in range(1, MAX_ATTEMPTS)]
# Every request is sent once and retried twice by the client itself (integrations).
REQUESTS_PER_ATTEMPT = 3


class SimulatedClock:
    """Real time plus the seconds skipped. The worker reads it; the clients' `sleep`
    skips ahead on it instead of waiting; a test skips to when a job is next due."""

    def __init__(self) -> None:
        self.skipped = 0.0
        self.client_sleeps: list[float] = []

    def __call__(self) -> datetime:
        return utcnow() + timedelta(seconds=self.skipped)

    async def sleep(self, seconds: float) -> None:
        self.client_sleeps.append(seconds)
        self.skipped += seconds

    def skip_to(self, moment: datetime) -> None:
        gap = (moment - self()).total_seconds()
        if gap > 0:
            self.skipped += gap


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock()


@pytest.fixture
async def stack(database: Database, clock: SimulatedClock) -> AsyncIterator[Stack]:
    # A lease far longer than any skip: a job running while the clock jumps is not taken
    # back as abandoned (which would run it twice).
    async with open_stack(
        database,
        admins=(ADMIN, RUSSIAN),
        clock=clock,
        sleep=clock.sleep,
        rand=lambda: 0.5,
        lease=24 * 3600,
    ) as running:
        yield running


ON_MORE_PAGE = frozenset({"📇 5CRM deal", "✖️ Cancel call"})


async def tap(stack: Stack, button: str) -> None:
    """A manager taps a button of the lead's card in the group (opening "More…" first for
    the buttons kept there)."""
    if button in ON_MORE_PAGE:
        await eventually(lambda: card_of(stack.telegram, GROUP) is not None)
        card: dict[str, Any] | None = await more_of(stack, GROUP)
    else:
        await eventually(lambda: button in buttons(card_of(stack.telegram, GROUP) or {}))
        card = card_of(stack.telegram, GROUP)
    assert card is not None
    stack.telegram.callback_update(MANAGER, GROUP, card["message_id"], buttons(card)[button])


async def job_of(stack: Stack, kind: str) -> Job:
    async with stack.database.read() as session:
        jobs = list(await session.exec(select(Job).where(Job.kind == kind)))
    assert len(jobs) <= 1, f"one {kind} job per tap, found {len(jobs)}"
    if not jobs:
        raise LookupError(kind)
    return jobs[0]


async def attempts_of(stack: Stack, job_id: int) -> list[JobAttempt]:
    async with stack.database.read() as session:
        rows = await session.exec(
            select(JobAttempt)
            .where(JobAttempt.job_id == job_id)
            # A claim handed back unstarted when the clock jumps mid-claim is no attempt.
            .where(JobAttempt.outcome != AttemptOutcome.RELEASED)
            .order_by(col(JobAttempt.id))
        )
        return list(rows)


async def run_out(stack: Stack, clock: SimulatedClock, kind: str, *, attempts: int = 0) -> Job:
    """Skip the clock to each retry of the `kind` job until it is done or dead, with
    more than `attempts` attempts recorded (the ones before a Retry); returns it."""
    for _round in range(2 * MAX_ATTEMPTS + 2):
        job = await _settled(stack, kind)
        recorded = len(await attempts_of(stack, job.id or 0))
        if job.status in (JobStatus.DONE, JobStatus.DEAD) and recorded > attempts:
            return job
        clock.skip_to(job.run_at)
        signals.notify_enqueued()  # the worker looks at the queue again, on the new time
        await _attempted(stack, job.id or 0, more_than=recorded)
    raise AssertionError(f"the {kind} job neither succeeded nor died")


async def _attempted(stack: Stack, job_id: int, *, more_than: int) -> None:
    deadline = asyncio.get_running_loop().time() + 10
    while len(await attempts_of(stack, job_id)) <= more_than:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"job {job_id} was not attempted again in time")
        await asyncio.sleep(0.02)


async def _settled(stack: Stack, kind: str) -> Job:
    """The job once it is not running (waiting for its next attempt, done or dead)."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        try:
            job = await job_of(stack, kind)
        except LookupError:
            job = None
        if job is not None and job.status != JobStatus.RUNNING:
            return job
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the {kind} job did not settle in time")
        await asyncio.sleep(0.02)


def delays(attempts: list[JobAttempt]) -> list[float]:
    """Seconds (simulated) from the end of each attempt to the start of the next."""
    return [
        round((later.started_at - earlier.finished_at).total_seconds(), 2)
        for earlier, later in zip(attempts, attempts[1:], strict=False)
        if earlier.finished_at is not None
    ]


def assert_backoff_followed(attempts: list[JobAttempt]) -> None:
    waited = delays(attempts)
    assert waited == sorted(waited) and len(set(waited)) == len(waited), waited
    for seconds, expected in zip(waited, SCHEDULE, strict=False):
        # Skipped to exactly when the job was due; the few real milliseconds past it
        # are the worker noticing.
        assert expected <= seconds < expected + 1.0, (waited, SCHEDULE)


async def tapped_through(
    stack: Stack, clock: SimulatedClock, button: str, kind: str
) -> tuple[Job, list[JobAttempt]]:
    """Taps the button and runs the job it queued to its end: the job and its attempts."""
    await tap(stack, button)
    job = await run_out(stack, clock, kind)
    return job, await attempts_of(stack, job.id or 0)


async def lead_with_card(stack: Stack) -> None:
    await stack.new_card()


async def test_5crm_down_for_a_minute_deal_created_once(
    stack: Stack, clock: SimulatedClock
) -> None:
    await lead_with_card(stack)
    stack.crm5.outage.start(503, ends=lambda: clock.skipped >= OUTAGE_SECONDS)

    job, attempts = await tapped_through(stack, clock, "📇 5CRM deal", "crm5.deal")

    print(
        f"\n5CRM down {OUTAGE_SECONDS:.0f} s: {len(attempts)} attempts, "
        f"{stack.crm5.outage.refused} requests refused, delays {delays(attempts)} s, "
        f"client retry pauses {[round(s, 2) for s in clock.client_sleeps]} s, "
        f"deals created {len(stack.crm5.deals)}, simulated {clock.skipped:.1f} s"
    )
    assert job.status == JobStatus.DONE
    assert [a.outcome for a in attempts] == ["failed"] * (len(attempts) - 1) + ["done"]
    assert len(attempts) > 2, "the outage cost several attempts"
    assert all("HTTP 503" in (a.error or "") for a in attempts[:-1])
    assert_backoff_followed(attempts)
    assert stack.crm5.outage.refused == REQUESTS_PER_ATTEMPT * (len(attempts) - 1)
    assert len(stack.crm5.deals) == 1, "the deal is created exactly once"
    assert len(stack.crm5.calls("public/deal/add")) == stack.crm5.outage.refused + 1
    await eventually(lambda: "5CRM deal: done" in card_text(stack))
    assert "failed" not in card_text(stack)
    assert alerts(stack, ADMIN) == [], "a success bothers no admin"


async def test_comunik8_down_for_a_minute_call_queued_once_and_cancelled_once(
    stack: Stack, clock: SimulatedClock
) -> None:
    await lead_with_card(stack)
    # The connection breaks before an answer, as a host going down does.
    stack.comunik8.outage.start(DOWN, ends=lambda: clock.skipped >= OUTAGE_SECONDS)

    call, call_attempts = await tapped_through(stack, clock, "📞 Call now", "comunik8.call")
    refused_calls = stack.comunik8.outage.refused

    await eventually(lambda: "Call now: done" in card_text(stack))
    assert call.status == JobStatus.DONE
    assert all("cannot reach Comunik8" in (a.error or "") for a in call_attempts[:-1])
    assert_backoff_followed(call_attempts)
    assert len(stack.comunik8.scheduled) == 1, "the call is queued exactly once"
    assert len(stack.comunik8.leads) == 1

    ends_at = clock.skipped + OUTAGE_SECONDS
    stack.comunik8.outage.start(503, ends=lambda: clock.skipped >= ends_at)
    cancel, cancel_attempts = await tapped_through(stack, clock, "✖️ Cancel call", "comunik8.cancel")

    print(
        f"\nComunik8 down {OUTAGE_SECONDS:.0f} s twice: call in {len(call_attempts)} attempts "
        f"(delays {delays(call_attempts)} s, {refused_calls} connections dropped), "
        f"cancel in {len(cancel_attempts)} attempts (delays {delays(cancel_attempts)} s); "
        f"calls queued {len(stack.comunik8.leads)}, waiting now {len(stack.comunik8.scheduled)}"
    )
    assert len(call_attempts) > 2 and len(cancel_attempts) > 2
    assert cancel.status == JobStatus.DONE
    assert_backoff_followed(cancel_attempts)
    await eventually(lambda: "Max: cancel call: done" in card_text(stack))
    assert stack.comunik8.scheduled == {}, "the call was cancelled"
    answered = len(stack.comunik8.calls("lead/cancel")) - (
        stack.comunik8.outage.refused - refused_calls
    )
    assert answered == 1, "one cancel reached the dialler"
    assert len(stack.comunik8.leads) == 1, "nothing queued twice"


def alerts(stack: Stack, chat_id: int) -> list[str]:
    """The alerts in an admin's private chat (which also holds the leads' cards)."""
    texts = [str(message.get("text", "")) for message in stack.telegram.chat(chat_id)]
    return [text for text in texts if text.startswith("⚠️")]


def assert_no_secrets(text: str, stack: Stack) -> None:
    secrets = (
        *FORBIDDEN_IN_LOGS,
        stack.crm5.public_token,
        stack.crm5.secret_token,
        stack.comunik8.api_key,
        stack.flexbe.api_key,
        stack.telegram.token,
        "79991234567",
        "Иван Петров",
    )
    for secret in secrets:
        assert secret not in text, f"the alert shows {secret!r}"


async def test_5crm_never_back_dead_letter_and_one_alert_per_admin(
    stack: Stack, clock: SimulatedClock
) -> None:
    await lead_with_card(stack)
    stack.crm5.outage.start(500)  # and it never comes back

    job, attempts = await tapped_through(stack, clock, "📇 5CRM deal", "crm5.deal")

    assert job.status == JobStatus.DEAD
    assert len(attempts) == MAX_ATTEMPTS
    assert [a.outcome for a in attempts] == ["failed"] * (MAX_ATTEMPTS - 1) + ["dead"]
    assert all("HTTP 500" in (a.error or "") for a in attempts), "every attempt's error kept"
    assert_backoff_followed(attempts)
    assert stack.crm5.deals == []

    await eventually(lambda: "5CRM deal: failed" in card_text(stack))
    card = card_of(stack.telegram, GROUP)
    assert card is not None and "🔁 Retry" in buttons(card)
    assert "5CRM answered with an error (500)" in card_text(stack)

    await eventually(lambda: bool(alerts(stack, ADMIN)) and bool(alerts(stack, RUSSIAN)))
    await settle(stack, clock)
    [english] = alerts(stack, ADMIN)
    [russian] = alerts(stack, RUSSIAN)
    print(
        f"\n5CRM down for good: {len(attempts)} attempts, delays {delays(attempts)} s, "
        f"{stack.crm5.outage.refused} requests refused, deals created {len(stack.crm5.deals)}, "
        f"job {job.status}; alerts: {ADMIN}: 1, {RUSSIAN}: 1\n{english}\n{russian}"
    )
    assert "5CRM deal failed for lead #414" in english
    assert "(500)" in english and "5crm:http500" in english
    assert "/failed" in english and "leadrelay jobs" in english
    assert f"job #{job.id}" in english
    assert "Не удалось: Сделка в 5CRM, заявка #414" in russian and "/failed" in russian
    for text in (english, russian):
        assert_no_secrets(text, stack)
    sent = [m for m in stack.telegram.chat(ADMIN) if str(m.get("text", "")).startswith("⚠️")]
    assert [m["parse_mode"] for m in sent] == [None], "plain text: nothing from outside parsed"

    # Retry on the card: the same job runs again, dies again, and that is news again.
    await tap(stack, "🔁 Retry")
    again = await run_out(stack, clock, "crm5.deal", attempts=MAX_ATTEMPTS)
    assert again.status == JobStatus.DEAD
    await eventually(lambda: len(alerts(stack, ADMIN)) == 2 and len(alerts(stack, RUSSIAN)) == 2)
    await settle(stack, clock)
    assert len(alerts(stack, ADMIN)) == 2 and len(alerts(stack, RUSSIAN)) == 2


async def test_refused_key_dies_at_once_with_one_alert(stack: Stack, clock: SimulatedClock) -> None:
    await lead_with_card(stack)
    stack.crm5.outage.start((401, {"ans": "false", "error": "Invalid public_token"}))

    job, attempts = await tapped_through(stack, clock, "📇 5CRM deal", "crm5.deal")

    assert job.status == JobStatus.DEAD
    assert [a.outcome for a in attempts] == ["dead"], "no retry of what cannot succeed"
    assert stack.crm5.outage.refused == 1
    await eventually(lambda: "5CRM refused the key" in card_text(stack))
    await eventually(lambda: bool(alerts(stack, ADMIN)) and bool(alerts(stack, RUSSIAN)))
    await settle(stack, clock)
    [alert] = alerts(stack, ADMIN)
    print(f"\n5CRM refuses the key: {len(attempts)} attempt, alert:\n{alert}")
    assert "5CRM deal failed for lead #414" in alert and "refused the key" in alert
    assert len(alerts(stack, RUSSIAN)) == 1
    assert_no_secrets(alert, stack)


async def settle(stack: Stack, clock: SimulatedClock) -> None:
    """Let anything still queued run: skip a day, then wait for the queue to empty."""
    clock.skipped += 24 * 3600
    signals.notify_enqueued()

    async def idle() -> bool:
        async with stack.database.read() as session:
            busy = await session.exec(
                select(Job).where(col(Job.status).in_([JobStatus.PENDING, JobStatus.RUNNING]))
            )
            return busy.first() is None

    deadline = asyncio.get_running_loop().time() + 10
    while not await idle():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("jobs still queued")
        await asyncio.sleep(0.05)
