"""The card's buttons, built from what the lead allows and what is configured."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import Act, LeadAction, LeadWork, OpenLead, Work
from domain.statuses import LeadStatus, PayStatus

if TYPE_CHECKING:
    from bot.cards import CardView


def card_keyboard(view: CardView) -> InlineKeyboardMarkup:
    lead_id = view.lead.id
    assert lead_id is not None, "a card is rendered for a stored lead"
    builder = InlineKeyboardBuilder()

    def button(text: str, act: Act) -> None:
        builder.button(text=text, callback_data=LeadAction(act=act, lead_id=lead_id))

    rows: list[int] = []
    if view.retry is not None:
        button("🔁 " + _("Retry"), Act.RETRY)
        rows.append(1)
    if view.lead.taken_by is None:
        button("✋ " + _("Take"), Act.TAKE)
        rows.append(1)
    if view.lead.status_code == LeadStatus.DELETED:
        button("♻️ " + _("Restore"), Act.RESTORE)
        rows.append(1)
    else:
        button(_("Processed"), Act.PROCESSED)
        button(_("Fulfilled"), Act.FULFILLED)
        button(_("Cancelled"), Act.CANCELLED)
        rows.append(3)
    if view.can_deal:
        button("📇 " + _("5CRM deal"), Act.DEAL)
        rows.append(1)
    if view.can_call and view.lead.client_phone:
        button("📞 " + _("Call now"), Act.CALL_NOW)
        button("⏰ " + _("Call in 10 min"), Act.CALL_LATER)
        button("✖️ " + _("Cancel call"), Act.CANCEL_CALL)
        rows.append(3)
    earlier = view.repeat.repeat.latest if view.repeat is not None else None
    if earlier is not None and earlier.id is not None:
        builder.button(
            text="🔁 " + _("Earlier: #{num}").format(num=earlier.num or earlier.flexbe_id),
            callback_data=OpenLead(lead_id=earlier.id),
        )
        rows.append(1)
    builder.adjust(*rows)
    for row in lead_work_buttons(view):
        builder.row(*row)
    return builder.as_markup()


def lead_work_buttons(view: CardView) -> list[list[InlineKeyboardButton]]:
    """Working on the lead in Flexbe: note, client's details, invoice; and, once an invoice
    awaits payment, the payment marks (only admins may tap them: the tap says so)."""
    lead_id = view.lead.id
    assert lead_id is not None, "a card is rendered for a stored lead"

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
