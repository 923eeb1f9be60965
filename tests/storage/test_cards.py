"""A card's record and context: recorded again it is updated in place (one row per lead and
chat, whoever recorded it first); its context, read in one statement, says whether the
chat blocked the bot and who reads it."""

from __future__ import annotations

import functools

from sqlmodel import col, select

from storage.database import Database
from storage.models import Card, Manager
from storage.queries.cards import SentCard, card_context, mark_blocked, record_card, save_card
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
