"""What the bot awaits from a manager (`PendingReply`), and a manager's edit of a lead once
Flexbe accepted it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.clock import utcnow
from storage.models import Card, Job, Lead, PendingReply
from storage.queries.fragments import fold


async def await_reply(
    session: AsyncSession,
    *,
    chat_id: int,
    user_id: int,
    lead_id: int,
    awaits: str,
    prompt_message_id: int | None,
    expires_at: datetime,
) -> PendingReply:
    """Note that the bot awaits `awaits` from this manager in this chat (replacing what it
    awaited before there)."""
    pending = await session.get(PendingReply, (chat_id, user_id))
    if pending is None:
        pending = PendingReply(chat_id=chat_id, user_id=user_id, lead_id=lead_id, awaits=awaits)
    pending.lead_id, pending.awaits = lead_id, awaits
    pending.prompt_message_id, pending.expires_at = prompt_message_id, expires_at
    pending.created_at = utcnow()
    try:
        async with session.begin_nested():
            session.add(pending)
    except IntegrityError:
        # Asked twice at once: the other question stands, and this one replaces it.
        existing = await session.get(PendingReply, (chat_id, user_id))
        if existing is None:
            raise
        existing.lead_id, existing.awaits = lead_id, awaits
        existing.prompt_message_id, existing.expires_at = prompt_message_id, expires_at
        session.add(existing)
        pending = existing
    return pending


async def awaited_reply(
    session: AsyncSession, *, chat_id: int, user_id: int, now: datetime | None = None
) -> PendingReply | None:
    """What the bot awaits from this manager in this chat, if the question has not expired
    (an expired one is forgotten here)."""
    pending = await session.get(PendingReply, (chat_id, user_id))
    if pending is None:
        return None
    if pending.expires_at <= (now or utcnow()):
        await session.delete(pending)
        return None
    return pending


async def forget_reply(session: AsyncSession, *, chat_id: int, user_id: int) -> None:
    await session.exec(
        delete(PendingReply).where(
            col(PendingReply.chat_id) == chat_id, col(PendingReply.user_id) == user_id
        )
    )


async def apply_lead_edit(
    session: AsyncSession,
    *,
    lead_id: int,
    note: str | None = None,
    client_name: str | None = None,
    client_phone: str | None = None,
    client_phone_normalized: str | None = None,
    client_email: str | None = None,
    client_email_normalized: str | None = None,
    pay_summ: str | None = None,
    pay_status: int | None = None,
    pay_desc: str | None = None,
) -> None:
    """Record an edit Flexbe accepted from us: a new version of the lead if anything
    changed. Payment names are left empty until Flexbe tells them (its `pay` webhook)."""
    lead = await session.get(Lead, lead_id)
    if lead is None:
        return
    changes: dict[str, object] = {
        "note": note,
        "client_name": client_name,
        "client_name_folded": None if client_name is None else fold(client_name),
        "client_phone": client_phone,
        "client_phone_normalized": client_phone_normalized,
        "client_email": client_email,
        "client_email_normalized": client_email_normalized,
        "pay_summ": pay_summ,
        "pay_status_code": pay_status,
        "pay_desc": pay_desc,
    }
    changed = False
    for name, value in changes.items():
        if value is not None and getattr(lead, name) != value:
            setattr(lead, name, value)
            changed = True
    if pay_status is not None and changed:
        lead.pay_status_name = ""
    if changed:
        lead.version, lead.updated_at = lead.version + 1, utcnow()
        session.add(lead)


async def card_at(session: AsyncSession, *, chat_id: int, message_id: int) -> Card | None:
    """The lead card that is this message of this chat, if it is one."""
    result = await session.exec(
        select(Card).where(Card.chat_id == chat_id, Card.message_id == message_id)
    )
    return result.first()


async def job_exists(session: AsyncSession, *, dedupe_key: str) -> bool:
    result = await session.exec(select(Job.id).where(Job.dedupe_key == dedupe_key))
    return result.first() is not None
