"""`/find`: by phone in any format, e-mail, name, number; a list whose buttons post the card;
bad queries answered with what to type, in English and Russian."""

from __future__ import annotations

import pytest

from storage.queries.leads import LeadSnapshot
from tests.e2e.conftest import Stack, buttons, card_of, eventually
from tests.e2e.lists import answers, ask, put_leads
from tests.e2e.team import GROUP, MANAGER, RUSSIAN

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def seed(stack: Stack) -> None:
    await put_leads(
        stack.database,
        [
            LeadSnapshot(
                flexbe_id=501,
                num=501,
                client_name="Анна Smith",
                client_phone="8 (912) 345-67-89",
                client_phone_normalized="+79123456789",
                client_email="Anna@Example.ru",
                client_email_normalized="anna@example.ru",
            ),
            LeadSnapshot(
                flexbe_id=502,
                num=502,
                client_name="Борис <b>",
                client_phone="+7 999 000-11-22",
                client_phone_normalized="+79990001122",
            ),
        ],
    )


@pytest.mark.parametrize(
    "query",
    ["+7 912 345 67 89", "89123456789", "8(912)345-67-89", "+79123456789", "9123456789"],
)
async def test_a_phone_in_any_format_finds_the_lead(stack: Stack, query: str) -> None:
    await seed(stack)

    answer = await ask(stack, MANAGER, f"/find {query}")

    assert "Found for" in answer and "#501" in answer and "#502" not in answer


async def test_email_name_and_number_find_and_the_button_posts_the_card(stack: Stack) -> None:
    await seed(stack)

    assert "#501" in await ask(stack, MANAGER, "/find anna@example.RU")
    assert "#501" in await ask(stack, MANAGER, "/find анна")
    assert "#501" in await ask(stack, MANAGER, "/find smi")
    by_number = await ask(stack, MANAGER, "/find #502", chat=GROUP)
    listing = answers(stack, GROUP)[-1]
    assert "#502" in by_number and "&lt;b&gt;" in by_number
    assert "Борис <b>" in listing["plain"], "escaped, shown as typed"

    stack.telegram.callback_update(MANAGER, GROUP, listing["message_id"], buttons(listing)["#502"])
    await eventually(lambda: card_of(stack.telegram, GROUP, 502) is not None)


async def test_wildcards_are_taken_literally(stack: Stack) -> None:
    await seed(stack)
    assert "Nothing found for %%" in await ask(stack, MANAGER, "/find %%")
    assert "Nothing found" in await ask(stack, MANAGER, "/find __")


async def test_bad_queries_say_what_to_type_in_both_languages(stack: Stack) -> None:
    await seed(stack)
    assert "Use /find and a phone" in await ask(stack, MANAGER, "/find")
    assert "up to 100 characters" in await ask(stack, MANAGER, "/find " + "x" * 4000)
    assert "not a phone number I can read" in await ask(stack, MANAGER, "/find 12-34")
    assert "not an e-mail address" in await ask(stack, MANAGER, "/find a@b@c")
    assert "Напишите /find" in await ask(stack, RUSSIAN, "/find", language_code="ru")
    assert "Не могу прочитать номер" in await ask(
        stack, RUSSIAN, "/find +1 (2)", language_code="ru"
    )
    assert "Найдено по запросу" in await ask(stack, RUSSIAN, "/find Анна", language_code="ru")


async def test_find_in_an_unrelated_group_shows_nothing(stack: Stack) -> None:
    await seed(stack)
    answer = await ask(stack, MANAGER, "/find анна", chat=-1009999)
    assert "This chat gets no leads" in answer and "Анна" not in answer


async def test_more_than_ten_matches_are_bounded_and_said(stack: Stack) -> None:
    await put_leads(
        stack.database,
        [LeadSnapshot(flexbe_id=600 + i, num=600 + i, client_name=f"Ольга {i}") for i in range(12)],
    )
    answer = await ask(stack, MANAGER, "/find ольга")
    assert "#611" in answer and "#600" not in answer and "More than 10 match" in answer
    assert len(buttons(answers(stack, MANAGER)[-1])) == 10
