"""Pages that act: the inbox and its re-process, jobs to retry or discard (the Sites page,
its checks and the team are in `routes_sites` and `routes_team`). Every change is a POST
with the session's CSRF token."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from console.access import AdminSession, ConsoleDep, Form
from console.filters import cursor, read_cursor
from console.labels import Labels
from console.notices import back, page
from console.reprocessing import SiteGone, StillUnreadable
from storage.models import InboxOutcome, JobStatus
from storage.queries import browse, inbox
from storage.queries import jobs as job_queries

router = APIRouter(prefix="/admin", include_in_schema=False)
MAX_ID = 2**63 - 1
PAGE_SIZE = 50
JOBS_SHOWN = 50
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
SHOWN_OUTCOMES = (InboxOutcome.REJECTED.value, InboxOutcome.IGNORED.value)


@router.get("/inbox")
async def inbox_page(request: Request, console: ConsoleDep, session: AdminSession) -> Response:
    _ = console.renderer.gettext(request)
    outcome = request.query_params.get("outcome", "")
    raw_cursor = request.query_params.get("cursor", "")
    before_id = read_cursor(raw_cursor[:64]) if raw_cursor else None
    problems = []
    if outcome and outcome not in SHOWN_OUTCOMES:
        problems.append(_("There is no outcome {value}.").format(value=outcome[:32]))
    if raw_cursor and before_id is None:
        problems.append(_("This page link is broken: start again from the first page."))
    events = []
    if not problems:
        async with console.database.read() as db:
            events = await browse.list_inbox(
                db,
                limit=PAGE_SIZE,
                before_id=before_id,
                outcome=outcome or None,
                outcomes=SHOWN_OUTCOMES,
            )
    next_query = ""
    if len(events) == PAGE_SIZE and events[-1].id is not None:
        next_query = f"outcome={outcome}&cursor={cursor(events[-1].id)}"
    return page(
        request,
        console,
        "inbox.html",
        session=session,
        status_code=400 if problems else 200,
        problem=" ".join(problems),
        events=events,
        outcome=outcome,
        next_query=next_query,
        helpers=Labels(_).functions(),
    )


@router.post("/inbox/{event_id}/reprocess")
async def reprocess(
    event_id: Id, request: Request, console: ConsoleDep, _session: AdminSession, _form: Form
) -> Response:
    _ = console.renderer.gettext(request)
    async with console.database.read() as db:
        kept = await browse.get_event(db, event_id)
    if kept is None or kept.outcome not in SHOWN_OUTCOMES:
        return back(request, console, "/admin/inbox", _("There is no such rejected event."))
    if kept.reprocessed_as is not None:
        return back(request, console, "/admin/inbox", _("This event was re-processed already."))
    try:
        stored = await console.reprocess(kept)
    except SiteGone:
        return back(
            request,
            console,
            "/admin/inbox",
            _("The site {site} is no longer configured.").format(site=kept.site_key or "?"),
        )
    except StillUnreadable as exc:
        return back(
            request,
            console,
            "/admin/inbox",
            _("Event #{id} still cannot be read: {reason}").format(id=event_id, reason=exc.reason),
        )
    async with console.database.write() as db:
        await inbox.mark_reprocessed(db, event_id=event_id, became=stored.event_id)
    if stored.outcome == InboxOutcome.DUPLICATE:
        message = _("Event #{id} was stored before: nothing new.").format(id=event_id)
    else:
        message = _("Event #{id} is stored now, as lead {lead}.").format(
            id=event_id, lead=stored.lead_id
        )
    return back(request, console, "/admin/inbox", message)


@router.get("/jobs")
async def jobs_page(request: Request, console: ConsoleDep, session: AdminSession) -> Response:
    async with console.database.read() as db:
        depth = await job_queries.queue_depth(db, sqlite=console.database.dialect == "sqlite")
        dead = await job_queries.list_jobs(db, status=JobStatus.DEAD.value, limit=JOBS_SHOWN)
        failing = await job_queries.list_failing(db, limit=JOBS_SHOWN)
        attempts = await job_queries.attempts_of(
            db, [job.id for job in dead + failing if job.id is not None]
        )
    kinds: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for count in depth:
        kinds[count.kind][count.status] += count.count
    rows = [
        {
            "kind": kind,
            "pending": counts[JobStatus.PENDING.value],
            "running": counts[JobStatus.RUNNING.value],
            "dead": counts[JobStatus.DEAD.value],
        }
        for kind, counts in sorted(kinds.items())
    ]
    return page(
        request,
        console,
        "jobs.html",
        session=session,
        kinds=rows,
        dead_jobs=dead,
        failing_jobs=failing,
        attempts=attempts,
    )


@router.post("/jobs/{job_id}/retry")
async def retry_job(
    job_id: Id, request: Request, console: ConsoleDep, _session: AdminSession, _form: Form
) -> Response:
    _ = console.renderer.gettext(request)
    async with console.database.write() as db:
        revived = await job_queries.retry_dead(db, job_id=job_id)
    message = _("Job #{id} is queued again.") if revived else _("There is no dead job #{id}.")
    return back(request, console, "/admin/jobs", message.format(id=job_id))


@router.post("/jobs/{job_id}/discard")
async def discard_job(
    job_id: Id, request: Request, console: ConsoleDep, _session: AdminSession, _form: Form
) -> Response:
    _ = console.renderer.gettext(request)
    async with console.database.write() as db:
        removed = await job_queries.discard_dead(db, job_id)
    message = _("Job #{id} is discarded.") if removed else _("There is no dead job #{id}.")
    return back(request, console, "/admin/jobs", message.format(id=job_id))


@router.post("/jobs/retry-kind")
async def retry_kind(
    request: Request, console: ConsoleDep, _session: AdminSession, form: Form
) -> Response:
    _ = console.renderer.gettext(request)
    kind = form.get("kind", "")[:64]
    async with console.database.write() as db:
        revived = await job_queries.retry_dead(db, kind=kind)
    message = _("{count} dead jobs of {kind} are queued again.")
    return back(request, console, "/admin/jobs", message.format(count=revived, kind=kind))


@router.post("/jobs/discard-kind")
async def discard_kind(
    request: Request, console: ConsoleDep, _session: AdminSession, form: Form
) -> Response:
    _ = console.renderer.gettext(request)
    kind = form.get("kind", "")[:64]
    async with console.database.write() as db:
        removed = await job_queries.discard_dead_of_kind(db, kind=kind)
    message = _("{count} dead jobs of {kind} are discarded.")
    return back(request, console, "/admin/jobs", message.format(count=removed, kind=kind))
