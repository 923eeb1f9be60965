"""Phone numbers from the form to the card's tel: link and the dialler, over real HTTP:
read in the site's region, in ASCII whatever digits were typed, refused at the tap when
there is nothing to dial; and the dialler's refusals told in words on the card."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import col, select

from storage.database import Database
from storage.models import Job
from testkit.factories import lead_event
from tests.e2e.conftest import Stack, buttons, card_text, eventually, more_of, open_stack
from tests.e2e.team import ADMIN, GROUP, MANAGER, RUSSIAN

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
TEL_LINKS = re.compile(r'href="tel:([^"]*)"')


@pytest.fixture
async def uk_stack(database: Database) -> AsyncIterator[Stack]:
    async with open_stack(database, site_region="GB") as running:
        yield running


async def post_lead(stack: Stack, phone: str, **fields: dict[str, Any]) -> dict[str, Any]:
    event = lead_event(phone=phone)
    event["data"]["form_data"].update(fields)
    return await stack.new_card(event=event)


def sent_body(stack: Stack, path: str = "lead/add") -> dict[str, Any]:
    [call] = stack.comunik8.calls(path)
    assert isinstance(call.body, dict)
    return call.body


async def test_a_uk_site_dials_the_seeds_own_national_number(uk_stack: Stack) -> None:
    second = {"id": "f9", "name": "Work phone", "value": "020 7946 0958", "type": "phone"}
    card = await post_lead(uk_stack, "07840258823", f9=second)

    assert TEL_LINKS.findall(card["text"]) == ["+447840258823"]
    uk_stack.telegram.callback_update(
        MANAGER, GROUP, card["message_id"], buttons(card)["📞 Call now"]
    )

    await eventually(lambda: "Call now: done" in card_text(uk_stack))
    body = sent_body(uk_stack)
    assert body["mobile"] == "+447840258823"
    assert body["other_phone"] == "+442079460958", "the form's second phone field"


async def test_a_russian_number_as_people_type_it(stack: Stack) -> None:
    card = await post_lead(stack, "8 (912) 345-67-89")

    assert TEL_LINKS.findall(card["text"]) == ["+79123456789"]
    stack.telegram.callback_update(MANAGER, GROUP, card["message_id"], buttons(card)["📞 Call now"])

    await eventually(lambda: "Call now: done" in card_text(stack))
    assert sent_body(stack)["mobile"] == "+79123456789"
    assert "other_phone" not in sent_body(stack), "no second number in the form"


@pytest.mark.parametrize(
    "typed",
    ["٨ (٩١٢) ٣٤٥-٦٧-٨٩", "８ (９１２) ３４５-６７-８９", "+7 ۹۱۲ ۳۴۵ ۶۷ ۸۹"],
    ids=["arabic-indic", "fullwidth", "extended-arabic-indic"],
)
async def test_digits_of_other_scripts_become_ascii_on_the_link_and_for_the_dialler(
    stack: Stack, typed: str
) -> None:
    card = await post_lead(stack, typed)

    assert TEL_LINKS.findall(card["text"]) == ["+79123456789"]
    assert typed in card["text"], "the number is shown as the client typed it"
    stack.telegram.callback_update(MANAGER, GROUP, card["message_id"], buttons(card)["📞 Call now"])

    await eventually(lambda: "Call now: done" in card_text(stack))
    [call] = stack.comunik8.calls("lead/add")
    raw = json.dumps(call.body, ensure_ascii=False)
    assert call.body["mobile"] == "+79123456789" and call.body["mobile"].isascii()
    assert not re.search(r"[٠-٩۰-۹０-９]", str(call.body["mobile"])), raw


@pytest.mark.parametrize(
    ("typed", "who", "says"),
    [
        ("٠٠٠-٠٠", MANAGER, "This lead has no phone number that can be dialled."),
        (
            "позвоните мне вечером",
            RUSSIAN,
            "У этой заявки нет номера, по которому можно позвонить.",
        ),
        ("07840258823", MANAGER, "This lead has no phone number that can be dialled."),
    ],
    ids=["too-short-in-arabic-digits", "words", "a-uk-number-on-a-russian-site"],
)
async def test_call_on_a_lead_with_nothing_to_dial_says_so_and_calls_nobody(
    stack: Stack, typed: str, who: int, says: str
) -> None:
    card = await post_lead(stack, typed)
    assert TEL_LINKS.findall(card["text"]) == [], "no link to a number that cannot be dialled"

    in_view = buttons(card)
    more = buttons(await more_of(stack, GROUP, user=who))
    taps = [in_view["📞 Call now"]] + [
        more[button]
        for button in ("⏰ Call in 10 min", "⏰ Call in 1 hour", "🌅 Call in the morning, 09:00")
    ]
    taps.append(more["✖️ Cancel call"])
    for data in taps:
        stack.telegram.callback_update(who, GROUP, card["message_id"], data)
    await eventually(lambda: len(said(stack)) == len(taps))

    assert [answer["text"] for answer in said(stack)] == [says] * len(taps)
    assert all(answer["show_alert"] for answer in said(stack))
    assert stack.comunik8.requests == []
    async with stack.database.read() as session:
        jobs = (await session.exec(select(Job).where(col(Job.kind).startswith("comunik8")))).all()
    assert jobs == []


def said(stack: Stack) -> list[dict[str, Any]]:
    """The answers with words in them (opening "More…" answers with none)."""
    return [answer for answer in stack.telegram.callback_answers if answer["text"]]


async def test_the_fields_comunik8_refused_are_named_on_the_card(stack: Stack) -> None:
    card = await post_lead(stack, "+7 999 123-45-67")
    stack.comunik8.fail_next((400, {"email": {"0": "Email cannot be blank."}}))

    stack.telegram.callback_update(MANAGER, GROUP, card["message_id"], buttons(card)["📞 Call now"])

    await eventually(lambda: "failed" in card_text(stack))
    text = card_text(stack)
    assert "Comunik8 refused the lead — email: Email cannot be blank." in text
    assert "ValidationFailed" not in text and "Comunik8Error" not in text
    await eventually(
        lambda: any("failed for lead" in m["text"] for m in stack.telegram.chat(ADMIN))
    )
    [alert] = [m for m in stack.telegram.chat(ADMIN) if "failed for lead" in m["text"]]
    assert "Comunik8 refused the fields: email" in alert["text"]
    assert (
        "ValidationFailed" not in alert["text"]
        and "Code: comunik8:validation_failed;" in (alert["text"])
    )
