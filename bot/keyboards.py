"""The card's buttons, built from what the lead allows and what is configured.

A card keeps few buttons in view, the ones a new lead needs (take, the next status, call,
copy the phone), and "More…" for the rest: it edits the keyboard in place, "Back" returns.
Each page is built from the card's view alone, so the bot can redraw either at any time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeAlias

from aiogram.filters.callback_data import CallbackData
from aiogram.types import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import (
    Act,
    AssignTo,
    CardPage,
    LeadAction,
    LeadWork,
    LostReason,
    OpenLead,
    Page,
    Work,
)
from bot.card_view import CardView
from domain.statuses import LeadStatus, PayStatus
from domain.team import is_admin
from integrations.phones import normalize_phone
from storage.models import Manager

# The status a lead usually moves to next: its button stays in view, the others are on "More…".
NEXT_STATUS: dict[int, Act] = {LeadStatus.NEW: Act.PROCESSED, LeadStatus.PROCESSED: Act.FULFILLED}
STATUS_BUTTONS = (
    (Act.PROCESSED, LeadStatus.PROCESSED),
    (Act.FULFILLED, LeadStatus.FULFILLED),
    (Act.CANCELLED, LeadStatus.CANCELLED),
)
Rows: TypeAlias = list[list[InlineKeyboardButton]]
# A part of the "More…" page: its rows of buttons for this card.
Section: TypeAlias = Callable[[CardView], Rows]
# Telegram copies at most 256 characters; a name on a button is cut to stay readable.
COPY_TEXT_MAX = 256
NAME_ON_BUTTON_MAX = 32


class _Keyboard:
    """Buttons of one lead, laid out row by row. Built directly, not with aiogram's
    builder: every card draws its keyboard, and the builder copies each button twice."""

    def __init__(self, lead_id: int) -> None:
        self.lead_id = lead_id
        self.rows: Rows = []
        self._row: list[InlineKeyboardButton] = []

    def act(self, text: str, act: Act) -> None:
        self._callback(text, LeadAction(act=act, lead_id=self.lead_id))

    def page(self, text: str, page: Page) -> None:
        self._callback(text, CardPage(page=page, lead_id=self.lead_id))

    def copy(self, text: str, value: str) -> None:
        self._row.append(InlineKeyboardButton(text=text, copy_text=CopyTextButton(text=value)))

    def assign(self, text: str, manager_id: int) -> None:
        self._callback(text, AssignTo(lead_id=self.lead_id, manager_id=manager_id))

    def open_lead(self, text: str, lead_id: int) -> None:
        self._callback(text, OpenLead(lead_id=lead_id))

    def _callback(self, text: str, data: CallbackData) -> None:
        self._row.append(InlineKeyboardButton(text=text, callback_data=data.pack()))

    def end_row(self) -> None:
        if self._row:
            self.rows.append(self._row)
            self._row = []

    def markup(self) -> InlineKeyboardMarkup:
        self.end_row()
        return InlineKeyboardMarkup(inline_keyboard=self.rows)


def _lead_id(view: CardView) -> int:
    lead_id = view.lead.id
    assert lead_id is not None, "a card is rendered for a stored lead"
    return lead_id


def card_keyboard(view: CardView) -> InlineKeyboardMarkup:
    """The page in view: what a manager does first with a new lead."""
    keys = _Keyboard(_lead_id(view))
    lead = view.lead
    if view.retry is not None:
        keys.act("🔁 " + _("Retry"), Act.RETRY)
        keys.end_row()
    # While offered to one manager, the lead is theirs to accept: nobody else takes it.
    if lead.taken_by is None and lead.offer_to is None:
        keys.act("✋ " + _("Take"), Act.TAKE)
    if lead.status_code == LeadStatus.DELETED:
        keys.act("♻️ " + _("Restore"), Act.RESTORE)
    elif (next_act := NEXT_STATUS.get(lead.status_code)) is not None:
        keys.act(_status_text(next_act), next_act)
    keys.end_row()
    if _can_call(view):
        keys.act("📞 " + _("Call now"), Act.CALL_NOW)
    copied = _copyable_phone(view)
    if copied:
        keys.copy("📋 " + _("Copy phone"), copied)
    keys.end_row()
    earlier = view.repeat.repeat.latest if view.repeat is not None else None
    if earlier is not None and earlier.id is not None:
        number = earlier.num or earlier.flexbe_id
        keys.open_lead("🔁 " + _("Earlier: #{num}").format(num=number), earlier.id)
        keys.end_row()
    keys.page(_("More…"), Page.MORE)
    return keys.markup()


def more_keyboard(view: CardView) -> InlineKeyboardMarkup:
    """The rest of the card's actions, section by section, and "Back"."""
    rows: list[list[InlineKeyboardButton]] = []
    for section in MORE_SECTIONS:
        rows.extend(section(view))
    rows.extend(_rows(view, lambda keys: keys.page("« " + _("Back"), Page.MAIN)))
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _other_statuses(view: CardView) -> Rows:
    lead = view.lead
    if lead.status_code == LeadStatus.DELETED:
        return []
    in_view = NEXT_STATUS.get(lead.status_code)

    def add(keys: _Keyboard) -> None:
        for act, status in STATUS_BUTTONS:
            if act is not in_view and lead.status_code != status:
                keys.act(_status_text(act), act)

    return _rows(view, add)


def _later_calls(view: CardView) -> Rows:
    if not _can_call(view):
        return []

    def add(keys: _Keyboard) -> None:
        keys.act("⏰ " + _("Call in 10 min"), Act.CALL_LATER)
        keys.act("⏰ " + _("Call in 1 hour"), Act.CALL_HOUR)
        keys.end_row()
        morning = _("Call in the morning, {hour:02d}:00").format(hour=view.morning_hour)
        keys.act("🌅 " + morning, Act.CALL_MORNING)
        keys.act("✖️ " + _("Cancel call"), Act.CANCEL_CALL)

    return _rows(view, add)


def _deal(view: CardView) -> Rows:
    if not view.can_deal:
        return []
    return _rows(view, lambda keys: keys.act("📇 " + _("5CRM deal"), Act.DEAL))


def _owner(view: CardView) -> Rows:
    # In a group anyone may be an admin or the owner; in private the reader is known.
    reader = view.reader
    admin = reader is None or is_admin(reader)
    owner = view.lead.taken_by
    may_release = owner is not None and (admin or reader is None or reader.telegram_id == owner)

    def add(keys: _Keyboard) -> None:
        if admin:
            keys.page("👥 " + _("Assign…"), Page.ASSIGN)
        if may_release:
            keys.act("↩️ " + _("Release"), Act.RELEASE)

    return _rows(view, add)


def lead_work_buttons(view: CardView) -> Rows:
    """Working on the lead in Flexbe: note, client's details, invoice; and, once an invoice
    awaits payment, the payment marks (only admins may tap them: the tap says so)."""
    lead_id = _lead_id(view)

    def button(text: str, act: Work) -> InlineKeyboardButton:
        data = LeadWork(act=act, lead_id=lead_id).pack()
        return InlineKeyboardButton(text=text, callback_data=data)

    rows = [
        [
            button("📝 " + _("Note"), Work.NOTE),
            button("✏️ " + _("Client"), Work.CLIENT),
            button("💳 " + _("Invoice"), Work.INVOICE),
        ]
    ]
    if view.lead.pay_summ is not None and view.lead.pay_status_code != PayStatus.PAID:
        rows.append(
            [
                button("✅ " + _("Mark paid"), Work.PAID),
                button("⚠️ " + _("Payment error"), Work.PAY_ERROR),
            ]
        )
    return rows


# The "More…" page, top to bottom; each section gives its rows (none when it does not apply).
MORE_SECTIONS: tuple[Section, ...] = (
    _other_statuses,
    _later_calls,
    lead_work_buttons,
    _deal,
    _owner,
)


def _rows(view: CardView, add: Callable[[_Keyboard], None]) -> Rows:
    keys = _Keyboard(_lead_id(view))
    add(keys)
    return keys.markup().inline_keyboard


def assign_keyboard(view: CardView, managers: Sequence[Manager]) -> InlineKeyboardMarkup:
    """One button per manager who receives the lead's site; the owner is ticked."""
    keys = _Keyboard(_lead_id(view))
    for manager in managers:
        name = manager_label(manager)
        if manager.telegram_id == view.lead.taken_by:
            name = "✓ " + name
        keys.assign(name, manager.telegram_id)
        keys.end_row()
    keys.page("« " + _("Back"), Page.MORE)
    return keys.markup()


def manager_label(manager: Manager) -> str:
    """A manager as a button names them: their name, else @username, else their id."""
    name = " ".join(manager.name.split()) or (
        f"@{manager.username}" if manager.username else str(manager.telegram_id)
    )
    return name if len(name) <= NAME_ON_BUTTON_MAX else name[: NAME_ON_BUTTON_MAX - 1] + "…"


def _status_text(act: Act) -> str:
    labels = {
        Act.PROCESSED: _("Processed"),
        Act.FULFILLED: _("Fulfilled"),
        Act.CANCELLED: _("Cancelled"),
    }
    return labels[act]


def _can_call(view: CardView) -> bool:
    return view.can_call and bool(view.lead.client_phone)


def _copyable_phone(view: CardView) -> str:
    """The number as the tel: link dials it, else as the client typed it, if it has a digit
    (words typed in the phone field are no number) and fits."""
    phone = view.lead.client_phone.strip()
    dialable = normalize_phone(phone, view.region)
    copied = dialable or " ".join(phone.split())
    has_digit = any(char.isdigit() for char in copied)
    return copied if has_digit and len(copied) <= COPY_TEXT_MAX else ""


def client_field_keyboard(lead_id: int) -> InlineKeyboardMarkup:
    """Which of the client's details to correct."""
    builder = InlineKeyboardBuilder()
    for text, act in (
        ("👤 " + _("Name"), Work.NAME),
        ("📞 " + _("Phone"), Work.PHONE),
        ("✉️ " + _("E-mail"), Work.EMAIL),
    ):
        builder.button(text=text, callback_data=LeadWork(act=act, lead_id=lead_id))
    builder.adjust(3)
    return builder.as_markup()


def lost_reasons_keyboard(lead_id: int, labels: Sequence[str]) -> InlineKeyboardMarkup:
    """Why the lead is Cancelled: one button per reason (`labels`, in the site's order),
    and "Back" to the page Cancelled was on."""
    keys = _Keyboard(lead_id)
    for index, label in enumerate(labels):
        keys._callback(label, LostReason(lead_id=lead_id, index=index))
        keys.end_row()
    keys.page("« " + _("Back"), Page.MORE)
    return keys.markup()
