"""Speed-to-lead in the bot's words: the `/stats` section and the digest's lines, drawn from
`storage.queries.speed` (the console shows the same figures). Working time only, the
site's hours as its SLA counts them."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timedelta

from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import BotConfig
from storage.models import Lead
from storage.queries.speed import SpeedFigures, SpeedRow, WorkingBetween, speed_figures, take_backs

# Rows of each table, and characters of a name: the section stays well within a message.
MAX_MANAGERS = 10
MAX_SOURCES = 5
MAX_REASONS = 5
NAME_SHOWN = 30
# Telegram's bound on a message's text.
MESSAGE_LIMIT = 4096
ELLIPSIS = "…"


def working_of(config: BotConfig) -> WorkingBetween:
    def between(site_key: str, since: datetime, until: datetime) -> timedelta:
        return config.timers_of(site_key).hours.working_between(since, until)

    return between


async def figures_of(
    session: AsyncSession, leads: Sequence[Lead], config: BotConfig
) -> SpeedFigures:
    backs = await take_backs(session, lead_ids=[lead.id for lead in leads if lead.id is not None])
    return speed_figures(leads, working_between=working_of(config), taken_back=backs)


def duration_text(seconds: float | None) -> str:
    """`40 s`, `12 min`, `2 h 5 min`; `—` when nothing was acted on."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return _("{seconds} s").format(seconds=int(seconds))
    minutes = int(seconds // 60)
    if minutes < 60:
        return _("{minutes} min").format(minutes=minutes)
    return _("{hours} h {minutes} min").format(hours=minutes // 60, minutes=minutes % 60)


def share_text(row: SpeedRow) -> str:
    share = row.quick_share
    return "—" if share is None else f"{round(share * 100)}%"


def row_text(row: SpeedRow) -> str:
    return _(
        "leads {leads} · median {median} · p90 {p90} · {share} in 5 min · "
        "taken back {back} · lost {lost} · paid {paid}"
    ).format(
        leads=row.leads,
        median=duration_text(row.median_seconds),
        p90=duration_text(row.p90_seconds),
        share=share_text(row),
        back=row.taken_back,
        lost=sum(row.lost.values()),
        paid=row.paid,
    )


def _name(text: str) -> str:
    return html.escape(text[:NAME_SHOWN])


def reason_text(reason: str) -> str:
    return _("no reason given") if reason == "" else reason


def speed_lines(figures: SpeedFigures) -> list[str]:
    """`/stats`' section: the whole, per manager, per source and per form (the top ones),
    and the lost reasons. HTML: every value from outside is escaped."""
    if not figures.total.leads:
        return []
    lines = [_("<b>Speed to first action</b> (working time only)"), "• " + row_text(figures.total)]
    lines.append(_("By manager:"))
    for who, row in list(figures.by_manager.items())[:MAX_MANAGERS]:
        lines.append("• " + (_name(who) if who else _("nobody")) + ": " + row_text(row))
    lines.append(_("By source:"))
    for source, row in list(figures.by_source.items())[:MAX_SOURCES]:
        lines.append(
            "• " + (_name(source) if source else _("no UTM source")) + ": " + row_text(row)
        )
    lines.append(_("By form:"))
    for form, row in list(figures.by_form.items())[:MAX_SOURCES]:
        lines.append("• " + (_name(form) if form else _("no form")) + ": " + row_text(row))
    lost = sorted(figures.total.lost.items(), key=lambda item: (-item[1], item[0]))
    if lost:
        lines.append(
            _("Lost reasons: {reasons}").format(
                reasons=", ".join(
                    f"{_name(reason_text(reason))} {count}" for reason, count in lost[:MAX_REASONS]
                )
            )
        )
    return lines


def digest_lines(figures: SpeedFigures) -> list[str]:
    """The digest's lines: the day's speed to first action, and how many were taken back."""
    total = figures.total
    if not total.leads:
        return []
    lines = [
        _("First action (working time): median {median}, p90 {p90}, {share} within 5 min").format(
            median=duration_text(total.median_seconds),
            p90=duration_text(total.p90_seconds),
            share=share_text(total),
        )
    ]
    if total.taken_back:
        lines.append(_("Taken back: {count}").format(count=total.taken_back))
    return lines


def fitted(lines: list[str], limit: int = MESSAGE_LIMIT) -> str:
    """The lines joined, those that would pass Telegram's limit left out (an ellipsis says
    so): a message of many managers and sites still goes out."""
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > limit - len(ELLIPSIS) - 1:
            kept.append(ELLIPSIS)
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)
