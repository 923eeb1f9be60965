"""A card's record and context: recorded again it is updated in place (one row per lead and
chat, whoever recorded it first); its context, read in one statement, says whether the
chat blocked the bot and who reads it; a first card drawn before its lead changed queues
its own edit."""

from __future__ import annotations

import functools

from sqlmodel import col, select

from domain.jobs import NOTIFY
from domain.statuses import LeadStatus
from storage.database import Database
from storage.models import Card, Job, Manager
from storage.queries.cards import (
    SentCard,
    card_context,
    card_stamp,
    history_of,
    mark_blocked,
    record_card,
    record_first_card,
    save_card,
    set_lead_status,
)
from testkit.stored import store_webhook_lead


async def _lead(database: Database) -> int:
    return await store_webhook_lead(database, dedupe_key="cards")


async def test_a_card_recorded_again_is_updated_in_place(database: Database) -> None:
    lead_id = await _lead(database)
    await database.run_in_transaction(
        functools.partial(record_card, sent=SentCard(lead_id, -100, 7, "first"))
    )
    async with database.write() as session:
        await save_card(session, SentCard(lead_id, -100, 8, "second"))
    await database.run_in_transaction(
        functools.partial(record_card, sent=SentCard(lead_id, 42, 9, "private"))
    )

    async with database.read() as session:
        cards = (await session.exec(select(Card).order_by(col(Card.chat_id)))).all()
    assert [(c.chat_id, c.message_id, c.content_hash) for c in cards] == [
        (-100, 8, "second"),
        (42, 9, "private"),
    ]


async def test_the_card_context_holds_the_card_the_chat_state_and_its_reader(
    database: Database,
) -> None:
    lead_id = await _lead(database)
    async with database.write() as session:
        session.add(Manager(telegram_id=42, name="Anna", language="ru"))
        session.add(Manager(telegram_id=43, name="Gone", active=False))
        await mark_blocked(session, -200, "kicked")
    await database.run_in_transaction(
        functools.partial(record_card, sent=SentCard(lead_id, 42, 9, "h"))
    )

    async with database.read() as session:
        group = await card_context(session, lead_id=lead_id, chat_id=-100)
        private = await card_context(session, lead_id=lead_id, chat_id=42)
        inactive = await card_context(session, lead_id=lead_id, chat_id=43)
        blocked = await card_context(session, lead_id=lead_id, chat_id=-200)
        gone = await card_context(session, lead_id=lead_id + 1, chat_id=-100)

    assert group is not None and group.lead.id == lead_id
    assert (group.card, group.blocked, group.manager) == (None, False, None)
    assert private is not None and private.card is not None and private.card.message_id == 9
    assert private.manager is not None and private.manager.language == "ru"
    assert inactive is not None and inactive.manager is None, "only an active manager reads"
    assert blocked is not None and blocked.blocked
    assert gone is None


async def test_a_first_card_drawn_before_its_lead_changed_queues_its_edit(
    database: Database,
) -> None:
    lead_id = await _lead(database)
    async with database.read() as session:
        context = await card_context(session, lead_id=lead_id, chat_id=-100)
        assert context is not None
        drawn = card_stamp(context.lead, await history_of(session, lead_id))

    # Drawn from the lead as it is: recorded, nothing more to send.
    await database.run_in_transaction(
        functools.partial(record_first_card, sent=SentCard(lead_id, -100, 7, "h"), shown=drawn)
    )
    assert await _edits(database, lead_id) == []

    # The lead changed while a second chat's card was drawn: that chat gets an edit, once
    # however often the stale card is recorded.
    async with database.write() as session:
        await set_lead_status(session, lead_id=lead_id, status=LeadStatus.PROCESSED)
    for message_id in (8, 8):
        await database.run_in_transaction(
            functools.partial(
                record_first_card, sent=SentCard(lead_id, 42, message_id, "h"), shown=drawn
            )
        )

    assert await _edits(database, lead_id) == [42]
    async with database.read() as session:
        cards = (await session.exec(select(Card).order_by(col(Card.chat_id)))).all()
    assert [(c.chat_id, c.message_id) for c in cards] == [(-100, 7), (42, 8)]


async def _edits(database: Database, lead_id: int) -> list[int]:
    """The chats whose card of `lead_id` has an edit queued."""
    async with database.read() as session:
        jobs = (await session.exec(select(Job).where(Job.kind == NOTIFY.name))).all()
    return sorted(
        job.payload["chat_id"]
        for job in jobs
        if job.payload["lead_id"] == lead_id and job.payload["reason"] == "updated"
    )
