"""`leadrelay jobs`: list, show, retry and discard, against a real database."""

from __future__ import annotations

import asyncio

import pytest
import typer
from typer.testing import CliRunner

from jobs.cli import build_app
from storage.database import Database
from storage.models import Job, JobAttempt
from tests.jobs.conftest import START

runner = CliRunner()


@pytest.fixture
def url(database_url: str) -> str:
    return database_url


@pytest.fixture
def app(url: str) -> typer.Typer:
    """The commands on the test's database, as the caller's CLI gives it."""
    return build_app(lambda: url)


def _seed(url: str) -> dict[str, int]:
    """A done job, a pending one and a dead one with two failed attempts."""

    async def seed() -> dict[str, int]:
        database = Database(url)
        try:
            async with database.write() as session:
                ids = {}
                for name, status in (("done", "done"), ("pending", "pending"), ("dead", "dead")):
                    job = Job(
                        kind="notify" if name != "dead" else "flexbe.change",
                        payload={"lead_id": 7},
                        dedupe_key=name,
                        status=status,
                        attempts=2 if name == "dead" else 0,
                        max_attempts=2,
                        run_at=START,
                        last_error="FlexbeError: code 0" if name == "dead" else None,
                    )
                    session.add(job)
                    await session.flush()
                    assert job.id is not None
                    ids[name] = job.id
                for attempt, error in ((1, "timeout"), (2, "FlexbeError: code 0")):
                    outcome = "failed" if attempt == 1 else "dead"
                    session.add(
                        JobAttempt(
                            job_id=ids["dead"],
                            attempt=attempt,
                            worker="w1",
                            outcome=outcome,
                            error=error,
                        )
                    )
                return ids
        finally:
            await database.dispose()

    return asyncio.run(seed())


def _job(url: str, job_id: int) -> Job | None:
    async def get() -> Job | None:
        database = Database(url)
        try:
            async with database.read() as session:
                return await session.get(Job, job_id)
        finally:
            await database.dispose()

    return asyncio.run(get())


def test_list_counts_by_state_and_filters(url: str, app: typer.Typer) -> None:
    ids = _seed(url)

    everything = runner.invoke(app, ["list"])
    dead = runner.invoke(app, ["list", "--status", "dead"])

    assert everything.exit_code == 0, everything.output
    assert "pending: 1  running: 0  done: 1  dead: 1" in everything.output
    assert len(everything.output.splitlines()) == 2 + 3
    assert dead.exit_code == 0
    (row,) = dead.output.splitlines()[2:]
    assert row.split()[:3] == [str(ids["dead"]), "dead", "2/2"]
    assert "FlexbeError: code 0" in row


def test_show_gives_every_attempt_and_its_error(url: str, app: typer.Typer) -> None:
    ids = _seed(url)

    result = runner.invoke(app, ["show", str(ids["dead"])])

    assert result.exit_code == 0, result.output
    assert "attempts (2):" in result.output
    assert "timeout" in result.output
    assert '{"lead_id": 7}' in result.output
    assert runner.invoke(app, ["show", "999999"]).exit_code == 1


def test_retry_revives_a_dead_job_only(url: str, app: typer.Typer) -> None:
    ids = _seed(url)

    refused = runner.invoke(app, ["retry", str(ids["pending"])])
    result = runner.invoke(app, ["retry", str(ids["dead"])])

    assert refused.exit_code == 1
    assert result.exit_code == 0, result.output
    job = _job(url, ids["dead"])
    assert job is not None
    assert (job.status, job.attempts, job.finished_at) == ("pending", 0, None)


def test_retry_all_dead(url: str, app: typer.Typer) -> None:
    ids = _seed(url)

    result = runner.invoke(app, ["retry", "--all-dead"])

    assert result.exit_code == 0, result.output
    assert "1 job(s) will run again." in result.output
    job = _job(url, ids["dead"])
    assert job is not None and job.status == "pending"
    assert runner.invoke(app, ["retry"]).exit_code == 2


def test_discard_deletes_a_dead_job_only(url: str, app: typer.Typer) -> None:
    ids = _seed(url)

    assert runner.invoke(app, ["discard", str(ids["done"])]).exit_code == 1
    result = runner.invoke(app, ["discard", str(ids["dead"])])

    assert result.exit_code == 0, result.output
    assert _job(url, ids["dead"]) is None
    assert _job(url, ids["done"]) is not None
