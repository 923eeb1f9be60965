"""The questions the bot awaits answers to, and a manager's edits once Flexbe took them:
on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.clock import utcnow
from storage.database import Database
from storage.models import Lead, PendingReply
from storage.queries.lead_work import apply_lead_edit, await_reply, awaited_reply, forget_reply
from storage.queries.sites import ensure_sites

CHAT, USER = -100123, 22


async def a_lead(database: Database) -> int:
    async with database.write() as session:
        await ensure_sites(session, [("okna", "Окна")])
        lead = Lead(site_key="okna", flexbe_id=1414, note="old")
        session.add(lead)
        await session.flush()
        assert lead.id is not None
        return lead.id


async def ask(session: AsyncSession, lead_id: int, awaits: str, prompt: int, now: datetime) -> None:
    """The bot asks USER in CHAT for `awaits` with message `prompt`: the answer is due in 30 min."""
    await await_reply(
        session,
        chat_id=CHAT,
        user_id=USER,
        lead_id=lead_id,
        awaits=awaits,
        prompt_message_id=prompt,
        expires_at=now + timedelta(minutes=30),
    )


async def test_a_question_is_replaced_expires_and_is_forgotten(database: Database) -> None:
    lead_id = await a_lead(database)
    now = utcnow()
    async with database.write() as session:
        await ask(session, lead_id, "note", 5, now)
    async with database.write() as session:
        await ask(session, lead_id, "phone", 9, now)
    async with database.write() as session:
        pending = await awaited_reply(session, chat_id=CHAT, user_id=USER, now=now)
        assert pending is not None and (pending.awaits, pending.prompt_message_id) == ("phone", 9)
        assert await awaited_reply(session, chat_id=CHAT, user_id=USER + 1, now=now) is None
        later = now + timedelta(minutes=31)
        assert await awaited_reply(session, chat_id=CHAT, user_id=USER, now=later) is None
    async with database.read() as session:
        assert await session.get(PendingReply, (CHAT, USER)) is None, "expired: removed"

    async with database.write() as session:
        await ask(session, lead_id, "note", 11, now)
        await forget_reply(session, chat_id=CHAT, user_id=USER)
    async with database.read() as session:
        assert await session.get(PendingReply, (CHAT, USER)) is None


async def test_an_edit_is_a_new_version_only_when_it_changes_something(
    database: Database,
) -> None:
    lead_id = await a_lead(database)
    async with database.write() as session:
        await apply_lead_edit(
            session, lead_id=lead_id, pay_summ="100", pay_status=0, pay_desc="Предоплата"
        )
    async with database.write() as session:
        await apply_lead_edit(session, lead_id=lead_id, note="old")
    async with database.read() as session:
        lead = await session.get(Lead, lead_id)
    assert lead is not None
    assert (lead.pay_summ, lead.pay_status_code, lead.pay_desc) == ("100", 0, "Предоплата")
    assert lead.version == 2, "the unchanged note made no new version"
