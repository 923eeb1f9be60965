"""The card's Retry revives a dead job exactly as `leadrelay jobs retry` does, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.database import Database
from storage.models import Action, ActionOutcome, Job, JobStatus
from storage.queries.cards import retry_failed_action, start_action
from storage.queries.jobs import retry_dead
from storage.queries.leads import LeadSnapshot
from tests.jobs.conftest import get_job
from tests.storage.test_leads import lead_row, prepare, put

LONG_AGO = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)


async def a_lead(database: Database, *, flexbe_id: int, num: int) -> int:
    """A new lead of site `okna`, as a sync stores it: its id."""
    await prepare(database)
    await put(database, LeadSnapshot(flexbe_id=flexbe_id, num=num, status_code=0))
    lead_id = (await lead_row(database, flexbe_id)).id
    assert lead_id is not None
    return lead_id


async def _dead_job(database: Database, key: str) -> int:
    """A job that was postponed by rate limits, then used up its attempts and died."""
    async with database.write() as session:
        job = Job(
            kind="flexbe.status",
            payload={},
            dedupe_key=key,
            status=JobStatus.DEAD.value,
            attempts=5,
            postponements=3,
            last_error="FlexbeError: code 0",
            run_at=LONG_AGO,
            finished_at=LONG_AGO,
        )
        session.add(job)
        await session.flush()
        assert job.id is not None
        return job.id


async def test_the_cards_retry_resets_a_dead_job_like_the_cli(database: Database) -> None:
    lead_id = await a_lead(database, flexbe_id=7, num=1)
    from_card = await _dead_job(database, "card")
    from_cli = await _dead_job(database, "cli")
    async with database.write() as session:
        action = await start_action(
            session, lead_id=lead_id, kind="status:1", actor_id=1, actor_name="M"
        )
        action.job_id, action.outcome = from_card, ActionOutcome.FAILED.value
        action.detail = "flexbe:auth"
        session.add(action)
    before = datetime.now(UTC) - timedelta(seconds=1)

    async with database.write() as session:
        retried = await retry_failed_action(session, lead_id=lead_id)
        assert await retry_dead(session, job_id=from_cli) == 1  # what the CLI runs

    assert retried is not None and retried.job_id == from_card
    card_job, cli_job = await get_job(database, from_card), await get_job(database, from_cli)
    for job in (card_job, cli_job):
        assert (job.status, job.attempts, job.postponements) == ("pending", 0, 0)
        assert job.finished_at is None
        assert job.run_at >= before, "due now, not at its old time"
    async with database.read() as session:
        stored = await session.get(Action, retried.id)
    assert stored is not None and (stored.outcome, stored.detail) == ("pending", "")


async def test_nothing_to_retry_when_the_job_is_not_dead(database: Database) -> None:
    lead_id = await a_lead(database, flexbe_id=8, num=2)
    job_id = await _dead_job(database, "running")
    async with database.write() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        job.status = JobStatus.RUNNING.value
        action = await start_action(
            session, lead_id=lead_id, kind="deal", actor_id=1, actor_name="M"
        )
        action.job_id, action.outcome = job_id, ActionOutcome.FAILED.value
        session.add_all([job, action])

    async with database.write() as session:
        assert await retry_failed_action(session, lead_id=lead_id) is None
        assert await retry_failed_action(session, lead_id=lead_id + 1000) is None

    assert (await get_job(database, job_id)).status == "running"
