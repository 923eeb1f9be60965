"""`jobs`: see what the queue holds, why a job failed, and retry or discard the dead.

`build_app` makes the commands for the caller's CLI (`leadrelay jobs`), which says where the
database is.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, TypeVar

import typer

from jobs.signals import publish
from storage.database import Database
from storage.models import Job, JobAttempt, JobStatus
from storage.queries import jobs as queries

T = TypeVar("T")


def build_app(database_url: Callable[[], str]) -> typer.Typer:
    """The commands, on the database `database_url()` names: asked when one runs, so that
    the caller reads its configuration (and refuses a wrong one) only then."""
    app = typer.Typer(
        name="jobs",
        help="Inspect the job queue; retry or discard dead jobs.",
        no_args_is_help=True,
        add_completion=False,
    )

    @app.callback()
    def connect(context: typer.Context) -> None:
        context.obj = database_url

    app.command("list")(list_jobs)
    for command in (show, retry, discard):
        app.command()(command)
    return app


def _with_database(context: typer.Context, work: Callable[[Database], Awaitable[T]]) -> T:
    database_url: Callable[[], str] = context.obj
    url = database_url()

    async def main() -> T:
        database = Database(url)
        try:
            return await work(database)
        finally:
            await database.dispose()

    return asyncio.run(main())


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}"


def _line(job: Job) -> str:
    error = (job.last_error or "").splitlines()[0][:60] if job.last_error else ""
    return (
        f"{job.id:>8}  {job.status:<7}  {job.attempts:>2}/{job.max_attempts:<2}  "
        f"{_when(job.run_at)}  {job.kind:<16}  {job.queue or '-':<20}  {error}"
    ).rstrip()


def list_jobs(
    context: typer.Context,
    status: Annotated[JobStatus | None, typer.Option(help="Only jobs in this state.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only jobs of this kind.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.", min=1)] = 50,
) -> None:
    """List jobs, newest first, after a count of every job by state."""

    async def work(database: Database) -> tuple[list[queries.JobCount], list[Job]]:
        async with database.read() as session:
            counts = await queries.count_jobs(session)
            jobs = await queries.list_jobs(
                session, status=status.value if status else None, kind=kind, limit=limit
            )
        return counts, jobs

    counts, jobs = _with_database(context, work)
    totals = {state.value: 0 for state in JobStatus}
    for count in counts:
        totals[count.status] = totals.get(count.status, 0) + count.count
    typer.echo("  ".join(f"{state}: {number}" for state, number in totals.items()))
    if not jobs:
        typer.echo("No jobs match.")
        return
    typer.echo(
        f"{'id':>8}  {'status':<7}  {'tries':<5}  {'run at (UTC)':<19}  {'kind':<16}  "
        f"{'queue':<20}  last error"
    )
    for job in jobs:
        typer.echo(_line(job))


def show(
    context: typer.Context, job_id: Annotated[int, typer.Argument(help="The job's id.")]
) -> None:
    """Show a job, its payload and every attempt with its error."""

    async def work(database: Database) -> tuple[Job | None, list[JobAttempt]]:
        async with database.read() as session:
            job = await session.get(Job, job_id)
            attempts = await queries.job_attempts(session, job_id) if job else []
        return job, attempts

    job, attempts = _with_database(context, work)
    if job is None:
        typer.secho(f"No job {job_id}.", fg="red", err=True)
        raise typer.Exit(1)
    fields = [
        ("kind", job.kind),
        ("status", job.status),
        ("dedupe key", job.dedupe_key),
        ("queue", job.queue or "-"),
        ("attempts", f"{job.attempts} of {job.max_attempts}"),
        ("postponed", str(job.postponements)),
        ("run at", _when(job.run_at)),
        ("created", _when(job.created_at)),
        ("finished", _when(job.finished_at)),
        ("locked by", job.locked_by or "-"),
        ("lease until", _when(job.lease_until)),
        ("last error", job.last_error or "-"),
        ("payload", json.dumps(job.payload, ensure_ascii=False, sort_keys=True)),
    ]
    typer.echo(f"job {job.id}")
    for name, value in fields:
        typer.echo(f"  {name + ':':<13}{value}")
    typer.echo(f"attempts ({len(attempts)}):")
    for attempt in attempts:
        typer.echo(
            f"  #{attempt.attempt:<3} {attempt.outcome:<9} {_when(attempt.started_at)}"
            f" → {_when(attempt.finished_at)}  {attempt.worker}"
        )
        if attempt.error:
            typer.echo(f"       {attempt.error}")


def retry(
    context: typer.Context,
    job_id: Annotated[int | None, typer.Argument(help="The dead job to retry.")] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="Retry every dead job.")] = False,
) -> None:
    """Give a dead job (or every dead job) a fresh set of attempts, due now."""
    if (job_id is None) == (not all_dead):
        typer.secho("Give a job id or --all-dead (not both).", fg="red", err=True)
        raise typer.Exit(2)

    async def work(database: Database) -> int:
        async with database.write() as session:
            revived = await queries.retry_dead(session, job_id=job_id)
        if revived:
            await publish(database)
        return revived

    revived = _with_database(context, work)
    if job_id is not None and not revived:
        typer.secho(f"Job {job_id} is not dead (or does not exist).", fg="red", err=True)
        raise typer.Exit(1)
    typer.echo(f"{revived} job(s) will run again.")


def discard(
    context: typer.Context, job_id: Annotated[int, typer.Argument(help="The dead job to delete.")]
) -> None:
    """Delete a dead job and its attempts, for good."""

    async def work(database: Database) -> bool:
        async with database.write() as session:
            return await queries.discard_dead(session, job_id)

    if not _with_database(context, work):
        typer.secho(f"Job {job_id} is not dead (or does not exist).", fg="red", err=True)
        raise typer.Exit(1)
    typer.echo(f"Job {job_id} discarded.")
