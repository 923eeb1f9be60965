"""`/stats`' picture: leads per day by status, and the sum paid per day, as a PNG.

matplotlib (its Agg backend: no display, no GUI toolkit) is imported inside `draw_png`
only: it costs tens of MiB and a few hundred milliseconds, which a process that never
draws a chart (the web front, the bot's poller, a worker nobody asked for a chart) skips.
The worker runs `send_chart` as a job; the drawing runs in a thread, off the event loop."""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from aiogram.types import BufferedInputFile
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.cards import status_label
from bot.delivery import Delivery
from bot.stats import DaySeries, by_day
from domain.jobs import ChartPayload
from domain.statuses import LeadStatus
from storage.database import Database
from storage.queries.reports import leads_between, paid_between

log = logging.getLogger(__name__)

WIDTH_INCHES, HEIGHT_INCHES, DPI = 9.0, 5.0, 100  # 900 × 500 pixels
STATUS_COLOURS: dict[int, str] = {
    LeadStatus.NEW: "#4c78a8",
    LeadStatus.PROCESSED: "#f58518",
    LeadStatus.FULFILLED: "#54a24b",
    LeadStatus.CANCELLED: "#b0b0b0",
    LeadStatus.DELETED: "#e45756",
}
OTHER_COLOUR = "#9d755d"
PAID_COLOUR = "#222222"


@dataclass(frozen=True, slots=True)
class ChartText:
    """The words on the chart, in the asker's language."""

    title: str
    leads: str
    paid: str
    statuses: dict[int, str]


def draw_png(series: DaySeries, text: ChartText) -> bytes:
    """Stacked bars of leads by status per day; the paid sum as a line on its own axis."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI)
    FigureCanvasAgg(figure)
    leads_axis = figure.add_subplot()
    positions = list(range(len(series.days)))
    bottoms = [0] * len(positions)
    for code, counts in series.by_status.items():
        leads_axis.bar(
            positions,
            counts,
            bottom=bottoms,
            label=text.statuses.get(code, str(code)),
            color=STATUS_COLOURS.get(code, OTHER_COLOUR),
        )
        bottoms = [b + c for b, c in zip(bottoms, counts, strict=True)]
    step = max(1, len(positions) // 15)  # at most ~15 day labels, however long the period
    leads_axis.set_xticks(positions[::step], [d.strftime("%d.%m") for d in series.days][::step])
    leads_axis.set_ylabel(text.leads)
    leads_axis.yaxis.set_major_locator(MaxNLocator(integer=True))  # no half a lead
    leads_axis.set_title(text.title)
    paid_axis = leads_axis.twinx()
    paid_axis.plot(
        positions,
        [float(amount) for amount in series.paid],
        color=PAID_COLOUR,
        marker="o",
        label=text.paid,
    )
    paid_axis.set_ylabel(text.paid)
    paid_axis.set_ylim(bottom=0)
    paid_axis.ticklabel_format(axis="y", style="plain", useOffset=False)  # 3000000, not 3e6
    handles = leads_axis.get_legend_handles_labels()
    paid_handles = paid_axis.get_legend_handles_labels()
    leads_axis.legend(handles[0] + paid_handles[0], handles[1] + paid_handles[1], loc="upper left")
    # Fixed margins that fit the labels: `tight_layout` would measure every text first,
    # a third of the drawing's time.
    figure.subplots_adjust(left=0.07, right=0.9, top=0.92, bottom=0.08)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def chart_text(title: str) -> ChartText:
    """In the current language (the caller sets it)."""
    return ChartText(
        title=title,
        leads=_("Leads"),
        paid=_("Paid"),
        statuses={code: status_label(code) for code in LeadStatus},
    )


async def send_chart(
    *, delivery: Delivery, database: Database, i18n: I18n, zone: tzinfo, payload: ChartPayload
) -> None:
    since = datetime.fromtimestamp(payload.since, UTC)
    until = datetime.fromtimestamp(payload.until, UTC)
    async with database.read() as session:
        leads = await leads_between(session, since=since, until=until, sites=payload.sites)
        paid = await paid_between(session, since=since, until=until, sites=payload.sites)
    series = by_day(leads, paid, since=since, until=until, zone=zone)
    with i18n.context(), i18n.use_locale(payload.language):
        text = chart_text(payload.title)
        caption = _("Leads per day by status, and the sum paid per day: {title}").format(
            title=payload.title
        )
    png = await asyncio.to_thread(draw_png, series, text)
    # In the topic it was asked in; a chat that refuses the bot drops it (`bot.delivery`).
    await delivery.send_photo(
        payload.chat_id,
        BufferedInputFile(png, filename="stats.png"),
        caption=caption,
        topic=payload.topic,
        parse_mode=None,
    )
