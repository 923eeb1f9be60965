"""The loopback Telegram, driven by the real aiogram `Bot` over HTTP: it must answer what
Telegram answers, so that tests built on it mean something."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from aiohttp import web

from testkit.fakes.telegram import DROP, Limits, TelegramFake
from testkit.fakes.telegram_html import HtmlError, parse_html

USER, GROUP = 4242, -1001234567


@pytest.fixture
async def fake() -> AsyncIterator[TelegramFake]:
    telegram = TelegramFake(poll_cap=0.05)
    async with telegram.running():
        yield telegram


@asynccontextmanager
async def bot_for(fake: TelegramFake) -> AsyncIterator[Bot]:
    bot = Bot(fake.token, session=fake.session())
    try:
        yield bot
    finally:
        await bot.session.close()


@pytest.fixture
async def bot(fake: TelegramFake) -> AsyncIterator[Bot]:
    async with bot_for(fake) as bot:
        yield bot


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=f"b{i}", callback_data=d)] for i, d in enumerate(data)
        ]
    )


class Clock:
    """The fake's clock, moved by hand: rate limits tested without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def paced(chat_burst: int) -> AsyncIterator[tuple[TelegramFake, Clock, Bot]]:
    """A running fake that paces as Telegram does, on a clock moved by hand, and a bot of it."""
    clock = Clock()
    fake = TelegramFake(limits=Limits(chat_burst=chat_burst), clock=clock)
    async with fake.running(), bot_for(fake) as bot:
        yield fake, clock, bot


# --- messages ------------------------------------------------------------------------------------
async def test_send_edit_and_answer_round_trip(fake: TelegramFake, bot: Bot) -> None:
    sent = await bot.send_message(
        USER, "<b>Lead #7</b> from <i>Anna</i>", parse_mode="HTML", reply_markup=keyboard("a:1")
    )

    assert sent.chat.id == USER and sent.text == "Lead #7 from Anna"
    assert sent.html_text == "<b>Lead #7</b> from <i>Anna</i>"
    assert isinstance(sent.reply_markup, InlineKeyboardMarkup)
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "a:1"
    [record] = fake.sent
    assert record["text"] == "<b>Lead #7</b> from <i>Anna</i>"
    assert record["parse_mode"] == "HTML"
    assert record["reply_markup"] == {"inline_keyboard": [[{"text": "b0", "callback_data": "a:1"}]]}

    edited = await bot.edit_message_text(
        "<b>Lead #7</b> taken",
        chat_id=USER,
        message_id=sent.message_id,
        parse_mode="HTML",
        reply_markup=keyboard("a:2"),
    )

    assert isinstance(edited, type(sent)) and edited.text == "Lead #7 taken"
    assert edited.edit_date is not None
    [current] = fake.messages(USER)
    assert current["text"] == "<b>Lead #7</b> taken"
    assert current["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a:2"
    assert fake.message(USER, sent.message_id) is current
    assert [e["text"] for e in fake.edits] == ["<b>Lead #7</b> taken"]
    assert fake.sent[0]["text"] == "<b>Lead #7</b> from <i>Anna</i>", "the record of the send stays"

    update = fake.callback_update(USER, USER, sent.message_id, "a:2")
    [delivered] = await bot.get_updates()
    query = delivered.callback_query
    assert query is not None and query.data == "a:2"
    assert query.message is not None and query.message.message_id == sent.message_id
    assert await query.answer("Taken", show_alert=True)
    assert fake.callback_answers == [
        {
            "callback_query_id": update["callback_query"]["id"],
            "text": "Taken",
            "show_alert": True,
            "url": None,
            "cache_time": None,
            "at": fake.callback_answers[0]["at"],
        }
    ]
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(update["callback_query"]["id"], text="again")


async def test_edits_that_change_nothing_or_miss_are_refused(fake: TelegramFake, bot: Bot) -> None:
    sent = await bot.send_message(
        USER, "<b>Card</b>", parse_mode="HTML", reply_markup=keyboard("x")
    )

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        # Different markup for the same look is still "not modified".
        await bot.edit_message_text(
            "<strong>Card</strong>",
            chat_id=USER,
            message_id=sent.message_id,
            parse_mode="HTML",
            reply_markup=keyboard("x"),
        )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=USER, message_id=sent.message_id, reply_markup=keyboard("x")
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("New", chat_id=USER, message_id=sent.message_id + 50)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER, sent.message_id + 50)

    # Leaving the markup out of an edit removes the keyboard, as Telegram does.
    await bot.edit_message_text(
        "<b>Card</b>", chat_id=USER, message_id=sent.message_id, parse_mode="HTML"
    )
    assert fake.message(USER, sent.message_id)["reply_markup"] is None
    assert await bot.delete_message(USER, sent.message_id)
    assert fake.messages(USER) == []
    assert [method for method, _ in fake.rejected] == [
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageText",
        "deleteMessage",
    ]


async def test_replies_need_the_message_replied_to(fake: TelegramFake, bot: Bot) -> None:
    card = await bot.send_message(GROUP, "Card")

    reply = await bot.send_message(
        GROUP, "Paid", reply_parameters=ReplyParameters(message_id=card.message_id)
    )

    assert reply.reply_to_message is not None and reply.reply_to_message.text == "Card"
    assert fake.sent[-1]["reply_to"] == card.message_id
    assert fake.sent[-1]["reply_parameters"] == {"message_id": card.message_id}
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(GROUP, "Paid", reply_parameters=ReplyParameters(message_id=999))
    lenient = ReplyParameters(message_id=999, allow_sending_without_reply=True)
    assert (
        await bot.send_message(GROUP, "Paid", reply_parameters=lenient)
    ).reply_to_message is None


# --- what Telegram refuses --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("Hi <script>x</script>", 'Unsupported start tag "script" at byte offset 3'),
        ("line<br>line", 'Unsupported start tag "br" at byte offset 4'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("Tom & Jerry", 'Character "&" must be escaped'),
        ("Tom &nbsp; Jerry", 'Unsupported HTML entity "&nbsp;"'),
        ("a > b", 'Character ">" must be escaped'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ('<span class="red">x</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("Имя <x>", 'Unsupported start tag "x" at byte offset 7'),  # bytes, not characters
    ],
)
async def test_html_telegram_cannot_parse_is_refused(
    fake: TelegramFake, bot: Bot, text: str, error: str
) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities") as caught:
        await bot.send_message(USER, text, parse_mode="HTML")

    assert error in caught.value.message
    assert fake.messages(USER) == []


@pytest.mark.parametrize(
    ("text", "visible"),
    [
        ("<b>Tom &amp; &quot;Jerry&quot;</b>", 'Tom & "Jerry"'),
        ("&lt;script&gt; &#39;quoted&#x27; &#8470;5", "<script> 'quoted' №5"),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1"),
        ("<blockquote expandable>long</blockquote>", "long"),
        ('<span class="tg-spoiler">s</span> <tg-spoiler>t</tg-spoiler>', "s t"),
        ('<a href="tg://user?id=1">Ann</a> <B>caps</B> <u class="ignored">u</u>', "Ann caps u"),
        ("<b>x</>", "x"),
    ],
)
async def test_html_telegram_accepts_goes_through(
    fake: TelegramFake, bot: Bot, text: str, visible: str
) -> None:
    sent = await bot.send_message(USER, text, parse_mode="HTML")

    assert sent.text == visible
    assert fake.messages(USER)[0]["text"] == text


def test_entities_are_what_telegram_reports() -> None:
    plain, entities = parse_html(
        '👍 <b>Tom <i>&amp;</i></b> <pre><code class="language-py">x</code></pre>'
        '<blockquote expandable>q</blockquote><a href="https://x.ru/?a=1&amp;b=2">l</a>'
    )

    assert plain == "👍 Tom & xql"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 5},  # the emoji is two UTF-16 units
        {"type": "italic", "offset": 7, "length": 1},
        {"type": "pre", "offset": 9, "length": 1, "language": "py"},
        {"type": "expandable_blockquote", "offset": 10, "length": 1},
        {"type": "text_link", "offset": 11, "length": 1, "url": "https://x.ru/?a=1&b=2"},
    ]
    with pytest.raises(HtmlError, match='"tg-emoji" must have attribute "emoji-id"'):
        parse_html("<tg-emoji>👍</tg-emoji>")


async def test_text_may_be_4096_visible_characters(fake: TelegramFake, bot: Bot) -> None:
    await bot.send_message(USER, "a" * 4096)
    # Tags and entities don't count; what the user sees does.
    await bot.send_message(USER, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(USER, "👍" * 2048)

    for text in ("a" * 4097, "👍" * 2048 + "a"):
        with pytest.raises(TelegramBadRequest, match="message is too long"):
            await bot.send_message(USER, text)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER, "<b> </b>", parse_mode="HTML")
    assert len(fake.messages(USER)) == 3


async def test_callback_data_may_be_64_bytes(fake: TelegramFake, bot: Bot) -> None:
    for data in ("x" * 64, "я" * 32):  # Cyrillic letters take two bytes each
        await bot.send_message(USER, "ok", reply_markup=keyboard("short", data))

    for data in ("x" * 65, "я" * 32 + "x", ""):
        with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
            await bot.send_message(USER, "no", reply_markup=keyboard("short", data))
    assert [m["text"] for m in fake.messages(USER)] == ["ok", "ok"]


async def test_inline_buttons_need_an_action_telegram_allows(fake: TelegramFake, bot: Bot) -> None:
    call = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Call", url="tel:+79991234567")]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_URL_INVALID"):
        await bot.send_message(USER, "x", reply_markup=call)

    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{fake.base_url}/bot{fake.token}/sendMessage",
            data={
                "chat_id": "1",
                "text": "x",
                "reply_markup": '{"inline_keyboard":[[{"text":"t"}]]}',
            },
        )
    assert response.status_code == 400
    assert "Text buttons are unallowed" in response.json()["description"]


# --- faults, blocks and rate limits -------------------------------------------------------------
async def test_scripted_429_raises_retry_after(fake: TelegramFake, bot: Bot) -> None:
    fake.fail_next("sendMessage", 2, retry_after=3)

    for _ in range(2):
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(USER, "hello")
        assert caught.value.retry_after == 3
    await bot.send_message(USER, "hello")

    assert [(r["method"], r["chat_id"], r["retry_after"]) for r in fake.retry_afters] == [
        ("sendMessage", USER, 3),
        ("sendMessage", USER, 3),
    ]
    assert [c.status for c in fake.calls_of("sendMessage")] == [429, 429, 200]
    assert len(fake.messages(USER)) == 1
    # The send came right after the 429 that said to wait 3 s: a violation to report.
    assert len(fake.retry_after_violations()) == 2


async def test_scripted_server_errors_and_dropped_connections(fake: TelegramFake, bot: Bot) -> None:
    fake.fail_next("editMessageText", status=502)
    fake.fail_next("sendMessage", status=DROP)

    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.edit_message_text("x", chat_id=USER, message_id=1)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(USER, "hello")
    await bot.send_message(USER, "hello")

    assert len(fake.messages(USER)) == 1


async def test_random_faults_repeat_with_the_seed(fake: TelegramFake, bot: Bot) -> None:
    async def outcomes() -> list[str]:
        fake.reset()
        fake.faults(rate_429=0.3, rate_5xx=0.2, retry_after=2, seed=11)
        seen = []
        for _ in range(30):
            try:
                await bot.send_message(USER, "x")
                seen.append("ok")
            except TelegramRetryAfter as exc:
                seen.append(f"429/{exc.retry_after}")
            except TelegramServerError:
                seen.append("5xx")
        await bot.get_me()  # set-up calls are spared
        return seen

    first = await outcomes()
    assert first == await outcomes()
    assert {"ok", "429/2", "5xx"} == set(first)
    assert len(fake.messages(USER)) == first.count("ok")
    assert len(fake.retry_afters) == first.count("429/2")


async def test_blocked_chats_answer_403(fake: TelegramFake, bot: Bot) -> None:
    fake.block_chat(USER)
    fake.block_chat(GROUP)

    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "hello")
    with pytest.raises(TelegramForbiddenError, match="kicked from the supergroup"):
        await bot.send_message(GROUP, "hello")
    fake.unblock_chat(USER)
    await bot.send_message(USER, "hello")


async def test_limiter_refuses_a_chat_faster_than_a_message_a_second() -> None:
    async with paced(chat_burst=1) as (fake, clock, bot):
        await bot.send_message(USER, "one")
        clock.now += 0.4
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(USER, "two")
        assert caught.value.retry_after == 1
        await bot.send_message(USER + 1, "another chat is not held up")

        clock.now += 1.0
        await bot.send_message(USER, "two")
        for _ in range(3):
            clock.now += 1.0
            await bot.send_message(USER, "paced")

    assert [r["reason"] for r in fake.retry_afters] == ["chat"]
    assert fake.retry_afters[0]["at"] == 1000.4
    assert fake.send_times(USER) == [1000.0, 1001.4, 1002.4, 1003.4, 1004.4]
    assert fake.retry_after_violations() == []


async def test_limiter_allows_a_burst_then_paces() -> None:
    async with paced(chat_burst=3) as (fake, clock, bot):
        for _ in range(3):
            await bot.send_message(USER, "burst")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(USER, "too many")
        clock.now += 1.0
        await bot.send_message(USER, "after a second")

    assert len(fake.messages(USER)) == 4


async def test_limiter_holds_groups_to_20_a_minute_and_the_bot_to_30_a_second() -> None:
    async with paced(chat_burst=1) as (fake, clock, bot):
        for _ in range(20):
            await bot.send_message(GROUP, "card")
            clock.now += 1.5
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(GROUP, "21st in a minute")
        assert caught.value.retry_after == 30  # the first card leaves the window at +60 s

        clock.now += 100
        for chat in range(1, 31):
            await bot.send_message(chat, "fan-out")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(31, "31st this second")

    assert [r["reason"] for r in fake.retry_afters] == ["group", "global"]


# --- updates ---------------------------------------------------------------------------------
async def test_get_updates_delivers_pushed_updates_with_offsets(
    fake: TelegramFake, bot: Bot
) -> None:
    first = fake.message_update(USER, "/leads today", language_code="ru")
    second = fake.message_update(USER + 1, "hello", language_code=None)

    updates = await bot.get_updates()

    assert [u.update_id for u in updates] == [first["update_id"], second["update_id"]]
    message = updates[0].message
    assert message is not None and message.text == "/leads today"
    assert message.from_user is not None and message.from_user.language_code == "ru"
    assert message.entities is not None and message.entities[0].type == "bot_command"
    # Until confirmed by the offset, the same updates come again.
    assert len(await bot.get_updates()) == 2
    assert len(await bot.get_updates(offset=second["update_id"])) == 1
    assert await bot.get_updates(offset=second["update_id"] + 1) == []
    assert fake.pending_updates == []

    third = fake.message_update(USER, "again")
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == [third["update_id"]]


async def test_long_poll_wakes_on_a_push_and_ends_short(fake: TelegramFake, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.get_updates(timeout=30) == []
    assert loop.time() - started < 1.0, "the timeout is capped for tests"

    fake.poll_cap = 5.0
    polling = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.05)
    started = loop.time()
    fake.message_update(USER, "hi")
    [update] = await polling
    assert update.message is not None and update.message.text == "hi"
    assert loop.time() - started < 1.0


async def test_a_second_poller_ends_the_first_with_409(fake: TelegramFake, bot: Bot) -> None:
    fake.poll_cap = 5.0
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(bot.get_updates(timeout=30))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await first
    fake.message_update(USER, "hi")
    assert len(await second) == 1


async def test_updates_of_types_not_asked_for_are_dropped(fake: TelegramFake, bot: Bot) -> None:
    fake.push_update({"my_chat_member": {"chat": {"id": GROUP, "type": "supergroup"}, "date": 0}})
    fake.message_update(USER, "hi")

    updates = await bot.get_updates(allowed_updates=["message", "callback_query"])

    assert [u.message.text for u in updates if u.message] == ["hi"]
    assert len(updates) == 1


async def test_webhook_mode(fake: TelegramFake, bot: Bot) -> None:
    received: list[tuple[dict[str, Any], str | None]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append(
            (await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        )
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != "s3cret":
            return web.Response(status=401)
        # A reply in the webhook's answer is carried out, as Telegram does.
        return web.json_response({"method": "sendMessage", "chat_id": USER, "text": "got it"})

    app = web.Application()
    app.router.add_post("/tg", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = "http://{}:{}/tg".format(*runner.addresses[0][:2])
    try:
        assert await bot.set_webhook(url, secret_token="s3cret", allowed_updates=["message"])
        assert (await bot.get_webhook_info()).url == url
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()
        with pytest.raises(TelegramBadRequest, match="secret token"):
            await bot.set_webhook(url, secret_token="not allowed!")

        update = fake.build_message_update(USER, "hello")
        assert await fake.deliver_webhook(url, update, secret_token="s3cret") == 200
        assert await fake.deliver_webhook(url, update, secret_token="wrong") == 401
    finally:
        await runner.cleanup()

    assert received[0] == (update, "s3cret")
    assert received[1][1] == "wrong"
    assert [m["text"] for m in fake.messages(USER)] == ["got it"]
    assert fake.webhooks[0]["url"] == url and fake.webhooks[0]["secret_token"] == "s3cret"
    assert [d["status"] for d in fake.webhook_deliveries] == [200, 401]
    assert await bot.delete_webhook()
    assert await bot.get_updates() == []


# --- the rest of the API -----------------------------------------------------------------------
async def test_commands_are_recorded_per_language(fake: TelegramFake, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand(command="leads", description="Leads")])
    await bot.set_my_commands(
        [BotCommand(command="leads", description="Заявки")], language_code="ru"
    )

    assert [(c["language_code"], c["commands"][0]["description"]) for c in fake.commands] == [
        (None, "Leads"),
        ("ru", "Заявки"),
    ]
    assert (await bot.get_my_commands(language_code="ru"))[0].description == "Заявки"
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Leads-Today", description="x")])


async def test_wrong_token_unknown_method_and_other_encodings(fake: TelegramFake) -> None:
    wrong = Bot("999:wrong", session=AiohttpSession(api=fake.api_server))
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await wrong.get_me()
    finally:
        await wrong.session.close()

    base = f"{fake.base_url}/bot{fake.token}"
    async with httpx.AsyncClient() as http:
        unknown = await http.post(f"{base}/sendTelepathy", data={"chat_id": "1"})
        as_json = await http.post(f"{base}/sendMessage", json={"chat_id": USER, "text": "json"})
        multipart = await http.post(
            f"{base}/sendMessage",
            data={"chat_id": str(USER), "text": "multipart ✓"},
            files={"thumbnail": ("a.txt", b"bytes")},
        )

    assert unknown.status_code == 404
    assert unknown.json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }
    assert as_json.json()["result"]["text"] == "json"
    assert multipart.json()["result"]["text"] == "multipart ✓"
    upload = fake.calls_of("sendMessage")[-1].params["thumbnail"]
    assert (upload.filename, upload.data) == ("a.txt", b"bytes"), "a file part is kept"


async def test_reset_forgets_everything(fake: TelegramFake, bot: Bot) -> None:
    await bot.send_message(USER, "x")
    fake.message_update(USER, "hi")
    fake.fail_next("sendMessage")
    fake.block_chat(USER + 1)

    fake.reset()

    assert fake.sent == [] and fake.requests == [] and fake.messages(USER) == []
    assert fake.pending_updates == []
    await bot.send_message(USER + 1, "delivered: no fault, no block")


def tiny_png(width: int, height: int) -> bytes:
    """A PNG's signature and IHDR: all the fake reads of it."""
    import struct
    import zlib

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(header))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
    )


async def test_send_photo_takes_an_upload_and_records_it(fake: TelegramFake, bot: Bot) -> None:
    from aiogram.types import BufferedInputFile

    sent = await bot.send_photo(
        USER,
        BufferedInputFile(tiny_png(900, 500), "chart.png"),
        caption="<b>Week</b>",
        parse_mode="HTML",
    )

    assert sent.photo is not None and sent.photo[-1].width == 900
    assert sent.caption == "Week"
    [photo] = fake.photos
    assert (photo["chat_id"], photo["width"], photo["height"]) == (USER, 900, 500)
    assert photo["data"] == tiny_png(900, 500) and photo["filename"] == "chart.png"
    assert fake.messages(USER)[-1]["plain"] == "Week"


@pytest.mark.parametrize(
    ("data", "caption", "refusal"),
    [
        (b"not an image", None, "IMAGE_PROCESS_FAILED"),
        (tiny_png(9000, 2000), None, "PHOTO_INVALID_DIMENSIONS"),
        (tiny_png(2100, 100), None, "PHOTO_INVALID_DIMENSIONS"),
        (tiny_png(100, 100), "x" * 1025, "caption is too long"),
    ],
)
async def test_send_photo_refuses_what_telegram_refuses(
    fake: TelegramFake, bot: Bot, data: bytes, caption: str | None, refusal: str
) -> None:
    from aiogram.types import BufferedInputFile

    with pytest.raises(TelegramBadRequest, match=refusal):
        await bot.send_photo(USER, BufferedInputFile(data, "x.png"), caption=caption)
    assert fake.photos == []
