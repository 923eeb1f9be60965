"""Speed to lead, recorded by what managers do: the card delivered marks the lead seen, a
take owned, a status tap its first action, a call its first call; each moment once, never
moved by what follows; `/stats` shows the figures, working time only, in each language."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from sqlmodel import col, select

from storage.clock import utcnow
from storage.models import Lead
from testkit.factories import lead_event
from tests.e2e.conftest import Stack, card_of, eventually, last_text, tap
from tests.e2e.team import GROUP, MANAGER, RUSSIAN


async def the_lead(stack: Stack) -> Lead:
    async with stack.database.read() as session:
        return (await session.exec(select(Lead).where(col(Lead.flexbe_id) == 1414))).one()


async def moment(stack: Stack, name: str) -> datetime | None:
    value: datetime | None = getattr(await the_lead(stack), name)
    return value


async def settled(stack: Stack, name: str) -> datetime:
    """The moment, once it is recorded (polled as `eventually` polls)."""
    deadline = asyncio.get_running_loop().time() + 10
    while (value := await moment(stack, name)) is None:
        assert asyncio.get_running_loop().time() < deadline, f"{name} was never recorded"
        await asyncio.sleep(0.02)
    return value


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_moments_recorded_by_real_taps_and_shown_in_stats(stack: Stack) -> None:
    # Come in now, so that `/stats week` counts it (Flexbe's time of the lead).
    await stack.new_card(event=lead_event(1414, time=int(utcnow().timestamp())))
    lead = await the_lead(stack)
    seen = await settled(stack, "first_seen_at")
    assert lead.received_at <= seen
    assert lead.first_owned_at is None and lead.first_action_at is None

    # Taking it owns it: that is no action yet.
    answer = await tap(stack, "✋ Take")
    assert answer["text"] == "The lead is yours.", answer
    owned = await settled(stack, "first_owned_at")
    assert seen <= owned and await moment(stack, "first_action_at") is None

    # A status is the first action; a call then is the first call, not a new first action.
    await tap(stack, "Processed")
    acted = await settled(stack, "first_action_at")
    assert owned <= acted and await moment(stack, "first_call_at") is None
    await eventually(lambda: "📞 Call now" in str(card_of(stack.telegram, GROUP)))
    await tap(stack, "📞 Call now")
    called = await settled(stack, "first_call_at")
    assert acted <= called

    # Set once each: the cards sent again and the moments stay as they were.
    after = await the_lead(stack)
    assert (after.first_seen_at, after.first_owned_at, after.first_action_at) == (
        seen,
        owned,
        acted,
    )

    stack.telegram.message_update(MANAGER, "/stats week")
    await eventually(lambda: "Speed to first action" in last_text(stack, MANAGER))
    stats = last_text(stack, MANAGER)
    assert "(working time only)" in stats
    assert "By manager:" in stats and "• Max: leads 1 · median " in stats
    assert "100% in 5 min" in stats, stats
    assert "By source:" in stats and "By form:" in stats

    stack.telegram.message_update(RUSSIAN, "/stats week", language_code="ru")
    await eventually(lambda: "Скорость до первого действия" in last_text(stack, RUSSIAN))
    assert "только рабочее время" in last_text(stack, RUSSIAN)
