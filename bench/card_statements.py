"""How many SQL statements a lead's card costs, from the webhook to the card stored.

The whole service runs in this process (the e2e harness: intake over HTTP, the worker,
the loopback Telegram); every statement any engine executes is counted (a SQLAlchemy
listener on `Engine`, so SQLite's writer thread is counted too) while `--leads` leads come
in one after the other, each waited for until its card is stored. Run it in two
checkouts to compare them (a checkout without forum topics counts the plain chat only):

    PYTHONPATH=. .venv/bin/python bench/card_statements.py [--leads 20]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test]

It prints the statements per card's job handler (`CardNotifier.notify`: the group's card
and the admin's private one), for a plain group and for a forum topic (the topic is read
from the merged settings in memory: the same count is the point).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.notifier import CardNotifier  # noqa: E402
from config.chats import ChatAddress  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Card  # noqa: E402
from testkit.factories import new_client_lead_event  # noqa: E402
from tests.e2e.conftest import open_stack  # noqa: E402

FORUM, TOPIC = -1002000, 15
# The worker's claims, leases and rate buckets, the intake's, and this script's look at
# the cards stored, which run beside a card's handler.
_BESIDE = re.compile(
    r"rate_bucket|WITH RECURSIVE head|FROM jo|UPDATE job\b|inbox_event"
    r"|^SELECT card.lead_id\s+FROM card\s*$|^(BEGIN|COMMIT|ROLLBACK)",
    re.I | re.S,
)


class InCard:
    """How many card handlers (`CardNotifier.notify`) are running, and how many ran: the
    statements meanwhile are theirs, but for the worker's and the intake's beside them,
    which the count leaves out by their text (`_BESIDE`)."""

    running = 0
    cards = 0


def _counted(notify: Any) -> Any:
    async def wrapped(self: CardNotifier, **arguments: Any) -> None:
        InCard.running += 1
        InCard.cards += 1
        try:
            await notify(self, **arguments)
        finally:
            InCard.running -= 1

    return wrapped


@contextmanager
def counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, _p: Any, _ctx: Any, _m: bool) -> None:
        if InCard.running and not _BESIDE.search(statement):
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    notify = CardNotifier.notify
    CardNotifier.notify = _counted(notify)  # type: ignore[method-assign]
    try:
        yield statements
    finally:
        CardNotifier.notify = notify  # type: ignore[method-assign]
        event.remove(Engine, "before_cursor_execute", record)


async def stored_cards(database: Database) -> int:
    async with database.read() as session:
        return len((await session.exec(select(Card.lead_id))).all())


async def per_card(url: str, leads: int, *, topic: bool, verbose: bool) -> float:
    database = Database(url)
    await upgrade(database)
    options: dict[str, Any] = {}
    if topic:
        options["chats"] = (ChatAddress(FORUM, TOPIC),)
    try:
        async with open_stack(database, **options) as stack:
            if topic:
                stack.telegram.make_forum(FORUM, {TOPIC})
            # The first lead warms the caches (statements built once), uncounted.
            await one_lead(stack, 1000)
            InCard.cards = 0
            with counting() as statements:
                for number in range(1, leads + 1):
                    await one_lead(stack, 1000 + number)
            if verbose:
                for statement in statements[: len(statements) // InCard.cards]:
                    print("   ", " ".join(statement.split())[:110])
            return len(statements) / InCard.cards
    finally:
        await database.dispose()


async def one_lead(stack: Any, lead_id: int) -> None:
    before = await stored_cards(stack.database)
    await stack.post_lead(new_client_lead_event(lead_id))
    while await stored_cards(stack.database) == before:
        await asyncio.sleep(0.01)
    # Let the worker finish the job (the `done` of the card's job is counted too).
    await asyncio.sleep(0.2)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--verbose", action="store_true", help="print one card's statements")
    arguments = parser.parse_args()
    has_topics = "chats" in inspect.signature(open_stack).parameters
    for topic in (False, True) if has_topics else (False,):
        with tempfile.TemporaryDirectory() as directory:
            url = arguments.database_url or f"sqlite+aiosqlite:///{directory}/bench.db"
            count = await per_card(url, arguments.leads, topic=topic, verbose=arguments.verbose)
        where = "a forum topic" if topic else "a plain group"
        print(f"{where}: {count:.1f} statements per card (its job's handler)")


if __name__ == "__main__":
    asyncio.run(main())
