"""Telegram says no: 429 storms, blocked chats, HTML it rejects."""

from __future__ import annotations

import pytest

from testkit.factories import pay_event
from tests.e2e.conftest import Stack, card_of, card_text, eventually
from tests.e2e.team import ADMIN, GROUP, MANAGER

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_429_storm_loses_nothing_and_keeps_each_chats_order(stack: Stack) -> None:
    stack.telegram.faults(rate_429=0.3, rate_5xx=0.05, retry_after=1, seed=7)
    numbers = list(range(501, 509))
    for num in numbers:
        await stack.new_lead(1000 + num)

    def all_delivered() -> bool:
        return all(
            card_of(stack.telegram, chat, num) for chat in (GROUP, MANAGER) for num in numbers
        )

    await eventually(all_delivered, timeout=40)
    for chat in (GROUP, MANAGER):
        cards = [m for m in stack.telegram.chat(chat) if "Lead #" in m["text"]]
        shown = [int(m["text"].split("Lead #", 1)[1].split("<", 1)[0]) for m in cards]
        assert shown == numbers, "cards arrive in the order the leads came"
        assert len(shown) == len(set(shown)), "no card twice"
    storms = [r for r in stack.telegram.retry_afters if r["method"] == "sendMessage"]
    assert storms, "the storm happened"
    for refusal in storms:
        later = [
            m["at"]
            for m in stack.telegram.sent
            if m["chat"]["id"] == refusal["chat_id"] and m["at"] > refusal["at"]
        ]
        if later:
            assert min(later) - refusal["at"] >= refusal["retry_after"] - 0.05, "retry_after kept"


async def test_blocked_chat_stops_and_the_admin_is_told(stack: Stack) -> None:
    stack.telegram.block_chat(MANAGER)

    await stack.new_lead(1415)
    await stack.new_lead(1416)

    def admin_told() -> bool:
        return any("no longer accepts messages" in m["text"] for m in stack.telegram.chat(ADMIN))

    await eventually(admin_told)
    await eventually(lambda: card_of(stack.telegram, GROUP, 416) is not None)
    tries = [
        c for c in stack.telegram.calls_of("sendMessage") if c.params["chat_id"] == str(MANAGER)
    ]
    assert len(tries) == 1, "after the 403 the chat is not tried again"
    alerts = [m for m in stack.telegram.chat(ADMIN) if "no longer accepts" in m["text"]]
    assert len(alerts) == 1


async def test_payment_edits_the_card_and_replies_to_it(stack: Stack) -> None:
    await stack.new_lead(1414)
    await eventually(lambda: card_of(stack.telegram, GROUP) is not None)
    card = card_of(stack.telegram, GROUP)
    assert card is not None

    response = await stack.webhook(pay_event(1414, summ="4990.00"))

    assert response.json()["status"] == "accepted"
    await eventually(lambda: "4990.00 — paid" in card_text(stack))
    await eventually(
        lambda: any(
            m["reply_to"] == card["message_id"] and "Paid: 4990.00" in m["text"]
            for m in stack.telegram.sent
            if m["chat"]["id"] == GROUP
        )
    )


async def test_card_rejected_as_html_is_sent_as_plain_text(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    stack.telegram.fail_next(
        "sendMessage",
        1,
        status=400,
        description="Bad Request: can't parse entities: Unsupported start tag at byte offset 0",
    )

    await stack.new_lead(1414)

    def plain_card() -> bool:
        # Whichever chat's card met the refusal (the chats' queues run side by side).
        return any(
            ("Lead #414" in m["text"] or "Заявка №414" in m["text"]) and m["parse_mode"] is None
            for m in stack.telegram.sent
        )

    await eventually(plain_card)
    assert "Telegram rejected the card HTML" in caplog.text
