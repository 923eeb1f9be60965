"""Chats connected from Telegram: the bot added to a group asks which sites to send there,
an admin's tap connects it and the next lead's card is there, with no restart; `/connect`
in a forum's topic connects the topic; `/disconnect`; the bot removed from a group stops
every send there and tells the admins once, and back, it posts one summary of the leads the
group missed. Whoever is not an admin is refused and changes nothing.

The stack runs the set-up watch as every process does: what the bot stores reaches the
worker's settings through the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import col, select

from leadrelay.setup_watch import SetupWatch
from storage.clock import utcnow
from storage.database import Database
from storage.models import ChatConnection, Job, JobStatus
from storage.queries.cards import is_blocked
from testkit.factories import lead_event
from tests.e2e.conftest import Stack, answer_to, buttons, card_of, eventually, last_text, open_stack
from tests.e2e.team import ADMIN, GROUP, MANAGER, OUTSIDER

NEW_GROUP = -1002000  # a group the configuration does not name
FORUM = -1003000  # a forum supergroup with a topic per site
TOPIC = 15
QUESTION = "Which sites' leads should come to this chat?"
ALERT = "no longer accepts messages from the bot"


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[Stack]:
    async with open_stack(database) as running:
        # As in every process (leadrelay.runtime), a tenth of the production interval.
        watch = SetupWatch(running.database, running.settings, interval=0.1)
        stop = asyncio.Event()
        watching = asyncio.create_task(watch.run(stop))
        try:
            yield running
        finally:
            stop.set()
            await watching


async def stored(stack: Stack, chat_id: int) -> list[ChatConnection]:
    async with stack.database.read() as session:
        found = await session.exec(
            select(ChatConnection).where(col(ChatConnection.chat_id) == chat_id)
        )
        return list(found.all())


async def stored_when(stack: Stack, chat_id: int, count: int) -> list[ChatConnection]:
    """The chat's connections once there are `count` (the bot answers before it commits)."""
    deadline = asyncio.get_running_loop().time() + 10
    while len(found := await stored(stack, chat_id)) != count:
        assert asyncio.get_running_loop().time() < deadline, f"{len(found)} connections"
        await asyncio.sleep(0.02)
    return found


async def jobs_settled(stack: Stack) -> bool:
    async with stack.database.read() as session:
        found = await session.exec(
            select(Job.id).where(
                col(Job.status).in_([JobStatus.PENDING.value, JobStatus.RUNNING.value]),
                col(Job.run_at) <= utcnow(),
            )
        )
        return found.first() is None


async def settle(stack: Stack) -> None:
    """Until every job due now has run."""
    deadline = asyncio.get_running_loop().time() + 10
    while not await jobs_settled(stack):
        assert asyncio.get_running_loop().time() < deadline, "jobs still waiting"
        await asyncio.sleep(0.02)


def sends_to(stack: Stack, chat_id: int) -> int:
    """How many messages the bot tried to send to `chat_id` (refused ones too)."""
    return sum(
        1
        for call in stack.telegram.calls_of("sendMessage")
        if str(call.params.get("chat_id")) == str(chat_id)
    )


async def answer_to_tap(
    stack: Stack, user: int, chat: int, message: dict[str, Any], label: str
) -> dict[str, Any]:
    """`user` taps the button `label` of `message`: the answer, once given."""
    return await answer_to_data(stack, user, chat, message, buttons(message)[label])


async def answer_to_data(
    stack: Stack, user: int, chat: int, message: dict[str, Any], data: str
) -> dict[str, Any]:
    """A tap with `data` under `message`, as a forged button would send it."""
    update = stack.telegram.callback_update(user, chat, message["message_id"], data)
    return await answer_to(stack, update)


async def replied(stack: Stack, chat: int, count: int) -> str:
    """The bot's answer once `chat` holds `count` of its messages."""
    await eventually(lambda: len(stack.telegram.chat(chat)) >= count)
    return last_text(stack, chat)


async def test_added_to_a_group_it_asks_and_an_admins_tap_connects_it(stack: Stack) -> None:
    stack.telegram.member_update(NEW_GROUP, "member", by=ADMIN, title="Sales <team> & co")
    # A private chat is no group: nothing is asked there.
    stack.telegram.member_update(MANAGER, "member", by=MANAGER)
    await eventually(lambda: len(stack.telegram.chat(NEW_GROUP)) == 1)
    question = stack.telegram.chat(NEW_GROUP)[0]
    assert QUESTION in question["plain"]
    assert "This chat gets no site's cards yet." in question["plain"]
    assert list(buttons(question)) == ["Окна СПб", "All sites"]

    for stranger in (OUTSIDER, MANAGER):
        refused = await answer_to_tap(stack, stranger, NEW_GROUP, question, "Окна СПб")
        assert refused["text"] == "Only an admin can connect or disconnect this chat."
        assert refused["show_alert"]
    assert await stored(stack, NEW_GROUP) == []

    answered = await answer_to_tap(stack, ADMIN, NEW_GROUP, question, "Окна СПб")
    assert answered["text"] == "Connected."
    (connection,) = await stored_when(stack, NEW_GROUP, 1)
    assert (connection.site_key, connection.topic) == ("okna", None)
    assert (connection.title, connection.created_by) == ("Sales <team> & co", ADMIN)
    await eventually(
        lambda: "gets the cards of: Окна СПб" in stack.telegram.chat(NEW_GROUP)[0]["plain"]
    )
    # A second tap changes nothing and fails nothing.
    again = await answer_to_tap(stack, ADMIN, NEW_GROUP, question, "Окна СПб")
    assert again["text"] == "Connected."
    assert len(await stored(stack, NEW_GROUP)) == 1
    assert len(stack.telegram.chat(NEW_GROUP)) == 1
    assert stack.telegram.chat(MANAGER) == []

    # The running processes take the connection from the database: the next card is there.
    await eventually(lambda: NEW_GROUP in stack.settings.site("okna").chats)
    await stack.new_card(NEW_GROUP)
    assert card_of(stack.telegram, GROUP) is not None, "the configured group still gets it"


async def test_connect_in_a_topic_and_disconnect(stack: Stack) -> None:
    stack.telegram.member_update(FORUM, "administrator", by=ADMIN, forum=True)
    await eventually(lambda: len(stack.telegram.chat(FORUM)) == 1)

    stack.telegram.topic_message_update(ADMIN, "/connect nope", chat_id=FORUM, topic=TOPIC)
    assert await replied(stack, FORUM, 2) == (
        'There is no site "nope". The sites: okna (Окна СПб); or "all".'
    )
    stack.telegram.topic_message_update(ADMIN, "/connect окна  спб", chat_id=FORUM, topic=TOPIC)
    assert await replied(stack, FORUM, 3) == (
        "Connected: the cards of Окна СПб come here. (to this topic)"
    )
    (connection,) = await stored_when(stack, FORUM, 1)
    assert (connection.site_key, connection.topic) == ("okna", TOPIC)
    await eventually(lambda: stack.settings.site("okna").topics.get(FORUM) == TOPIC)
    card = await stack.new_card(FORUM)
    assert card["message_thread_id"] == TOPIC, "the card goes to the topic it was asked in"

    stack.telegram.message_update(ADMIN, "/disconnect", chat_id=FORUM)
    assert await replied(stack, FORUM, 5) == "Disconnected: Окна СПб."
    await stored_when(stack, FORUM, 0)
    await eventually(lambda: FORUM not in stack.settings.site("okna").chats)

    # The buttons asked for in a topic connect that topic.
    stack.telegram.topic_message_update(ADMIN, "/connect", chat_id=FORUM, topic=TOPIC + 1)
    await eventually(lambda: QUESTION in stack.telegram.chat(FORUM)[-1]["plain"])
    await answer_to_tap(stack, ADMIN, FORUM, stack.telegram.chat(FORUM)[-1], "Окна СПб")
    (connection,) = await stored_when(stack, FORUM, 1)
    assert connection.topic == TOPIC + 1

    # The configuration's chat is not Telegram's to disconnect: it says so.
    stack.telegram.message_update(ADMIN, "/disconnect", chat_id=GROUP)
    assert await replied(stack, GROUP, 2) == (  # after the card of #414
        "Nothing to disconnect: no site was connected to this chat here.\n"
        "Still here from the configuration: Окна СПб (change it in the TOML)."
    )


async def test_connect_without_a_site_asks_and_all_sites_connects_every_site(
    stack: Stack,
) -> None:
    stack.telegram.message_update(ADMIN, "/connect", chat_id=NEW_GROUP)
    await eventually(lambda: len(stack.telegram.chat(NEW_GROUP)) == 1)
    question = stack.telegram.chat(NEW_GROUP)[0]
    assert QUESTION in question["plain"]
    # A button for a site there is not (forged, or one removed since) connects nothing.
    forged = await answer_to_data(stack, ADMIN, NEW_GROUP, question, "cn:ghost:0")
    assert forged["text"] == "That site is gone. Ask with /connect again."
    assert await stored(stack, NEW_GROUP) == []

    await answer_to_tap(stack, ADMIN, NEW_GROUP, question, "All sites")

    (connection,) = await stored_when(stack, NEW_GROUP, 1)
    assert connection.site_key == "*"
    await eventually(
        lambda: "gets the cards of all sites" in stack.telegram.chat(NEW_GROUP)[0]["plain"]
    )
    stack.telegram.message_update(ADMIN, "/disconnect all", chat_id=NEW_GROUP)
    assert await replied(stack, NEW_GROUP, 2) == "Disconnected: all sites."


async def test_a_non_admin_cannot_connect_or_disconnect(stack: Stack) -> None:
    stack.telegram.message_update(MANAGER, "/connect okna", chat_id=NEW_GROUP)
    assert (
        await replied(stack, NEW_GROUP, 1) == "Only an admin can connect or disconnect this chat."
    )
    stack.telegram.message_update(OUTSIDER, "/connect", chat_id=NEW_GROUP)
    assert (
        await replied(stack, NEW_GROUP, 2) == "Only an admin can connect or disconnect this chat."
    )
    stack.telegram.message_update(ADMIN, "/connect okna", chat_id=NEW_GROUP)
    await replied(stack, NEW_GROUP, 3)
    stack.telegram.message_update(MANAGER, "/disconnect", chat_id=NEW_GROUP)
    assert (
        await replied(stack, NEW_GROUP, 4) == "Only an admin can connect or disconnect this chat."
    )
    assert [c.site_key for c in await stored_when(stack, NEW_GROUP, 1)] == ["okna"]


async def test_kicked_then_added_back_it_summarises_the_missed_leads(stack: Stack) -> None:
    await stack.new_card(GROUP)

    stack.telegram.member_update(GROUP, "kicked", old="administrator", by=OUTSIDER)
    await eventually(lambda: ALERT in last_text(stack, ADMIN))
    async with stack.database.read() as session:
        assert await is_blocked(session, GROUP)
    tried = sends_to(stack, GROUP)
    await stack.post_lead(lead_event(1415))
    await stack.post_lead(lead_event(1416))
    await eventually(lambda: card_of(stack.telegram, ADMIN, 416) is not None)
    await settle(stack)
    assert sends_to(stack, GROUP) == tried, "nothing is sent to a group the bot is out of"
    # A chat the bot has left already: a second "left" changes nothing, tells nobody.
    stack.telegram.member_update(GROUP, "left", old="kicked", by=OUTSIDER)
    await settle(stack)
    alerts = [m for m in stack.telegram.chat(ADMIN) if ALERT in m["text"]]
    assert len(alerts) == 1

    stack.telegram.member_update(GROUP, "member", old="left", by=ADMIN)
    await eventually(lambda: last_text(stack, GROUP).startswith("<b>New leads: 2</b>"))
    summary = stack.telegram.chat(GROUP)[-1]
    assert list(buttons(summary)) == ["#415", "#416"], "the missed leads, not #414"
    assert QUESTION not in summary["plain"], "a connected group is not asked again"
    # A repeated "member" changes nothing: still one summary.
    stack.telegram.member_update(GROUP, "member", old="left", by=ADMIN)
    await answer_to_tap(stack, MANAGER, GROUP, summary, "#415")
    await eventually(lambda: card_of(stack.telegram, GROUP, 415) is not None)
    await stack.post_lead(lead_event(1417))
    await eventually(lambda: card_of(stack.telegram, GROUP, 417) is not None)
    await settle(stack)
    summaries = [m for m in stack.telegram.chat(GROUP) if m["text"].startswith("<b>New leads:")]
    assert len(summaries) == 1


async def test_its_right_to_post_taken_and_restored(stack: Stack) -> None:
    await stack.new_card(GROUP)

    stack.telegram.member_update(GROUP, "restricted", old="member", by=OUTSIDER)
    await eventually(lambda: ALERT in last_text(stack, ADMIN))
    await stack.post_lead(lead_event(1415))
    await eventually(lambda: card_of(stack.telegram, ADMIN, 415) is not None)
    await settle(stack)
    assert card_of(stack.telegram, GROUP, 415) is None

    stack.telegram.member_update(GROUP, "member", old="restricted", by=ADMIN)
    await eventually(lambda: last_text(stack, GROUP).startswith("<b>New leads: 1</b>"))
    assert list(buttons(stack.telegram.chat(GROUP)[-1])) == ["#415"]

    # Blocked a second time: the admins are told again, once.
    stack.telegram.member_update(GROUP, "kicked", old="member", by=OUTSIDER)
    await eventually(
        lambda: len([m for m in stack.telegram.chat(ADMIN) if ALERT in m["text"]]) == 2
    )
