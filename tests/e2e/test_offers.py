"""Leads offered in turn (`offer:2m`): to one manager on shift at a time, in their private
chat with Accept and Pass; Accept makes the lead theirs, Pass or the window's end (on the
worker's simulated clock) offers it to the next, and after everyone had it the group's
card opens it to anyone and the admins are told. The group's card says to whom it is
offered and how long is left; late and forged answers change nothing. Over HTTP, against
the loopback fakes, on both databases."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import col, select

from domain.jobs import OFFER_EXPIRE, OFFER_NEXT, TAKE_BACK
from domain.offers import OFFER_ACCEPT, OfferEnd
from storage.database import Database
from storage.models import Action, Lead, LeadTurn
from tests.e2e.conftest import AheadClock, Stack, buttons, card_of, card_text, eventually, tap
from tests.e2e.team import ADMIN, GROUP, MANAGER, RUSSIAN
from tests.e2e.test_rules import ruled, send
from tests.e2e.test_sla import settle

OFFERED = {"name": "Offered", "do": ["offer:2m"]}
WINDOW = 120


def offer_message(stack: Stack, chat: int, num: int) -> dict[str, Any] | None:
    """The offer of lead `num` in `chat`, while it says so (it is edited when it ends)."""
    found = [m for m in stack.telegram.chat(chat) if f"#{num} " in m["text"] and "📨" in m["text"]]
    return found[-1] if found else None


class Offer:
    """An offer's message as it came, with its buttons (kept: they go when it ends, and a
    late tap on them is what the test tries)."""

    def __init__(self, message: dict[str, Any]) -> None:
        self.message_id = int(message["message_id"])
        self.text = str(message["text"])
        self.buttons = dict(buttons(message))


async def offered_to(stack: Stack, chat: int, num: int) -> Offer:
    await eventually(lambda: offer_message(stack, chat, num) is not None)
    message = offer_message(stack, chat, num)
    assert message is not None
    return Offer(message)


async def answer(
    stack: Stack, offer: Offer, label: str, *, user: int, chat: int | None = None
) -> str:
    """`user` taps `label` (Accept or Pass) on the offer: the answer's text."""
    answered = len(stack.telegram.callback_answers)
    data = next(d for text, d in offer.buttons.items() if label in text)
    stack.telegram.callback_update(user, chat or user, offer.message_id, data)
    await eventually(lambda: len(stack.telegram.callback_answers) > answered)
    return str(stack.telegram.callback_answers[answered]["text"])


def group_line(stack: Stack, num: int) -> str:
    found = re.search(r"📨 Offered to (\S+) \((\d+):(\d\d) left\)", card_text(stack, GROUP, num))
    if found is None:
        return ""
    assert int(found[2]) * 60 + int(found[3]) <= WINDOW, "never more than the window is left"
    return found[1]


async def lead_row(stack: Stack, num: int) -> Lead:
    async with stack.database.read() as session:
        return (await session.exec(select(Lead).where(col(Lead.flexbe_id) == num))).one()


async def outcomes(stack: Stack, num: int) -> list[tuple[int, str | None]]:
    lead = await lead_row(stack, num)
    async with stack.database.read() as session:
        rows = await session.exec(
            select(LeadTurn).where(col(LeadTurn.lead_id) == lead.id).order_by(col(LeadTurn.step))
        )
        return [(turn.manager_id, turn.outcome) for turn in rows.all()]


def edited(stack: Stack, chat: int, offer: Offer) -> str:
    return str(stack.telegram.message(chat, offer.message_id)["text"])


async def test_an_offer_accepted_is_the_managers_and_nobody_elses(database: Database) -> None:
    async with ruled(database, OFFERED, clock=AheadClock()) as stack:
        await send(stack, 941)
        # All weights 1, nobody had a turn: Ada first (ties go to the lower id).
        offer = await offered_to(stack, ADMIN, 941)
        assert offer.text.startswith("📨 Lead #941 of Окна СПб is offered to you: ")
        assert "Accept it within 2 min" in offer.text
        await eventually(lambda: group_line(stack, 941) == "Ada")
        card = card_of(stack.telegram, GROUP, 941)
        assert card is not None and "✋ Take" not in buttons(card), "the offer is Ada's alone"

        # Max forges Ada's Accept: refused in words, nothing changes.
        forged = await answer(stack, offer, "Accept", user=MANAGER, chat=MANAGER)
        assert forged == "This lead is offered to Ada, not to you."
        assert (await lead_row(stack, 941)).taken_by is None

        # A double tap: two answers, one owner.
        answered = len(stack.telegram.callback_answers)
        for _tap in range(2):
            stack.telegram.callback_update(
                ADMIN, ADMIN, offer.message_id, offer.buttons["✅ Accept"]
            )
        await eventually(lambda: len(stack.telegram.callback_answers) == answered + 2)
        assert sorted(a["text"] for a in stack.telegram.callback_answers[answered:]) == [
            "The lead is yours already.",
            "The lead is yours.",
        ]
        await eventually(lambda: "Taken by Ada" in card_text(stack, GROUP, 941))
        assert "Ada accepted the offer" in card_text(stack, GROUP, 941)
        assert "Offered to Ada" in card_text(stack, GROUP, 941), "the history keeps the offer"
        assert group_line(stack, 941) == "", "no offer open any more"
        await eventually(lambda: "is yours: its card is below" in edited(stack, ADMIN, offer))
        assert stack.telegram.message(ADMIN, offer.message_id).get("reply_markup") in (None, {})
        await eventually(lambda: card_of(stack.telegram, ADMIN, 941) is not None)

        # A second tap changes nothing, and nobody is offered it after.
        assert await answer(stack, offer, "Accept", user=ADMIN) == "The lead is yours already."
        async with stack.database.read() as session:
            accepted = await session.exec(select(Action).where(col(Action.kind) == OFFER_ACCEPT))
            assert len(accepted.all()) == 1
        assert await outcomes(stack, 941) == [(ADMIN, OfferEnd.ACCEPTED.value)]
        assert offer_message(stack, MANAGER, 941) is None


async def test_passed_and_run_out_through_every_manager_to_the_group(database: Database) -> None:
    clock = AheadClock()
    async with ruled(database, OFFERED, clock=clock) as stack:
        await send(stack, 942)
        ada_offer = await offered_to(stack, ADMIN, 942)
        assert await answer(stack, ada_offer, "Pass", user=ADMIN) == (
            "Passed: it goes to the next manager."
        )
        await eventually(lambda: "You passed lead #942" in edited(stack, ADMIN, ada_offer))
        max_offer = await offered_to(stack, MANAGER, 942)
        await eventually(lambda: group_line(stack, 942) == "Max")

        # Ada's Accept after her Pass: the offer has ended; it stays Max's.
        late = await answer(stack, ada_offer, "Accept", user=ADMIN)
        assert late.startswith("This offer has ended")
        lead = await lead_row(stack, 942)
        assert lead.taken_by is None and lead.offer_to == MANAGER

        # Max lets the window run out (a second short of it, nothing happens).
        clock.advance(WINDOW - 1)
        await settle(stack, OFFER_NEXT.name)
        assert (await lead_row(stack, 942)).offer_to == MANAGER
        clock.advance(2)
        ivan_offer = await offered_to(stack, RUSSIAN, 942)
        assert ivan_offer.text.startswith("📨 Вам предложена заявка #942 (Окна СПб)")
        await eventually(lambda: "ran out: it went on" in edited(stack, MANAGER, max_offer))
        assert (await answer(stack, max_offer, "Accept", user=MANAGER)).startswith(
            "This offer has ended"
        )

        # Иван's runs out too: everyone had it; the group's card opens it to anyone.
        clock.advance(WINDOW + 1)
        await settle(stack, OFFER_EXPIRE.name)
        await eventually(lambda: "Offered to everyone on shift" in card_text(stack, GROUP, 942))
        card = card_of(stack.telegram, GROUP, 942)
        assert card is not None and "✋ Take" in buttons(card)
        told = "📨 Everyone on shift had the offer of lead #942 of Окна СПб"
        await eventually(lambda: any(told in m["text"] for m in stack.telegram.chat(ADMIN)))
        assert await outcomes(stack, 942) == [
            (ADMIN, OfferEnd.PASSED.value),
            (MANAGER, OfferEnd.EXPIRED.value),
            (RUSSIAN, OfferEnd.EXPIRED.value),
        ]
        assert (await tap(stack, "✋ Take", num=942))["text"] == "The lead is yours."
        assert sum(told in m["text"] for m in stack.telegram.chat(ADMIN)) == 1


async def test_a_lead_taken_back_is_offered_to_the_next_but_not_its_former_owner(
    database: Database,
) -> None:
    clock = AheadClock()
    async with ruled(database, OFFERED, clock=clock, sla_take_back_after="30m") as stack:
        await send(stack, 943)
        offer = await offered_to(stack, ADMIN, 943)
        assert await answer(stack, offer, "Accept", user=ADMIN) == "The lead is yours."
        await eventually(lambda: "Taken by Ada" in card_text(stack, GROUP, 943))

        clock.advance(31 * 60)
        await settle(stack, TAKE_BACK.name)
        # Back from Ada, on to the next in turn (Max), in a new round that leaves Ada out.
        await offered_to(stack, MANAGER, 943)
        await eventually(lambda: group_line(stack, 943) == "Max")
        assert "Taken back from Ada after 30 min without action" in card_text(stack, GROUP, 943)
        assert [manager for manager, _end in await outcomes(stack, 943)] == [ADMIN, MANAGER]
