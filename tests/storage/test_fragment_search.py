"""A part of a name or an e-mail finds the same leads on SQLite and PostgreSQL: any case in
any script (Cyrillic, Greek, ß), `%`, `_` and `\\` taken as the characters they are. Both
databases are held to one rule, Python's `str.casefold` with `in`; PostgreSQL answers it
from its trigram indexes."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlmodel import select

from integrations.emails import normalize_email
from storage.database import Database
from storage.models import Lead
from storage.queries.browse import LeadSearch, list_leads
from storage.queries.leads import LeadSnapshot
from storage.queries.search import LeadQuery, find_leads
from tests.storage.test_leads import prepare, put

# flexbe_id: (client's name, e-mail)
LEADS = {
    1: ("Анна Иванова", "Anna.Ivanova@Example.RU"),
    2: ("АННА-МАРИЯ ПЕТРОВА", "anna_maria@mail.ru"),
    3: ("Алёна Ёлкина", "alena100%@shop.ru"),
    4: ("100% Окна_СПб", "okna@okna-spb.ru"),
    5: ("Bob Stone", "BOB@stone.com"),
    6: ("Hans Straße", "hans@strasse.de"),
    7: ("Back\\slash", "back\\slash@x.ru"),
    8: ("ΟΔΥΣΣΕΑΣ", "odysseas@example.gr"),
}

NAME_FRAGMENTS = [
    "анна",
    "АННА",
    "аННа",
    "иванова",
    "-мария",
    "ёлкин",
    "ЁЛКИНА",
    "елкина",  # е is not ё: no match on either database
    "100%",
    "%",
    "_",
    "Окна_",
    "ок_а",  # `_` is a character: "окна" does not match it
    "a%a",
    "\\",
    "k\\s",
    "STONE",
    "strasse",  # ß folds to ss
    "STRASSE",
    "οδυσσεας",  # the final sigma folds to σ
    "nobody",
    "а",
]
EMAIL_FRAGMENTS = [
    "ivanova@example",
    "@EXAMPLE.RU",
    "_maria",
    "a_m",
    "100%@",
    "%",
    "_",
    "@STONE",
    "\\slash@",
    "nobody@",
]


async def seed(database: Database) -> None:
    await prepare(database)
    for flexbe_id, (name, email) in LEADS.items():
        await put(
            database,
            LeadSnapshot(
                flexbe_id=flexbe_id,
                client_name=name,
                client_email=email,
                client_email_normalized=normalize_email(email),
            ),
        )


def expected(fragment: str, part: int) -> list[int]:
    """The rule both databases follow: newest first, the fragment in the folded text."""
    found = [n for n, texts in LEADS.items() if fragment.casefold() in texts[part].casefold()]
    return sorted(found, reverse=True)


async def console_finds(database: Database, search: LeadSearch) -> list[int]:
    async with database.read() as session:
        leads = await list_leads(session, limit=50, search=search)
    return [lead.flexbe_id for lead in leads]


async def bot_finds(database: Database, query: LeadQuery) -> list[int]:
    async with database.read() as session:
        leads = await find_leads(session, query=query, sites=[], limit=50)
    return [lead.flexbe_id for lead in leads]


async def test_a_part_of_a_name_finds_what_the_folding_rule_says(database: Database) -> None:
    await seed(database)

    for fragment in NAME_FRAGMENTS:
        want = expected(fragment, 0)
        assert await console_finds(database, LeadSearch(name=fragment)) == want, fragment
        assert await bot_finds(database, LeadQuery(name=fragment)) == want, fragment

    # The rule itself, spelled out where it matters most.
    assert expected("анна", 0) == expected("АННА", 0) == [2, 1]
    assert expected("ЁЛКИНА", 0) == [3] and expected("елкина", 0) == []
    assert expected("%", 0) == [4] and expected("ок_а", 0) == [] and expected("\\", 0) == [7]
    assert expected("strasse", 0) == [6] and expected("οδυσσεας", 0) == [8]


async def test_a_part_of_an_email_finds_what_the_folding_rule_says(database: Database) -> None:
    await seed(database)

    for fragment in EMAIL_FRAGMENTS:
        want = expected(fragment, 1)
        assert await console_finds(database, LeadSearch(email=fragment)) == want, fragment

    assert expected("@EXAMPLE.RU", 1) == [1]
    assert expected("_maria", 1) == [2] and expected("a_m", 1) == [2]
    assert expected("%", 1) == [3] and expected("_", 1) == [2]
    # A whole address, in any case, is one look-up of the address index.
    assert await console_finds(database, LeadSearch(email="ANNA.IVANOVA@example.ru")) == [1]
    assert await bot_finds(database, LeadQuery(email="bob@STONE.com")) == [5]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_postgresql_answers_a_part_from_the_trigram_indexes(database: Database) -> None:
    await seed(database)
    search = LeadSearch(name="иванов", email="ivanov")
    condition = search.condition()
    assert condition is not None
    query = select(Lead.id).where(condition)
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    compiled = query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})

    async with database.read() as session:
        connection = await session.connection()
        # Eight leads are read faster whole: the planner is told to show what it would use.
        await connection.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(row[0] for row in await connection.exec_driver_sql(f"EXPLAIN {compiled}"))

    assert "ix_lead_client_name_trgm" in plan, plan
    assert "ix_lead_client_email_trgm" in plan, plan
    assert await console_finds(database, search) == [1]
