"""Leads put straight into the store (lists and numbers need many), and the bot's answers
to a command, told from the lead cards that come on their own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col

from storage.database import Database
from storage.models import Lead
from storage.queries.ingest import store
from storage.queries.leads import LeadSnapshot
from tests.e2e.conftest import Stack, eventually
from tests.storage.test_leads import sync_event


async def put_leads(database: Database, snapshots: list[LeadSnapshot]) -> list[int]:
    """Stored as a sync stores them: no card is sent. Answers the leads' ids."""
    stored = await store(database, [sync_event(snapshot) for snapshot in snapshots])
    return [event.lead_id for event in stored if event.lead_id is not None]


async def set_taken(
    database: Database, lead_id: int, *, by: int, name: str, at: datetime, **more: Any
) -> None:
    async with database.write() as session:
        await session.exec(
            update(Lead)
            .where(col(Lead.id) == lead_id)
            .values(taken_by=by, taken_by_name=name, taken_at=at, **more)
        )


def answers(stack: Stack, chat: int) -> list[dict[str, Any]]:
    """The bot's messages in the chat but lead cards (which come on their own)."""
    return [m for m in stack.telegram.chat(chat) if not is_card(m)]


def is_card(message: dict[str, Any]) -> bool:
    return str(message["text"]).startswith(("<b>Lead #", "<b>Заявка №"))


async def ask(stack: Stack, user: int, text: str, *, chat: int | None = None, **kw: Any) -> str:
    """The bot's answer to `text` (HTML as sent)."""
    where = chat if chat is not None else user
    before = len(answers(stack, where))
    stack.telegram.message_update(user, text, chat_id=chat, **kw)
    await eventually(lambda: len(answers(stack, where)) > before)
    return str(answers(stack, where)[-1]["text"])
