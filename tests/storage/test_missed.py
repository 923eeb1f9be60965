"""The leads a chat missed while the bot could not write there: those of its sites received
since the block began (a little before, for a card the block held back), with no card and
no summary line in that chat, oldest first; unblocking says when the block began, once."""

from __future__ import annotations

from datetime import timedelta

from storage.clock import utcnow
from storage.database import Database
from storage.models import Card, Lead, ListedLead
from storage.queries.cards import is_blocked, mark_blocked
from storage.queries.missed import BLOCK_SLACK, blocked_at, missed_leads, unblock_chat
from storage.queries.sites import ensure_sites

CHAT, OTHER_CHAT = -1001000, -1002000


def _id(lead: Lead) -> int:
    assert lead.id is not None
    return lead.id


async def test_the_missed_leads_of_a_chat_since_its_block(database: Database) -> None:
    now = utcnow()
    async with database.write() as session:
        await ensure_sites(session, [("okna", "Окна"), ("dveri", "Двери")])
        await mark_blocked(session, CHAT, "bot kicked")
        since = await blocked_at(session, chat_id=CHAT)
        assert since is not None
        received = {
            "long before": now - BLOCK_SLACK - timedelta(minutes=1),
            "just before": now - BLOCK_SLACK + timedelta(minutes=1),
            "carded": now + timedelta(seconds=1),
            "listed": now + timedelta(seconds=2),
            "carded elsewhere": now + timedelta(seconds=3),
            "other site": now + timedelta(seconds=4),
            "missed": now + timedelta(seconds=5),
        }
        leads = {}
        for number, (name, at) in enumerate(received.items(), start=1):
            site = "dveri" if name == "other site" else "okna"
            leads[name] = Lead(site_key=site, flexbe_id=number, received_at=at)
            session.add(leads[name])
        await session.flush()
        ids = {name: _id(lead) for name, lead in leads.items()}
        session.add(Card(lead_id=ids["carded"], chat_id=CHAT, message_id=1))
        session.add(ListedLead(lead_id=ids["listed"], chat_id=CHAT, message_id=2))
        session.add(Card(lead_id=ids["carded elsewhere"], chat_id=OTHER_CHAT, message_id=3))

    async with database.read() as session:
        found = await missed_leads(session, chat_id=CHAT, site_keys={"okna"}, since=since, limit=10)
        first = await missed_leads(session, chat_id=CHAT, site_keys=["okna"], since=since, limit=1)
        nothing = await missed_leads(session, chat_id=CHAT, site_keys=(), since=since, limit=10)

    assert found == [ids["just before"], ids["carded elsewhere"], ids["missed"]]
    assert first == [ids["just before"]]
    assert nothing == []


async def test_unblocking_says_when_the_block_began_once(database: Database) -> None:
    async with database.write() as session:
        assert await unblock_chat(session, chat_id=CHAT) is None, "never blocked"
        await mark_blocked(session, CHAT, "bot kicked")
        began = await blocked_at(session, chat_id=CHAT)

    async with database.write() as session:
        assert await unblock_chat(session, chat_id=CHAT) == began
        assert await unblock_chat(session, chat_id=CHAT) is None, "a repeat finds nothing"
        assert not await is_blocked(session, CHAT)
        assert await blocked_at(session, chat_id=CHAT) is None
