"""The managers on the Sites page: who is on shift now, away and back, their own hours and
their weight, each set as `/away` and `/back` set it, and bad input refused in words with
nothing saved."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import httpx

from storage.clock import utcnow
from storage.database import Database
from storage.models import Manager
from tests.console.conftest import post_form

SITES = "/admin/sites"
MAX = 901
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_PROBLEM = re.compile(r'id="problem">([^<]+)<')
_NOTICE = re.compile(r'id="notice">([^<]+)<')


async def joined(database: Database) -> None:
    async with database.write() as session:
        session.add(Manager(telegram_id=MAX, name="Max"))


async def stored(database: Database) -> Manager:
    async with database.read() as session:
        manager = await session.get(Manager, MAX)
    assert manager is not None
    return manager


def shift_of(page: httpx.Response) -> str:
    cell = page.text.split(f'id="manager-{MAX}"')[1].split('class="shift">')[1].split("<")[0]
    return cell.strip()


async def posted(
    admin: httpx.AsyncClient, change: str, data: dict[str, str] | None = None
) -> httpx.Response:
    return await post_form(admin, SITES, f"/admin/managers/{MAX}/{change}", data)


async def notice(admin: httpx.AsyncClient, change: str, data: dict[str, str] | None = None) -> str:
    response = await posted(admin, change, data)
    assert response.status_code == 303, response.text[:500]
    found = _NOTICE.search((await admin.get(SITES)).text)
    assert found
    return html.unescape(found.group(1))


def problem_of(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text[:500]
    found = _PROBLEM.search(response.text)
    assert found, response.text[:2000]
    return html.unescape(found.group(1))


async def test_a_manager_is_set_away_until_a_day_and_back(
    admin: httpx.AsyncClient, database: Database
) -> None:
    await joined(database)
    assert shift_of(await admin.get(SITES)) == "on shift"
    day = (utcnow() + timedelta(days=5)).date()
    typed = day.strftime("%d.%m.%Y")
    assert await notice(admin, "away", {"until": typed}) == f"Max is away until {typed} 00:00."
    max_ = await stored(database)
    assert max_.away_from is not None and max_.away_until is not None
    # The same rows as `/away until <day>`: back at the start of that day, in UTC here.
    assert max_.away_until.astimezone(UTC) == datetime(day.year, day.month, day.day, tzinfo=UTC)
    assert shift_of(await admin.get(SITES)) == f"away until {typed} 00:00"
    assert 'id="back-901"' in (await admin.get(SITES)).text

    assert await notice(admin, "back") == "Max is back."
    max_ = await stored(database)
    assert max_.away_from is None and max_.away_until is None
    assert shift_of(await admin.get(SITES)) == "on shift"


async def test_away_until_they_come_back_and_for_a_while(
    admin: httpx.AsyncClient, database: Database
) -> None:
    await joined(database)
    assert await notice(admin, "away", {"until": ""}) == "Max is away until they come back."
    assert (await stored(database)).away_until is None
    assert shift_of(await admin.get(SITES)) == "away until back"
    await notice(admin, "away", {"until": "3d"})
    max_ = await stored(database)
    assert max_.away_until is not None and max_.away_from is not None
    assert max_.away_until - max_.away_from == timedelta(days=3)
    # A day as a date field posts it.
    day = (utcnow() + timedelta(days=2)).date()
    await notice(admin, "away", {"until": day.isoformat()})
    assert (await stored(database)).away_until.astimezone(UTC).date() == day  # type: ignore[union-attr]


async def test_a_bad_away_is_refused_in_words_and_nothing_saved(
    admin: httpx.AsyncClient, database: Database
) -> None:
    await joined(database)
    yesterday = (utcnow() - timedelta(days=1)).strftime("%d.%m.%Y")
    refusals = {
        yesterday: "That day has passed: write a day from tomorrow on, e.g. 14.12.",
        "soon": "Write the day they are back (14.12 or 14.12.2027)",
        "31.02": "Write the day they are back",
        "400d": "At most a year away: for longer, disable the manager.",
        "x" * 41: "Away until is too long: at most 40 characters.",
    }
    for typed, sentence in refusals.items():
        assert sentence in problem_of(await posted(admin, "away", {"until": typed}))
    max_ = await stored(database)
    assert max_.away_from is None and max_.away_until is None
    assert shift_of(await admin.get(SITES)) == "on shift"


async def test_own_hours_are_set_and_shown_off_shift(
    admin: httpx.AsyncClient, database: Database
) -> None:
    await joined(database)
    other = WEEKDAYS[(utcnow().weekday() + 1) % 7]
    hours = f"{other} 00:00-24:00"
    assert await notice(admin, "hours", {"working_hours": hours}) == f"Max works {hours}."
    assert (await stored(database)).working_hours == hours
    page = await admin.get(SITES)
    assert shift_of(page) == "off shift"
    assert f'value="{hours}"' in page.text.split('id="manager-901"')[1]

    today = WEEKDAYS[utcnow().weekday()]
    await notice(admin, "hours", {"working_hours": f"{today} 00:00-24:00"})
    assert shift_of(await admin.get(SITES)) == "on shift"
    assert await notice(admin, "hours", {"working_hours": ""}) == "Max works their site's hours."
    assert (await stored(database)).working_hours is None


async def test_bad_hours_are_refused_in_words_and_nothing_saved(
    admin: httpx.AsyncClient, database: Database
) -> None:
    await joined(database)
    await notice(admin, "hours", {"working_hours": "Mon-Fri 09:00-18:00"})
    for typed in ("whenever", "Mon 18:00-09:00", "Mon 09:00-12:00, Mon 11:00-14:00"):
        problem = problem_of(await posted(admin, "hours", {"working_hours": typed}))
        assert problem.startswith("Working hours: "), problem
    assert "at most 500 characters" in problem_of(
        await posted(admin, "hours", {"working_hours": "Mon 09:00-18:00, " * 40})
    )
    assert (await stored(database)).working_hours == "Mon-Fri 09:00-18:00"


async def test_a_weight_is_set_and_bad_ones_refused(
    admin: httpx.AsyncClient, database: Database
) -> None:
    await joined(database)
    assert 'name="weight" min="1" max="10" value="1"' in (await admin.get(SITES)).text
    assert await notice(admin, "weight", {"weight": "2"}) == "Max has the weight 2."
    assert (await stored(database)).weight == 2
    assert 'value="2"' in (await admin.get(SITES)).text.split('id="manager-901"')[1]
    for typed in ("0", "-1", "11", "two", "1.5", ""):
        problem = problem_of(await posted(admin, "weight", {"weight": typed}))
        assert problem == "Weight must be a whole number from 1 to 10.", problem
    assert (await stored(database)).weight == 2


async def test_changes_need_the_pages_csrf_and_a_member(
    admin: httpx.AsyncClient, database: Database
) -> None:
    await joined(database)
    for change, data in (("away", {"until": "3d"}), ("weight", {"weight": "3"})):
        response = await admin.post(f"/admin/managers/{MAX}/{change}", data=data)
        assert response.status_code in (400, 403), response.status_code
    max_ = await stored(database)
    assert max_.away_from is None and max_.weight == 1
    for change, data in (
        ("away", {"until": ""}),
        ("back", {}),
        ("hours", {"working_hours": ""}),
        ("weight", {"weight": "2"}),
    ):
        await post_form(admin, SITES, f"/admin/managers/999/{change}", data)
        assert _NOTICE.search((await admin.get(SITES)).text).group(1) == "No such manager."  # type: ignore[union-attr]
