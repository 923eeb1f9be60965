"""Reading pages: the overview, the leads with their filters and exports, one lead."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import StreamingResponse

from console.access import AdminSession, Console, ConsoleDep
from console.chart import bar_chart
from console.export import CSV, XLSX, ExportFile
from console.filters import LeadFilters, read_filters
from console.labels import Labels
from console.security import Session
from console.speed import (
    ROWS_SHOWN,
    SPEED_DAYS,
    csv_lines,
    figures_between,
    groups,
    lost_text,
    minutes,
    percent,
)
from domain.statuses import PayStatus
from storage.clock import utcnow
from storage.models import JobStatus, LeadBase
from storage.queries import browse, cards, overview, team
from storage.queries.jobs import oldest_due, queue_depth
from storage.queries.speed import SpeedFigures

router = APIRouter(prefix="/admin", include_in_schema=False)
PAGE_SIZE = 50
CHART_DAYS = 30
UNTAKEN_DAYS = 2  # today and yesterday, the overview's periods
MAX_ID = 2**63 - 1


def _labels(request: Request, console: Console) -> Labels:
    return Labels(console.renderer.gettext(request))


@dataclass
class SiteRow:
    site: str
    by_status: dict[int, int] = field(default_factory=dict)
    total: int = 0
    paid: int = 0
    unpaid: int = 0


@dataclass
class Period:
    title: str
    rows: list[SiteRow]


async def _period(console: Console, title: str, since: datetime, until: datetime) -> Period:
    async with console.database.read() as session:
        counts = await overview.leads_by_site_and_status(session, since=since, until=until)
        payments = await overview.payments_by_site(session, since=since, until=until)
    rows: dict[str, SiteRow] = {}
    for count in counts:
        row = rows.setdefault(count.site_key, SiteRow(count.site_key))
        row.by_status[count.status_code] = count.count
        row.total += count.count
    for payment in payments:
        row = rows.setdefault(payment.site_key, SiteRow(payment.site_key))
        if payment.pay_status_code == PayStatus.PAID:
            row.paid += payment.count
        else:
            row.unpaid += payment.count
    return Period(title, list(rows.values()))


def _day_start(day: date, console: Console) -> datetime:
    return datetime.combine(day, time(), console.renderer.zone)


@router.get("")
async def overview_page(request: Request, console: ConsoleDep, session: AdminSession) -> Response:
    labels = _labels(request, console)
    _ = labels.gettext
    now = utcnow()
    today = now.astimezone(console.renderer.zone).date()
    start_today = _day_start(today, console)
    start_yesterday = _day_start(today - timedelta(days=1), console)
    tomorrow = _day_start(today + timedelta(days=1), console)
    periods = [
        await _period(console, _("Today"), start_today, tomorrow),
        await _period(console, _("Yesterday"), start_yesterday, start_today),
    ]
    days = [today - timedelta(days=CHART_DAYS - 1 - n) for n in range(CHART_DAYS)]
    bounds = [_day_start(day, console) for day in days] + [tomorrow]
    async with console.database.read() as db:
        per_day = await console.past_days.counts(db, days=bounds, now=now)
        untaken = await overview.untaken_new_leads(
            db, since=_day_start(today - timedelta(days=UNTAKEN_DAYS - 1), console)
        )
        depth = await queue_depth(db, sqlite=console.database.dialect == "sqlite")
        oldest = await oldest_due(db, now=now)
        last_webhooks = [
            (site.display_name, await overview.last_webhook_at(db, site_key=site.key))
            for site in console.settings.effective_sites
        ]
    return console.renderer.page(
        request,
        "overview.html",
        session=session,
        periods=periods,
        statuses=labels.statuses(),
        chart=bar_chart(days, per_day),
        untaken=untaken,
        pending=sum(c.count for c in depth if c.status == JobStatus.PENDING.value),
        dead=sum(c.count for c in depth if c.status == JobStatus.DEAD.value),
        oldest_due=oldest,
        last_webhooks=last_webhooks,
        **await _speed(request, console, today),
    )


async def _speed_figures(console: Console, today: date) -> SpeedFigures:
    """The last `SPEED_DAYS` days' speed to lead, today included."""
    return await figures_between(
        console.database,
        console.settings,
        console.renderer.zone,
        since=_day_start(today - timedelta(days=SPEED_DAYS - 1), console),
        until=_day_start(today + timedelta(days=1), console),
    )


async def _speed(request: Request, console: Console, today: date) -> dict[str, Any]:
    """The overview's speed-to-lead tables."""
    figures = await _speed_figures(console, today)
    gettext = console.renderer.gettext(request)
    return {
        "speed_days": SPEED_DAYS,
        "speed_rows": ROWS_SHOWN,
        "speed_total": figures.total,
        "speed_groups": groups(figures, gettext) if figures.total.leads else [],
        "speed": {
            "minutes": minutes,
            "percent": percent,
            "lost": lambda row: lost_text(row, gettext),
        },
    }


@router.get("/speed.csv")
async def speed_csv(request: Request, console: ConsoleDep, _session: AdminSession) -> Response:
    """The overview's speed-to-lead tables as CSV."""
    figures = await _speed_figures(console, utcnow().astimezone(console.renderer.zone).date())
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    response = StreamingResponse(
        iter(list(csv_lines(figures, console.renderer.gettext(request)))),
        media_type=CSV.media_type,
        headers={"Content-Disposition": f'attachment; filename="speed-{stamp}.csv"'},
    )
    console.renderer.secure(response, request)
    return response


def _filters(request: Request, console: Console) -> LeadFilters:
    return read_filters(
        request.query_params,
        zone=console.renderer.zone,
        sites={site.key for site in console.settings.effective_sites},
        region=console.settings.default_region,
        gettext=console.renderer.gettext(request),
    )


@router.get("/leads")
async def leads_page(request: Request, console: ConsoleDep, session: AdminSession) -> Response:
    labels = _labels(request, console)
    filters = _filters(request, console)
    leads = []
    async with console.database.read() as db:
        managers = await team.list_managers(db)
        if not filters.problems:
            leads = await filters.leads(db, limit=PAGE_SIZE, before_id=filters.before_id)
    last_id = leads[-1].id if len(leads) == PAGE_SIZE else None
    return console.renderer.page(
        request,
        "leads.html",
        session=session,
        status_code=400 if filters.problems else 200,
        problem=" ".join(filters.problems),
        form=filters.form,
        leads=leads,
        sites=[(site.key, site.display_name) for site in console.settings.effective_sites],
        statuses=labels.statuses(),
        origins=labels.origins(),
        managers=managers,
        filter_query=filters.query(),
        next_query=filters.next_query(last_id) if last_id is not None else "",
        helpers=labels.functions(),
    )


def _export(request: Request, console: Console, session: Session, file: ExportFile) -> Response:
    """The filtered leads as a file to download, or a page saying why the filters are wrong."""
    filters = _filters(request, console)
    if filters.problems:
        _ = console.renderer.gettext(request)
        return console.renderer.message(
            request,
            session=session,
            status_code=400,
            heading=_("The export cannot run"),
            message=" ".join(filters.problems),
            back="/admin/leads",
        )
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    response = StreamingResponse(
        file.stream(console.database, filters, console.renderer.when),
        media_type=file.media_type,
        headers={"Content-Disposition": f'attachment; filename="leads-{stamp}.{file.suffix}"'},
    )
    console.renderer.secure(response, request)
    return response


@router.get("/leads/export.csv")
async def export_csv(request: Request, console: ConsoleDep, session: AdminSession) -> Response:
    return _export(request, console, session, CSV)


@router.get("/leads/export.xlsx")
async def export_xlsx(request: Request, console: ConsoleDep, session: AdminSession) -> Response:
    return _export(request, console, session, XLSX)


@router.get("/leads/{lead_id}")
async def lead_page(
    lead_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    request: Request,
    console: ConsoleDep,
    session: AdminSession,
) -> Response:
    labels = _labels(request, console)
    _ = labels.gettext
    async with console.database.read() as db:
        lead = await browse.get_lead_by_id(db, lead_id)
        if lead is None:
            return console.renderer.message(
                request,
                session=session,
                status_code=404,
                heading=_("No such lead"),
                message=_("There is no lead {id}.").format(id=lead_id),
                back="/admin/leads",
            )
        payments = await browse.payments_of(db, lead_id)
        events = await browse.inbox_of(db, lead_id)
        actions = await cards.history_of(db, lead_id)
        chats = await cards.cards_of(db, lead_id)
    fields = [(name, getattr(lead, name)) for name in LeadBase.model_fields]
    fields = [
        (name, console.renderer.when(value) if isinstance(value, datetime) else value)
        for name, value in fields
    ]
    return console.renderer.page(
        request,
        "lead.html",
        session=session,
        lead=lead,
        fields=fields,
        payments=payments,
        events=events,
        actions=actions,
        cards=chats,
        helpers=labels.functions(),
    )
