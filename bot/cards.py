"""The lead card's text: one HTML message per lead per chat, edited in place as the lead
changes (its buttons are `bot.keyboards`', its data `bot.card_view`'s).

Every value that came from outside is escaped. The text stays within Telegram's 4096
characters by shortening long values, then listing fewer form fields and history lines;
the buttons are never cut.
"""

from __future__ import annotations

import html
import re
from datetime import tzinfo
from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.card_view import CardView, RepeatBadge
from bot.lost_reasons import cancelled_because
from domain.statuses import LeadStatus, PayStatus
from integrations.amounts import amount_text
from integrations.phones import normalize_phone
from storage.models import Lead

MAX_MESSAGE_UTF16 = 4096
# Tried in order until the card fits: (characters per value, form fields, history lines).
_BUDGETS = ((300, 50, 20), (120, 30, 10), (60, 20, 5), (30, 10, 3), (16, 5, 2))


def status_label(code: int) -> str:
    labels: dict[int, str] = {
        LeadStatus.NEW: _("New"),
        LeadStatus.PROCESSED: _("Processed"),
        LeadStatus.FULFILLED: _("Fulfilled"),
        LeadStatus.CANCELLED: _("Cancelled"),
        LeadStatus.DELETED: _("Deleted"),
    }
    return labels.get(code, _("Status {code}").format(code=code))


def pay_status_label(code: int | None) -> str:
    labels: dict[int, str] = {
        PayStatus.PENDING: _("awaiting payment"),
        PayStatus.IN_PROCESS: _("payment in process"),
        PayStatus.PAID: _("paid"),
        PayStatus.ERROR: _("payment error"),
    }
    return labels.get(code if code is not None else -1, _("unknown"))


def render_text(view: CardView) -> str:
    """The card's HTML, within Telegram's length (its buttons are `bot.keyboards`')."""
    for value_limit, max_fields, max_history in _BUDGETS:
        text = _render_text(view, value_limit, max_fields, max_history)
        if utf16_length(text) <= MAX_MESSAGE_UTF16:
            return text
    return text  # the smallest budget always fits: a fixed-size card


def render_plain(view: CardView) -> str:
    """The card without markup, for when Telegram still rejects the HTML."""
    text = render_text(view)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _render_text(view: CardView, limit: int, max_fields: int, max_history: int) -> str:
    lead = view.lead

    def esc(value: Any) -> str:
        return html.escape(_shorten(str(value), limit))

    header = _("Lead #{num}").format(num=lead.num if lead.num is not None else lead.flexbe_id)
    lines = [f"<b>{html.escape(header)}</b> · {esc(view.site_name)}"]
    lines.append(html.escape(_("Status: {status}").format(status=_status_of(view))))
    if lead.origin != "webhook":
        lines.append(html.escape(_("Recovered from Flexbe")))
    if view.repeat is not None:
        lines.append(_repeat_line(view.repeat, view.timezone, limit))
    page = _link(lead.page_url, lead.page_name or lead.page_url, limit)
    if page:
        lines.append(html.escape(_("Page:")) + " " + page)
    lines.append("")
    if lead.client_name:
        lines.append("👤 " + esc(lead.client_name))
    if lead.client_phone:
        lines.append("📞 " + _phone(lead.client_phone, view.region, limit))
    if lead.client_email:
        lines.append("✉️ " + esc(lead.client_email))
    lines.extend(_note(lead.note, limit))
    lines.extend(_form(lead, esc, max_fields))
    utm = _utm_summary(lead.utm)
    if utm:
        lines.append("")
        lines.append("UTM: " + esc(utm))
    payment = _payment(lead, limit)
    if payment:
        lines.append("")
        lines.append(payment)
    if lead.taken_by is not None:
        lines.append("")
        lines.append(_owner(view, esc))
    elif lead.offer_to is not None:
        lines.append("")
        lines.append(_offered(view, esc))
    lines.extend(_history(view, esc, max_history))
    return "\n".join(lines).strip()


def _note(note: str, limit: int) -> list[str]:
    """The lead's note, newest lines last: the end of it when it is long."""
    lines = [line.strip() for line in note.splitlines() if line.strip()]
    if not lines:
        return []
    shown = 6 if limit >= 120 else 3 if limit >= 30 else 1
    out = ["", "🗒 <b>" + html.escape(_("Note")) + "</b>"]
    if len(lines) > shown:
        out.append("…")
    out.extend(html.escape(_shorten(line, limit)) for line in lines[-shown:])
    return out


def ordinal(number: int) -> str:
    """`3rd`, `11th`, `22nd` in English; each catalog spells its own."""
    if number % 100 in (11, 12, 13) or number % 10 not in (1, 2, 3):
        return _("{number}th").format(number=number)
    if number % 10 == 1:
        return _("{number}st").format(number=number)
    if number % 10 == 2:
        return _("{number}nd").format(number=number)
    return _("{number}rd").format(number=number)


def _repeat_line(badge: RepeatBadge, zone: tzinfo, limit: int) -> str:
    """🔁 3rd request since 12.11 — Site A #1021, Processed by Ivan"""
    repeat, latest = badge.repeat, badge.repeat.latest
    status = status_label(latest.status_code)
    if latest.taken_by is not None:
        who = _shorten(latest.taken_by_name or str(latest.taken_by), limit)
        status = _("{status} by {name}").format(status=status, name=who)
    text = _("{ordinal} request since {date} — {site} #{num}, {status}").format(
        ordinal=ordinal(repeat.request_number),
        date=repeat.first_at.astimezone(zone).strftime("%d.%m"),
        site=_shorten(badge.site_name, limit),
        num=latest.num if latest.num is not None else latest.flexbe_id,
        status=status,
    )
    return "🔁 " + html.escape(text)


def _owner(view: CardView, esc: Any) -> str:
    lead = view.lead
    moment = (
        lead.taken_at.astimezone(view.timezone).strftime("%d.%m %H:%M") if lead.taken_at else ""
    )
    who = esc(lead.taken_by_name or str(lead.taken_by))
    if view.assigned_by is not None:
        text = html.escape(_("Assigned to {name} by {admin} at {time}"))
        return "👤 " + text.format(name=who, admin=esc(view.assigned_by), time=moment)
    return "✋ " + html.escape(_("Taken by {name} at {time}")).format(name=who, time=moment)


def _offered(view: CardView, esc: Any) -> str:
    """📨 Offered to Max (1:20 left)"""
    lead = view.lead
    who = esc(lead.offer_to_name or str(lead.offer_to))
    seconds = max(0, int(view.offer_left.total_seconds())) if view.offer_left else 0
    hours, rest = divmod(seconds, 3600)
    left = f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
    return "📨 " + html.escape(_("Offered to {name} ({left} left)")).format(name=who, left=left)


def _form(lead: Lead, esc: Any, max_fields: int) -> list[str]:
    fields = [f for f in lead.form_data.values() if isinstance(f, dict) and _field_value(f)]
    if not fields and not lead.form_name:
        return []
    lines = [""]
    if lead.form_name:
        lines.append("📝 <b>" + esc(lead.form_name) + "</b>")
    for field in fields[:max_fields]:
        name = field.get("name") or field.get("orig_name") or field.get("id") or "?"
        lines.append(f"{esc(name)}: {esc(_field_value(field))}")
    hidden = len(fields) - max_fields
    if hidden > 0:
        lines.append(html.escape(_("…and {count} more fields").format(count=hidden)))
    return lines


def _field_value(field: dict[str, Any]) -> str:
    value = field.get("value")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value if item)
    return str(value) if value is not None else ""


def _utm_summary(utm: dict[str, Any]) -> str:
    parts = [str(utm[key]) for key in ("utm_source", "utm_medium", "utm_campaign") if utm.get(key)]
    if utm.get("utm_term"):
        parts.append(f"«{utm['utm_term']}»")
    return " / ".join(parts)


def _payment(lead: Lead, limit: int) -> str:
    if lead.pay_summ is None and lead.pay_status_code is None:
        return ""
    text = "💳 " + html.escape(
        _("{amount} — {status}").format(
            amount=amount_text(lead.pay_summ, limit),
            status=pay_status_label(lead.pay_status_code),
        )
    )
    link = _link(lead.pay_link, _("pay link"), limit)
    return f"{text} · {link}" if link else text


def _history(view: CardView, esc: Any, max_lines: int) -> list[str]:
    if not view.history:
        return []
    lines = ["", "<b>" + html.escape(_("History")) + "</b>"]
    for entry in list(view.history)[-max_lines:]:
        mark = "✅" if entry.ok else "⚠️"
        moment = entry.at.astimezone(view.timezone).strftime("%H:%M")
        lines.append(f"{mark} {moment} {esc(entry.text)}")
    return lines


def _link(url: str | None, label: str, limit: int) -> str:
    if not url:
        return ""
    shown = html.escape(_shorten(label, limit))
    # Only web links become links: anything else is shown as text, never followed.
    if not url.startswith(("http://", "https://")) or len(url) > 2000:
        return shown
    return f'<a href="{html.escape(url, quote=True)}">{shown}</a>'


def _phone(phone: str, region: str, limit: int) -> str:
    """A link only for a number that can be dialled, and always in ASCII E.164."""
    shown = html.escape(_shorten(phone, limit))
    dialable = normalize_phone(phone, region)
    return f'<a href="tel:{dialable}">{shown}</a>' if dialable else shown


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split()) if "\n" in text or "\r" in text else text
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _status_of(view: CardView) -> str:
    """The lead's status; a Cancelled one says why (`CardView.lost_reason`)."""
    lead = view.lead
    if lead.status_code == LeadStatus.CANCELLED and view.lost_reason is not None:
        return cancelled_because(view.lost_reason)
    return status_label(lead.status_code)
