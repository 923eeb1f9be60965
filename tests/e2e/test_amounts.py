"""Absurd payment amounts over real HTTP: stored as sent, shown on the card, left out of
`/stats` sums, and a 5CRM deal made without a sum."""

from __future__ import annotations

import html

import pytest
from sqlmodel import col, select

from storage.clock import utcnow
from storage.models import Lead
from testkit.factories import pay_event
from tests.e2e.conftest import Stack, buttons, card_of, card_text, eventually, more_of
from tests.e2e.team import GROUP, MANAGER

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ABSURD = ["1e999999999", "NaN", "Infinity", "-0", "1" * 30, "<b>12</b> & co"]
SANE = ["4990.00", "1 500,50"]


def text_with(stack: Stack, chat: int, marker: str) -> str:
    """The chat's latest message that holds `marker`: its private cards may arrive after it."""
    found = [m["text"] for m in stack.telegram.chat(chat) if marker in m.get("text", "")]
    return found[-1] if found else ""


async def test_absurd_amounts_are_kept_shown_and_left_out(stack: Stack) -> None:
    now = int(utcnow().timestamp())
    sent = [*ABSURD, *SANE]
    for number, summ in enumerate(sent, start=1):
        event = pay_event(3000 + number, summ=summ)
        event["data"]["time"] = str(now - 60)
        event["data"]["pay"]["time_done"] = str(now - 30)  # /stats counts it by this date
        response = await stack.webhook(event)
        assert response.status_code == 200, response.text

    async with stack.database.read() as session:
        stored = (await session.exec(select(Lead).order_by(col(Lead.flexbe_id)))).all()
    assert [lead.pay_summ for lead in stored] == sent, "stored as received"

    await eventually(
        lambda: all(card_of(stack.telegram, GROUP, n) for n in range(1, len(sent) + 1))
    )
    for number, summ in enumerate(sent, start=1):
        card = card_of(stack.telegram, GROUP, number)
        assert card is not None
        assert f"💳 {html.escape(summ)} — paid" in card["text"], card["text"]

    stack.telegram.message_update(MANAGER, "/stats week")
    await eventually(lambda: bool(text_with(stack, MANAGER, "Stats: week")))
    stats = text_with(stack, MANAGER, "Stats: week")
    assert f"Paid in the period: {len(sent)}, total 6 490.50" in stats
    assert f"Left out of the total, amount not a number: {len(ABSURD)}" in stats

    card = await more_of(stack, GROUP, num=1)  # 1e999999999
    stack.telegram.callback_update(
        MANAGER, GROUP, card["message_id"], buttons(card)["📇 5CRM deal"]
    )
    sane = await more_of(stack, GROUP, num=len(ABSURD) + 1)  # 4990.00
    stack.telegram.callback_update(
        MANAGER, GROUP, sane["message_id"], buttons(sane)["📇 5CRM deal"]
    )

    await eventually(lambda: len(stack.crm5.calls("public/deal/add")) == 2)
    await eventually(
        lambda: all("5CRM deal: done" in card_text(stack, GROUP, n) for n in (1, len(ABSURD) + 1))
    )
    deals = {call.fields.get("name"): call.fields for call in stack.crm5.calls("public/deal/add")}
    assert len(deals) == 2
    sums = sorted(str(fields.get("sum")) for fields in deals.values())
    assert sums == ["4990", "None"], "the absurd amount leaves `sum` out; the deal is made"
