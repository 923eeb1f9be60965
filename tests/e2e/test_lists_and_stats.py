"""`/leads` paged in place, `/leads mine` and `/leads <site>`; `/stats` with its numbers
and its chart (a PNG through `sendPhoto`); bad input; in English and Russian."""

from __future__ import annotations

import struct
from datetime import timedelta

import pytest

from storage.clock import utcnow
from storage.queries.leads import LeadSnapshot
from tests.e2e.conftest import Stack, buttons, eventually
from tests.e2e.lists import answers, ask, put_leads, set_taken
from tests.e2e.team import ADMIN, GROUP, MANAGER, RUSSIAN

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_a_long_list_is_paged_in_place_and_nothing_is_cut(stack: Stack) -> None:
    now = utcnow()
    await put_leads(
        stack.database,
        [
            LeadSnapshot(flexbe_id=700 + i, num=700 + i, client_name=f"Клиент {i}", created_at=now)
            for i in range(23)
        ],
    )

    first = await ask(stack, MANAGER, "/leads today", chat=GROUP)
    assert "1–10 of 23" in first and "#722" in first and "#713" in first
    listing = answers(stack, GROUP)[-1]  # the message as it is now: edits show in it
    key = listing["message_id"]
    seen: list[str] = []
    for expected in ("11–20 of 23", "21–23 of 23"):
        seen += [t for t in buttons(listing) if t.startswith("#")]
        stack.telegram.callback_update(MANAGER, GROUP, key, buttons(listing)["Older »"])
        await eventually(lambda e=expected: e in listing["text"])  # type: ignore[misc]
    seen += [t for t in buttons(listing) if t.startswith("#")]
    assert sorted(seen) == sorted(f"#{700 + i}" for i in range(23)), "every lead, once"
    assert "Older »" not in buttons(listing)

    stack.telegram.callback_update(MANAGER, GROUP, key, buttons(listing)["« Newer"])
    await eventually(lambda: "11–20 of 23" in listing["text"])
    assert len(answers(stack, GROUP)) == 1, "the page turned in place, no new message"

    russian = await ask(stack, RUSSIAN, "/leads today", language_code="ru")
    assert "1–10 из 23" in russian
    assert "Старше »" in buttons(answers(stack, RUSSIAN)[-1])


async def test_mine_and_a_site_and_bad_words(stack: Stack) -> None:
    now = utcnow()
    ids = await put_leads(
        stack.database,
        [LeadSnapshot(flexbe_id=800 + i, num=800 + i, created_at=now) for i in range(3)],
    )
    await set_taken(stack.database, ids[1], by=MANAGER, name="Max", at=now)

    mine = await ask(stack, MANAGER, "/leads week mine")
    assert "#801" in mine and "#800" not in mine and "1–1 of 1" in mine
    assert "#802" in await ask(stack, MANAGER, "/leads okna")
    assert "Unknown period or site: nosuch." in await ask(stack, MANAGER, "/leads nosuch")
    assert "Sites here: okna" in answers(stack, MANAGER)[-1]["text"]
    assert "Неизвестный период или сайт" in await ask(
        stack, RUSSIAN, "/leads вчера", language_code="ru"
    )
    assert "Use /leads" in await ask(stack, MANAGER, "/leads " + "w" * 4000)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "a PNG"
    return struct.unpack(">II", data[16:24])


async def test_stats_by_status_site_manager_and_payment_date_with_a_chart(stack: Stack) -> None:
    now = utcnow()
    week_ago = now - timedelta(days=10)
    ids = await put_leads(
        stack.database,
        [
            LeadSnapshot(flexbe_id=901, num=901, created_at=now - timedelta(hours=1)),
            LeadSnapshot(
                flexbe_id=902, num=902, created_at=now - timedelta(hours=1), status_code=2
            ),
            # Created long before the period, paid in it: counted by its payment date.
            LeadSnapshot(
                flexbe_id=903,
                num=903,
                created_at=week_ago,
                pay_summ="4990.00",
                pay_status_code=2,
                pay_time_done=now - timedelta(minutes=5),
            ),
        ],
    )
    await set_taken(stack.database, ids[0], by=MANAGER, name="Max", at=now - timedelta(minutes=50))
    await set_taken(stack.database, ids[2], by=MANAGER, name="Max", at=week_ago)

    text = await ask(stack, MANAGER, "/stats today")
    assert "Leads: 2" in text and "New: 1" in text and "Fulfilled: 1" in text
    assert "Paid in the period: 1, total 4 990" in text
    assert "Max: 1 taken, 10.0 min, 1 paid (4 990" in text
    assert "The chart follows." in text
    await eventually(lambda: len(stack.telegram.photos) == 1, timeout=60)
    photo = stack.telegram.photos[0]
    assert photo["chat_id"] == MANAGER and "today" in photo["caption"]
    width, height = png_size(photo["data"])
    assert (width, height) == (900, 500) and 5_000 < len(photo["data"]) < 500_000

    russian = await ask(stack, RUSSIAN, "/stats week okna", language_code="ru")
    assert "Заявок: 2" in russian and "Оплачено за период: 1" in russian
    await eventually(lambda: len(stack.telegram.photos) == 2, timeout=60)
    assert stack.telegram.photos[1]["caption"].startswith("Заявки по дням")
    png_size(stack.telegram.photos[1]["data"])


async def test_stats_bad_input_and_an_empty_period(stack: Stack) -> None:
    assert "Use /stats [today|yesterday|week|month] [site]" in await ask(
        stack, MANAGER, "/stats forever"
    )
    assert "Используйте /stats" in await ask(stack, RUSSIAN, "/stats x" * 500, language_code="ru")
    empty = await ask(stack, ADMIN, "/stats yesterday")
    assert "Leads: 0" in empty and "chart" not in empty
    assert stack.telegram.photos == []
