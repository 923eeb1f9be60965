"""Pages that act: the inbox and its re-process, jobs to retry or discard, sites, checks
and managers. Every change is a POST with the session's CSRF token."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from console.access import AdminSession, Console, ConsoleDep, Form
from console.filters import cursor, read_cursor
from console.labels import Labels
from console.reprocessing import SiteGone, StillUnreadable
from console.security import Session
from integrations.health import check_all
from storage.models import InboxOutcome, JobStatus
from storage.queries import browse, inbox, team
from storage.queries import jobs as job_queries

router = APIRouter(prefix="/admin", include_in_schema=False)
MAX_ID = 2**63 - 1
PAGE_SIZE = 50
JOBS_SHOWN = 50
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
SHOWN_OUTCOMES = (InboxOutcome.REJECTED.value, InboxOutcome.IGNORED.value)
NOTICE_COOKIE = "leadrelay_console_notice"


def _back(request: Request, console: Console, target: str, notice: str) -> Response:
    """After a change: back to the page, which says what was done (once, by a cookie)."""
    response = console.renderer.redirect(request, target)
    hexed = notice[:300].encode("utf-8").hex()
    console.renderer.set_cookie(response, request, NOTICE_COOKIE, hexed, max_age=60)
    return response


def notice_of(request: Request) -> str:
    try:
        return bytes.fromhex(request.cookies.get(NOTICE_COOKIE, "")[:600]).decode()
    except (ValueError, UnicodeDecodeError):
        return ""


def _page(
    request: Request, console: Console, template: str, *, session: Session, **context: Any
) -> Response:
    """A page of this module: it says what the last change did (`_back`'s notice), once."""
    response = console.renderer.page(
        request, template, session=session, notice=notice_of(request), **context
    )
    if NOTICE_COOKIE in request.cookies:
        response.delete_cookie(NOTICE_COOKIE, path="/admin")
    return response


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
    return _page(
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
        return _back(request, console, "/admin/inbox", _("There is no such rejected event."))
    if kept.reprocessed_as is not None:
        return _back(request, console, "/admin/inbox", _("This event was re-processed already."))
    try:
        stored = await console.reprocess(kept)
    except SiteGone:
        return _back(
            request,
            console,
            "/admin/inbox",
            _("The site {site} is no longer configured.").format(site=kept.site_key or "?"),
        )
    except StillUnreadable as exc:
        return _back(
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
    return _back(request, console, "/admin/inbox", message)


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
    return _page(
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
    return _back(request, console, "/admin/jobs", message.format(id=job_id))


@router.post("/jobs/{job_id}/discard")
async def discard_job(
    job_id: Id, request: Request, console: ConsoleDep, _session: AdminSession, _form: Form
) -> Response:
    _ = console.renderer.gettext(request)
    async with console.database.write() as db:
        removed = await job_queries.discard_dead(db, job_id)
    message = _("Job #{id} is discarded.") if removed else _("There is no dead job #{id}.")
    return _back(request, console, "/admin/jobs", message.format(id=job_id))


@router.post("/jobs/retry-kind")
async def retry_kind(
    request: Request, console: ConsoleDep, _session: AdminSession, form: Form
) -> Response:
    _ = console.renderer.gettext(request)
    kind = form.get("kind", "")[:64]
    async with console.database.write() as db:
        revived = await job_queries.retry_dead(db, kind=kind)
    message = _("{count} dead jobs of {kind} are queued again.")
    return _back(request, console, "/admin/jobs", message.format(count=revived, kind=kind))


@router.post("/jobs/discard-kind")
async def discard_kind(
    request: Request, console: ConsoleDep, _session: AdminSession, form: Form
) -> Response:
    _ = console.renderer.gettext(request)
    kind = form.get("kind", "")[:64]
    async with console.database.write() as db:
        removed = await job_queries.discard_dead_of_kind(db, kind=kind)
    message = _("{count} dead jobs of {kind} are discarded.")
    return _back(request, console, "/admin/jobs", message.format(count=removed, kind=kind))


def _telegram_state(console: Console, _: Callable[[str], str]) -> str:
    settings = console.settings
    if not settings.telegram_enabled:
        return _("Off: no LEADRELAY_TELEGRAM_BOT_TOKEN. Leads are still received and stored.")
    if settings.telegram_webhook_secret is not None:
        return _("On, by webhook: Telegram posts updates to this service.")
    return _("On, by polling: the bot asks Telegram for updates.")


async def _sites_page(
    request: Request,
    console: Console,
    session: AdminSession,
    *,
    revealed: tuple[str, str] | None = None,
    checks: list[object] | None = None,
) -> Response:
    _ = console.renderer.gettext(request)
    async with console.database.read() as db:
        managers = await team.list_managers(db)
    return _page(
        request,
        console,
        "sites.html",
        session=session,
        sites=console.settings.effective_sites,
        revealed=revealed,
        checks=checks or [],
        telegram=_telegram_state(console, _),
        managers=managers,
    )


@router.get("/sites")
async def sites_page(request: Request, console: ConsoleDep, session: AdminSession) -> Response:
    return await _sites_page(request, console, session)


@router.post("/sites/doctor")
async def run_checks(
    request: Request, console: ConsoleDep, session: AdminSession, _form: Form
) -> Response:
    checks: list[object] = list(await check_all(console.settings))
    return await _sites_page(request, console, session, checks=checks)


@router.post("/sites/{key}/webhook-url")
async def reveal_webhook_url(
    key: Annotated[str, Path(max_length=32)],
    request: Request,
    console: ConsoleDep,
    session: AdminSession,
    _form: Form,
) -> Response:
    """The one secret the console shows, to the admin who asked, in a page not cached."""
    _ = console.renderer.gettext(request)
    site = next((s for s in console.settings.effective_sites if s.key == key), None)
    if site is None:
        return _back(request, console, "/admin/sites", _("No such site."))
    url = f"{console.base_url(request)}/flexbe/{site.webhook_token.get_secret_value()}"
    return await _sites_page(request, console, session, revealed=(site.key, url))


@router.post("/managers/{telegram_id}/active")
async def switch_manager(
    telegram_id: Id, request: Request, console: ConsoleDep, _session: AdminSession, form: Form
) -> Response:
    _ = console.renderer.gettext(request)
    active = form.get("active") == "1"
    async with console.database.write() as db:
        changed = await team.set_active(db, telegram_id, active=active)
    if changed is None:
        message = _("No such manager (an admin cannot be disabled here).")
    else:
        message = _("Enabled.") if active else _("Disabled.")
    return _back(request, console, "/admin/sites", message)


@router.post("/managers/{telegram_id}/sites")
async def manager_sites(
    telegram_id: Id, request: Request, console: ConsoleDep, _session: AdminSession, form: Form
) -> Response:
    _ = console.renderer.gettext(request)
    known = {site.key for site in console.settings.effective_sites}
    chosen = [name.removeprefix("site:") for name in form if name.startswith("site:")]
    sites = [key for key in chosen if key in known]
    async with console.database.write() as db:
        changed = await team.set_sites(db, telegram_id, sites=sites)
    if changed is None:
        message = _("No such manager.")
    else:
        message = _("Sites saved: {sites}.").format(sites=", ".join(sites) or _("all"))
    return _back(request, console, "/admin/sites", message)
