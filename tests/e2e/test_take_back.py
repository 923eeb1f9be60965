"""A lead someone took, or was given, and then did nothing on goes back to the pool after
the site's `take_back_after` (working time), on the worker's simulated clock: the card says
so and offers Take again, the former owner and each admin are told once. Any action of the
owner cancels it; each taking has its own wait."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from domain.jobs import TAKE_BACK, TAKE_BACK_MESSAGE
from domain.owners import TAKE
from domain.owners import TAKE_BACK as TAKEN_BACK
from jobs import signals
from storage.clock import utcnow
from storage.database import Database
from storage.models import Action, Lead
from tests.e2e.conftest import (
    AheadClock,
    Stack,
    buttons,
    card_of,
    card_text,
    eventually,
    open_stack,
    tap,
)
from tests.e2e.team import ADMIN, GROUP, MANAGER, RUSSIAN
from tests.e2e.test_owners import open_assign_list
from tests.e2e.test_owners import tap as tap_by
from tests.e2e.test_sla import jobs_of, lead_with_card, settle, still_waiting

WAIT = {"sla_take_back_after": "30m"}
TAKEN_BACK_LINE = "Taken back from Max after 30 min without action"
NOTICE = "↩️"


@contextlib.asynccontextmanager
async def take_back_stack(
    database: Database, clock: AheadClock, **options: Any
) -> AsyncIterator[Stack]:
    # Иван is an admin too: each admin is told, in their language.
    async with open_stack(
        database, admins=(ADMIN, RUSSIAN), clock=clock, options={**WAIT, **options}
    ) as stack:
        yield stack


def notices(stack: Stack, chat: int) -> list[str]:
    return [m["text"] for m in stack.telegram.chat(chat) if m["text"].startswith(NOTICE)]


async def owner(stack: Stack) -> int | None:
    async with stack.database.read() as session:
        lead = (await session.exec(select(Lead).where(col(Lead.flexbe_id) == 1414))).one()
        return lead.taken_by


async def actions_of(stack: Stack, kind: str) -> list[Action]:
    async with stack.database.read() as session:
        rows = await session.exec(select(Action).where(col(Action.kind) == kind))
        return list(rows.all())


async def max_takes_it(stack: Stack) -> None:
    assert (await tap(stack, "✋ Take"))["text"] == "The lead is yours."
    await eventually(lambda: "Taken by Max" in card_text(stack))


async def run_timers(stack: Stack) -> None:
    await settle(stack, TAKE_BACK.name, TAKE_BACK_MESSAGE.name)


async def taken_back_and_told(stack: Stack, *, in_private: bool = True) -> None:
    """The lead is back in the pool: the card says so and offers Take; Max and each admin
    were told, once (`in_private`: Иван has the card in private, in Russian; not when the
    lead came in off shift)."""
    signals.notify_enqueued()
    await eventually(lambda: TAKEN_BACK_LINE in card_text(stack))
    assert "Taken by" not in card_text(stack)
    assert "✋ Take" in buttons(card_of(stack.telegram, GROUP) or {}), "Take is offered again"
    assert await owner(stack) is None
    if in_private:
        await eventually(
            lambda: "Снята с Max после 30 мин без действий" in card_text(stack, RUSSIAN)
        )
    await eventually(lambda: bool(notices(stack, MANAGER) and notices(stack, ADMIN)))
    await eventually(lambda: bool(notices(stack, RUSSIAN)))
    await run_timers(stack)
    assert notices(stack, MANAGER) == [
        "↩️ Lead #414 of Окна СПб went back to the pool: nothing was done on it for 30 min "
        "after you took it. Anyone can take it now."
    ]
    assert notices(stack, ADMIN) == [
        "↩️ Lead #414 of Окна СПб was taken back from Max after 30 min without action."
    ]
    assert notices(stack, RUSSIAN) == [
        "↩️ Заявку #414 (Окна СПб) вернули в общий доступ: Max ничего не сделал(а) с ней за 30 мин."
    ]
    assert len(await actions_of(stack, TAKEN_BACK)) == 1


async def test_a_lead_the_taker_does_nothing_on_goes_back_to_the_pool(
    database: Database,
) -> None:
    clock = AheadClock()
    async with take_back_stack(database, clock) as stack:
        await lead_with_card(stack)
        await max_takes_it(stack)

        clock.advance(29 * 60)
        signals.notify_enqueued()
        assert await still_waiting(database, TAKE_BACK.name)
        assert await owner(stack) == MANAGER

        clock.advance(2 * 60)
        await taken_back_and_told(stack)

        # Hours later, the timer's retries aside: still told once, taken back once.
        clock.advance(3 * 3600)
        await run_timers(stack)
        assert len(notices(stack, ADMIN)) == 1 and len(notices(stack, MANAGER)) == 1
        assert len(await actions_of(stack, TAKEN_BACK)) == 1

        # Anyone may take it again: Иван does, from the group's card.
        assert (await tap(stack, "✋ Take", user=RUSSIAN))["text"]
        await eventually(lambda: "Taken by Иван" in card_text(stack))


async def test_an_action_of_the_owner_cancels_it(database: Database) -> None:
    clock = AheadClock()
    async with take_back_stack(database, clock) as stack:
        await lead_with_card(stack)
        await max_takes_it(stack)
        await tap(stack, "Processed")
        await eventually(lambda: bool(stack.flexbe.calls("changeLead")))

        clock.advance(31 * 60)
        await run_timers(stack)

        assert await owner(stack) == MANAGER
        assert TAKEN_BACK_LINE not in card_text(stack)
        assert notices(stack, MANAGER) == [] and notices(stack, ADMIN) == []
        assert await actions_of(stack, TAKEN_BACK) == []


async def test_an_action_of_someone_else_does_not(database: Database) -> None:
    clock = AheadClock()
    async with take_back_stack(database, clock) as stack:
        await lead_with_card(stack)
        await max_takes_it(stack)
        # Иван (not the owner) marks it processed: Max still did nothing on it.
        await tap(stack, "Processed", user=RUSSIAN)
        await eventually(lambda: bool(stack.flexbe.calls("changeLead")))

        clock.advance(31 * 60)
        await taken_back_and_told(stack)


async def test_each_taking_has_its_own_wait(database: Database) -> None:
    clock = AheadClock()
    async with take_back_stack(database, clock) as stack:
        await lead_with_card(stack)
        await max_takes_it(stack)
        assert (await tap(stack, "↩️ Release"))["text"] == "Released: anyone can take it."
        await eventually(lambda: "Max released the lead" in card_text(stack))
        await max_takes_it(stack)

        # Two takings, two waits, each counted from its own taking.
        first, second = await jobs_of(database, TAKE_BACK.name)
        takes = sorted(await actions_of(stack, TAKE), key=lambda a: a.id or 0)
        assert [first.dedupe_key, second.dedupe_key] == [
            f"take_back:{takes[0].lead_id}:{takes[0].id}",
            f"take_back:{takes[1].lead_id}:{takes[1].id}",
        ]
        assert second.run_at == takes[1].requested_at + timedelta(minutes=30)

        clock.advance(31 * 60)
        # The first wait finds the lead released and taken again since: it does nothing;
        # the second takes it back, once.
        await taken_back_and_told(stack)
        first, second = await jobs_of(database, TAKE_BACK.name)
        assert first.status == second.status == "done"


async def test_an_assigned_lead_is_taken_back_too(database: Database) -> None:
    clock = AheadClock()
    async with take_back_stack(database, clock) as stack:
        await lead_with_card(stack)
        await open_assign_list(stack)
        assert (await tap_by(stack, ADMIN, GROUP, "Max"))["text"] == "Assigned to Max."
        await eventually(lambda: "Assigned to Max by Ada" in card_text(stack))

        clock.advance(29 * 60)
        signals.notify_enqueued()
        assert await still_waiting(database, TAKE_BACK.name)

        clock.advance(2 * 60)
        await taken_back_and_told(stack)
        assert "Assigned to Max by" not in card_text(stack)


async def test_the_wait_counts_working_time_only(database: Database) -> None:
    """A lead taken after hours (a Friday evening) is taken back 30 working minutes into
    the next working day (the Monday), not 30 minutes later."""
    tomorrow = (utcnow() + timedelta(days=1)).date()
    only_tomorrow = f"{tomorrow.strftime('%a')} 09:00-19:00"
    clock = AheadClock()
    async with take_back_stack(
        database, clock, working_hours=only_tomorrow, timezone="UTC"
    ) as stack:
        await lead_with_card(stack)
        await max_takes_it(stack)
        opens = datetime.combine(tomorrow, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)

        (timer,) = await jobs_of(database, TAKE_BACK.name)
        assert timer.run_at == opens + timedelta(minutes=30)

        clock.advance(60 * 60)
        signals.notify_enqueued()
        assert await still_waiting(database, TAKE_BACK.name), "an hour off work is no wait"
        clock.to(opens + timedelta(minutes=29))
        signals.notify_enqueued()
        assert await still_waiting(database, TAKE_BACK.name)
        assert await owner(stack) == MANAGER

        clock.to(opens + timedelta(minutes=31))
        await taken_back_and_told(stack, in_private=False)
