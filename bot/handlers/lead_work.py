"""Working on a lead in Flexbe from its card: a note (a reply to the card, or "📝 Note"),
the client's name, phone or e-mail ("✏️ Client"), an invoice ("💳 Invoice") and, for
admins, the payment marks.

A question is asked with a ForceReply and remembered in the database (`PendingReply`), so
the answer may come after a restart; it expires. Every answer is checked here, before
anything is queued: what is refused gets a short answer saying what to do, and nothing
goes to Flexbe. What is accepted becomes one job (`domain.jobs.LEAD_EDIT_KINDS`) whose key
names the Telegram message that carried it, so the same message delivered twice changes
the lead once; a payment mark's key names the lead's version, so a double tap is one mark.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, ForceReply, Message, ReplyParameters
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.callbacks import LeadWork, Work
from bot.config import BotConfig
from bot.filters import IsManager
from bot.jobs import start_logged
from bot.keyboards import client_field_keyboard
from bot.scope import chat_scope, not_yours, tapped_lead
from domain.jobs import (
    FLEXBE_CLIENT,
    FLEXBE_INVOICE,
    FLEXBE_NOTE,
    FLEXBE_PAY,
    JobKind,
    LeadEditPayload,
    answer_edit_key,
    pay_status_key,
)
from domain.statuses import PayStatus
from domain.team import is_admin
from integrations.amounts import format_amount, parse_amount
from integrations.phones import normalize_phone
from storage.clock import utcnow
from storage.models import Lead, Manager, PendingReply
from storage.queries.lead_work import (
    await_reply,
    awaited_reply,
    card_at,
    forget_reply,
    job_exists,
)

# How long a question waits for its answer.
QUESTION_TTL = timedelta(minutes=30)
MAX_NOTE = 1000
MAX_NAME = 255
MAX_EMAIL = 254
MAX_INVOICE_COMMENT = 500
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
# "15 000,50 prepayment": the amount, then (after a space) a comment starting with no digit.
_AMOUNT_THEN_COMMENT = re.compile(r"([0-9][0-9\s.,]*?)\s+(\D.*)", re.DOTALL)
PAY_MARKS = {Work.PAID: PayStatus.PAID, Work.PAY_ERROR: PayStatus.ERROR}


class Refused(Exception):
    """An answer that cannot be used; the message says what to do instead."""


# Taps -------------------------------------------------------------------------------------


async def tap(
    query: CallbackQuery,
    callback_data: LeadWork,
    session: AsyncSession,
    manager: Manager,
    config: BotConfig,
    bot: Bot,
) -> None:
    lead = await tapped_lead(query, callback_data.lead_id, session, manager, config)
    message = query.message
    if lead is None or lead.id is None or message is None:
        await query.answer(not_yours(), show_alert=True)
        return
    if lead.site_key not in config.flexbe_sites:
        await query.answer(_("The Flexbe API is not set up for this site."), show_alert=True)
        return
    act = callback_data.act
    if act in PAY_MARKS:
        await _mark_payment(query, session, lead, manager, PAY_MARKS[act])
        return
    chat_id, reply_to = message.chat.id, message.message_id
    if act is Work.CLIENT:
        await query.answer()
        await bot.send_message(
            chat_id,
            _esc(_("Lead #{num}: which detail of the client to correct?").format(num=_num(lead))),
            reply_markup=client_field_keyboard(lead.id),
            reply_parameters=ReplyParameters(message_id=reply_to, allow_sending_without_reply=True),
        )
        return
    waiting = await awaited_reply(session, chat_id=chat_id, user_id=manager.telegram_id)
    if waiting is not None and waiting.lead_id == lead.id and waiting.awaits == act.value:
        # A double tap: the question stands, asked once.
        await query.answer(_("Reply to my question above."))
        return
    await query.answer()
    asked = await bot.send_message(
        chat_id,
        _question(act, lead, manager, private=message.chat.type == ChatType.PRIVATE),
        reply_markup=ForceReply(selective=True, input_field_placeholder=_placeholder(act)),
        reply_parameters=ReplyParameters(message_id=reply_to, allow_sending_without_reply=True),
    )
    await await_reply(
        session,
        chat_id=chat_id,
        user_id=manager.telegram_id,
        lead_id=lead.id,
        awaits=act.value,
        prompt_message_id=asked.message_id,
        expires_at=utcnow() + QUESTION_TTL,
    )


async def _mark_payment(
    query: CallbackQuery, session: AsyncSession, lead: Lead, manager: Manager, status: PayStatus
) -> None:
    assert lead.id is not None
    if not is_admin(manager):
        await query.answer(_("Only an admin can mark a payment."), show_alert=True)
        return
    if lead.pay_summ is None:
        await query.answer(_("This lead has no invoice yet."), show_alert=True)
        return
    if lead.pay_status_code == status:
        await query.answer(_("Already so in Flexbe."))
        return
    payload = _edit(lead, manager, f"pay:{int(status)}", pay_status=int(status))
    key = pay_status_key(lead.id, int(status), lead.version)
    if not await _enqueue(session, FLEXBE_PAY, payload, key, manager):
        await query.answer(_("Already done or in progress."))
        return
    await query.answer(_("Sending to Flexbe…"))


# Answers ----------------------------------------------------------------------------------


class RepliesToBot(Filter):
    """A manager's message that replies to one of the bot's."""

    async def __call__(self, message: Message, bot: Bot) -> bool:
        replied = message.reply_to_message
        if replied is None or replied.from_user is None:
            return False
        return replied.from_user.id == (await bot.me()).id


async def on_reply(
    message: Message, session: AsyncSession, manager: Manager, config: BotConfig
) -> None:
    replied = message.reply_to_message
    assert replied is not None
    if await job_exists(session, dedupe_key=answer_edit_key(message.chat.id, message.message_id)):
        return  # this very message was handled already: delivered twice
    chat_id, user_id = message.chat.id, manager.telegram_id
    pending = await awaited_reply(session, chat_id=chat_id, user_id=user_id)
    if pending is not None and pending.prompt_message_id == replied.message_id:
        await _answer(message, session, manager, config, pending)
        return
    card = await card_at(session, chat_id=chat_id, message_id=replied.message_id)
    if card is None:
        await message.reply(
            _esc(
                _(
                    "That message is not a lead card. To add a note, reply to the card itself; "
                    "to answer a question of mine, tap the card's button again (a question "
                    "waits {minutes} minutes)."
                ).format(minutes=int(QUESTION_TTL.total_seconds() // 60))
            )
        )
        return
    lead = await session.get(Lead, card.lead_id)
    if lead is None:
        return
    await _apply(message, session, manager, config, lead, Work.NOTE)


async def on_private_text(
    message: Message,
    session: AsyncSession,
    manager: Manager,
    config: BotConfig,
    pending: PendingReply,
) -> None:
    """In a private chat an answer needs no reply: the question awaited is enough."""
    if await job_exists(session, dedupe_key=answer_edit_key(message.chat.id, message.message_id)):
        return
    await _answer(message, session, manager, config, pending)


class Awaited(Filter):
    """A question awaits this manager's answer in this chat: handed on as `pending`."""

    async def __call__(
        self, message: Message, session: AsyncSession, manager: Manager | None
    ) -> bool | dict[str, PendingReply]:
        if manager is None:
            return False
        pending = await awaited_reply(session, chat_id=message.chat.id, user_id=manager.telegram_id)
        return False if pending is None else {"pending": pending}


async def _answer(
    message: Message,
    session: AsyncSession,
    manager: Manager,
    config: BotConfig,
    pending: PendingReply,
) -> None:
    lead = await session.get(Lead, pending.lead_id)
    if lead is None:
        await forget_reply(session, chat_id=message.chat.id, user_id=manager.telegram_id)
        return
    if await _apply(message, session, manager, config, lead, Work(pending.awaits)):
        await forget_reply(session, chat_id=message.chat.id, user_id=manager.telegram_id)


async def _apply(
    message: Message,
    session: AsyncSession,
    manager: Manager,
    config: BotConfig,
    lead: Lead,
    awaits: Work,
) -> bool:
    """Check the answer and queue its edit; True when queued (or queued before)."""
    assert lead.id is not None
    if not chat_scope(config, manager, message.chat).shows(lead.site_key):
        await message.reply(_esc(not_yours()))
        return False
    if lead.site_key not in config.flexbe_sites:
        await message.reply(_esc(_("The Flexbe API is not set up for this site.")))
        return False
    try:
        kind, payload, done = _edit_of(message, manager, config, lead, awaits)
    except Refused as refusal:
        await message.reply(_esc(str(refusal)))
        return False
    key = answer_edit_key(message.chat.id, message.message_id)
    if await _enqueue(session, kind, payload, key, manager):
        await message.reply(_esc(done))
    return True


def _edit_of(
    message: Message, manager: Manager, config: BotConfig, lead: Lead, awaits: Work
) -> tuple[JobKind[LeadEditPayload], LeadEditPayload, str]:
    """The job an answer asks for, and what to tell the manager; `Refused` if unusable."""
    text = (message.text or "").strip()
    num = _num(lead)
    if awaits is Work.NOTE:
        if not text:
            raise Refused(_("A note is text: reply with the words to add to the lead."))
        if len(text) > MAX_NOTE:
            raise Refused(
                _(
                    "A note is at most {limit} characters; this one has {count}. Shorten it and "
                    "reply again."
                ).format(limit=MAX_NOTE, count=len(text))
            )
        moment = utcnow().astimezone(config.zone).strftime("%d.%m.%Y %H:%M")
        line = f"{moment} {manager.name or manager.telegram_id}: {text}"
        return (
            FLEXBE_NOTE,
            _edit(lead, manager, "note", note=line),
            _("📝 Lead #{num}: sending the note to Flexbe…").format(num=num),
        )
    if awaits is Work.NAME:
        if not text or "\n" in text or len(text) > MAX_NAME:
            raise Refused(
                _("A name is one line of at most {limit} characters: reply again.").format(
                    limit=MAX_NAME
                )
            )
        return (
            FLEXBE_CLIENT,
            _edit(lead, manager, "client:name", client_name=text),
            _("✏️ Lead #{num}: sending the name to Flexbe…").format(num=num),
        )
    if awaits is Work.PHONE:
        phone = normalize_phone(text[:64], config.region(lead.site_key)) if text else ""
        if not phone:
            raise Refused(
                _(
                    "That is not a phone number that can be dialled. Reply with the number, "
                    "e.g. +7 912 345-67-89."
                )
            )
        return (
            FLEXBE_CLIENT,
            _edit(lead, manager, "client:phone", client_phone=phone),
            _("✏️ Lead #{num}: sending the phone {phone} to Flexbe…").format(num=num, phone=phone),
        )
    if awaits is Work.EMAIL:
        if len(text) > MAX_EMAIL or not _EMAIL.fullmatch(text):
            raise Refused(
                _("That is not an e-mail address. Reply with one, e.g. name@example.com.")
            )
        return (
            FLEXBE_CLIENT,
            _edit(lead, manager, "client:email", client_email=text),
            _("✏️ Lead #{num}: sending the e-mail to Flexbe…").format(num=num),
        )
    amount, comment = _invoice(text)
    return (
        FLEXBE_INVOICE,
        _edit(
            lead,
            manager,
            "invoice",
            pay_summ=format(amount, "f"),
            pay_status=int(PayStatus.PENDING),
            pay_desc=comment,
        ),
        _("💳 Lead #{num}: sending the invoice of {amount} to Flexbe…").format(
            num=num, amount=format_amount(amount)
        ),
    )


def _invoice(text: str) -> tuple[Decimal, str]:
    """The amount and the comment of an invoice's answer: the amount on the first line (or
    first on the line), the comment after it."""
    first, _sep, rest = text.partition("\n")
    amount = parse_amount(first)
    comment = rest.strip()
    if amount is None:
        split = _AMOUNT_THEN_COMMENT.fullmatch(first.strip())
        if split is not None:
            amount = parse_amount(split.group(1))
            comment = (split.group(2) + ("\n" + rest if rest else "")).strip()
    if amount is None or amount == 0:
        raise Refused(
            _(
                "The amount must be a number above zero, e.g. 15000 or 15 000.50; a comment for "
                "the client may follow it. Reply again."
            )
        )
    if len(comment) > MAX_INVOICE_COMMENT:
        raise Refused(
            _("The comment is at most {limit} characters: shorten it and reply again.").format(
                limit=MAX_INVOICE_COMMENT
            )
        )
    return amount, comment


# Shared -----------------------------------------------------------------------------------


def _edit(lead: Lead, manager: Manager, action: str, **fields: object) -> LeadEditPayload:
    assert lead.id is not None
    base = LeadEditPayload(
        lead_id=lead.id, site=lead.site_key, actor=manager.telegram_id, action=action
    )
    return replace(base, **fields)  # type: ignore[arg-type]


async def _enqueue(
    session: AsyncSession,
    kind: JobKind[LeadEditPayload],
    payload: LeadEditPayload,
    key: str,
    manager: Manager,
) -> bool:
    """Queue the edit with its entry in the lead's history; False if the key was taken."""
    started = await start_logged(
        session,
        kind,
        payload,
        dedupe_key=key,
        actor_id=manager.telegram_id,
        actor_name=manager.name,
    )
    return started is not None


def _esc(text: str) -> str:
    """Text for an HTML message (the bot's default): quotes need no escaping outside tags."""
    return html.escape(text, quote=False)


def _num(lead: Lead) -> int:
    return lead.num if lead.num is not None else lead.flexbe_id


def _question(act: Work, lead: Lead, manager: Manager, *, private: bool) -> str:
    num = _num(lead)
    questions = {
        Work.NOTE: _("📝 Lead #{num}: reply with the note to add."),
        Work.NAME: _("👤 Lead #{num}: reply with the client's name."),
        Work.PHONE: _("📞 Lead #{num}: reply with the client's phone number."),
        Work.EMAIL: _("✉️ Lead #{num}: reply with the client's e-mail."),
        Work.INVOICE: _(
            "💳 Lead #{num}: reply with the amount, and a comment for the client after it if "
            "you like (e.g. 15000 Prepayment)."
        ),
    }
    text = _esc(questions[act].format(num=num))
    if private:
        return text
    # In a group the ForceReply opens only for the one mentioned.
    who = _esc(manager.name or str(manager.telegram_id))
    return f'<a href="tg://user?id={manager.telegram_id}">{who}</a>, {text}'


def _placeholder(act: Work) -> str:
    placeholders = {
        Work.NOTE: _("Note"),
        Work.NAME: _("Name"),
        Work.PHONE: _("Phone"),
        Work.EMAIL: _("E-mail"),
        Work.INVOICE: _("Amount and comment"),
    }
    return placeholders[act]


def build_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.filter(IsManager())
    router.message.filter(IsManager())
    router.callback_query.register(tap, LeadWork.filter())
    router.message.register(on_reply, RepliesToBot())
    router.message.register(
        on_private_text,
        F.chat.type == ChatType.PRIVATE,
        ~F.text.startswith("/"),
        Awaited(),
    )
    return router
