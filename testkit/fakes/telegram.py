"""A loopback Telegram Bot API server that the real aiogram `Bot` talks to over HTTP.

    fake = TelegramFake()
    async with fake.running():
        bot = Bot(fake.token, session=AiohttpSession(api=fake.api_server))  # or fake.session()
        await bot.send_message(42, "<b>Hi</b>", parse_mode="HTML")
        assert fake.messages(42)[0]["text"] == "<b>Hi</b>"

Like Telegram, it takes form data (urlencoded or multipart, nested values as JSON strings)
or JSON at `{base_url}/bot{token}/{method}` and answers `{"ok": true, "result": …}` or
`{"ok": false, "error_code": …, "description": …, "parameters": {"retry_after": …}}`; its
results are what Telegram returns (a sent HTML message comes back as visible text plus
entities). It refuses what Telegram refuses: HTML it can't parse, text over 4096 UTF-16
units, callback data over 64 bytes, text-only or `tel:` inline buttons, an edit that
changes nothing, an edit or delete of a message it doesn't have, a second answer to one
callback query, `getUpdates` while a webhook is set or while another `getUpdates` waits,
chats that blocked the bot (`block_chat`), a command menu for a chat it was never in. It
answers 429 with `retry_after` when told (`fail_next`), at random (`faults`), or because the
calls broke Telegram's limits (`limits=`). Forums (`make_forum`, `delete_topic`): a
`message_thread_id` is kept with the message and one the forum lacks is refused ("message
thread not found"); a group that became a supergroup (`migrate_group`) refuses every call
with 400 and `parameters: {"migrate_to_chat_id": …}`, as Telegram does
(`build_migration_updates` makes the two service messages that tell the bot).

What tests read:
- `messages(chat_id)` / `message(chat_id, message_id)`: the bot's messages as they are now.
  A message is a dict: `message_id`, `chat`, `chat_id`, `text` (as the bot sent it, HTML
  and all), `parse_mode`, `plain` and `entities` (what a user sees), `reply_markup`,
  `reply_to`, `reply_parameters`, `message_thread_id` (None outside a topic), `at` (the
  fake's clock when received), `edited_at`.
- `sent` (a snapshot of each message as sent), `photos` (each `sendPhoto`: `chat_id`,
  `caption`, the uploaded file's `data`, `width`, `height`), `edits`, `deleted`, `callback_answers`,
  `commands` (setMyCommands calls), `webhooks` (setWebhook calls), `webhook_deliveries`.
- `requests`: every call (`Call`: method, params, at, status); `calls_of(method)`.
- `rejected`: `(method, description)` of every refusal by Telegram's rules (not injected
  faults); `retry_afters`: every 429 given (`method`, `chat_id`, `at`, `retry_after`,
  `reason`: scripted, random, chat, group or global); `send_times(chat_id)`;
  `retry_after_violations()`: calls accepted in a chat before its retry_after had passed.

Updates: `push_update(update)` queues one for `getUpdates`; `message_update(...)` and
`callback_update(...)` build and queue one (`build_message_update` / `build_callback_update`
only build it, e.g. for `await deliver_webhook(url, update, secret_token=...)`);
`member_update(chat_id, new, old=..., by=...)` the bot added to a group, removed from it or
restricted there (`my_chat_member`, and the chat refuses the bot while it is out);
`topic_message_update(...)` a message in a forum's topic.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Container, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final

import httpx
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from testkit.fakes.telegram_html import HtmlError, parse_html, utf16_length

DEFAULT_TOKEN: Final = "123456:TEST-token-for-the-fake"
BOT_ID: Final = 7_000_000_001
BOT_USERNAME: Final = "leadrelay_test_bot"
BOT_USER: Final[dict[str, Any]] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "leadrelay",
    "username": BOT_USERNAME,
}
MAX_TEXT: Final = 4096
MAX_CALLBACK_DATA: Final = 64
MAX_COPY_TEXT: Final = 256
MAX_CALLBACK_ANSWER: Final = 200
POLL_CAP: Final = 0.5  # longest a getUpdates waits, whatever timeout it asks for
DROP: Final = 0  # a `fail_next` status: the connection closes without an answer

NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
WEBHOOK_ACTIVE: Final = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
OTHER_POLLER: Final = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)

# Parameters whose value Telegram reads as JSON inside a form field.
JSON_FIELDS: Final = frozenset(
    [
        "reply_markup",
        "reply_parameters",
        "entities",
        "caption_entities",
        "link_preview_options",
        "commands",
        "scope",
        "allowed_updates",
        "media",
        "message_ids",
    ]
)
# Calls that put or change a message in a chat: they count against Telegram's limits.
PACED: Final = frozenset({"sendmessage", "sendphoto", "editmessagetext", "editmessagereplymarkup"})
MAX_CAPTION: Final = 1024
MAX_PHOTO_BYTES: Final = 10 * 1024 * 1024
MAX_PHOTO_SIDES: Final = 10_000  # width + height
MAX_PHOTO_RATIO: Final = 20
# Set-up and polling calls are spared random faults unless named: delivery is the subject.
SPARED: Final = frozenset(
    [
        "getme",
        "getupdates",
        "setmycommands",
        "getmycommands",
        "deletemycommands",
        "setwebhook",
        "deletewebhook",
        "getwebhookinfo",
    ]
)
# What Telegram sends when `allowed_updates` was never given.
DEFAULT_UPDATE_TYPES: Final = frozenset(
    [
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    ]
)
BUTTON_ACTIONS: Final = frozenset(
    [
        "callback_data",
        "url",
        "login_url",
        "web_app",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    ]
)
_BUTTON_URL = re.compile(r"(?i)(https?|tg)://\S+")
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_FAULT_DESCRIPTIONS: Final = {
    400: "Bad Request: scripted failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: scripted failure",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass(frozen=True)
class Limits:
    """Telegram's pace, which the fake enforces with 429s when given.

    Each chat takes one message per `chat_interval` seconds, of which `chat_burst` may come
    back to back; a group (negative id) also no more than `group_per_minute` in any 60 s;
    the bot no more than `global_per_second` in any second. Sends and edits count.
    """

    chat_interval: float = 1.0
    chat_burst: int = 3
    group_per_minute: int = 20
    global_per_second: int = 30


@dataclass
class Call:
    """One request the fake received, with its parameters as Telegram reads them."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200


@dataclass(frozen=True)
class Upload:
    """A file sent as multipart form data, as received."""

    filename: str
    content_type: str
    data: bytes


class ApiError(Exception):
    """A refusal, answered as Telegram answers it."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


@dataclass(frozen=True)
class _Fault:
    status: int
    retry_after: int | None
    description: str | None
    reason: str


_Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class LoopbackSession(AiohttpSession):
    """aiogram's session without the 250 ms it waits on close for TLS connections to end:
    plain HTTP on loopback has none, and tests close many sessions."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


class TelegramFake:
    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.monotonic,
        poll_cap: float = POLL_CAP,
    ) -> None:
        self.token = token
        self.limits = limits  # None: Telegram's rate limits are not enforced
        self.clock = clock
        self.poll_cap = poll_cap
        self.base_url = ""
        self._handlers: dict[str, _Handler] = {
            "getme": self._get_me,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "getupdates": self._get_updates,
            "sendchataction": self._send_chat_action,
        }
        self._poller: asyncio.Future[bool] | None = None
        self.reset()

    def reset(self) -> None:
        """Forget all messages, records, queued updates, faults, blocks and the webhook."""
        self._wake_poller(True)
        self.requests: list[Call] = []
        self.sent: list[dict[str, Any]] = []
        self.photos: list[dict[str, Any]] = []
        self.edits: list[dict[str, Any]] = []
        self.deleted: list[dict[str, Any]] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.commands: list[dict[str, Any]] = []
        self.webhooks: list[dict[str, Any]] = []
        self.webhook_deliveries: list[dict[str, Any]] = []
        self.rejected: list[tuple[str, str]] = []
        self.retry_afters: list[dict[str, Any]] = []
        self.blocked: set[int] = set()
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._incoming: dict[tuple[int, int], dict[str, Any]] = {}  # users' messages
        self._accepted: dict[int, list[tuple[float, str]]] = defaultdict(list)
        self._last_message_id: dict[int, int] = defaultdict(lambda: 100)
        self._updates: deque[dict[str, Any]] = deque()
        self._next_update_id = 1
        self._open_queries: set[str] = set()
        self._scripted: dict[str, deque[_Fault]] = defaultdict(deque)
        self._random: random.Random | None = None
        self._rate_429 = self._rate_5xx = 0.0
        self._fault_retry_after = 1
        self._fault_methods: frozenset[str] | None = None
        self._tat: dict[int, float] = {}
        self._group_times: dict[int, deque[float]] = defaultdict(deque)
        self._global_times: deque[float] = deque()
        self._webhook: dict[str, Any] | None = None
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._command_sets: dict[tuple[str, str], list[dict[str, Any]]] = {}
        # Forum supergroups and their topics; groups that became supergroups (delivery).
        self.forums: dict[int, set[int]] = {}
        self.migrated: dict[int, int] = {}
        # Groups as a `member_update` named them (title, forum): their messages say so.
        self._groups: dict[int, dict[str, Any]] = {}

    # --- serving ------------------------------------------------------------------------------
    @asynccontextmanager
    async def running(self) -> AsyncIterator[TelegramFake]:
        """Serve on a free loopback port; `base_url` is set inside the block."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._http)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        try:
            yield self
        finally:
            self._wake_poller(True)
            await runner.cleanup()

    @property
    def api_server(self) -> TelegramAPIServer:
        """For `AiohttpSession(api=fake.api_server)`."""
        return TelegramAPIServer.from_base(self.base_url)

    def session(self) -> AiohttpSession:
        """An aiogram session for this fake that closes at once: `Bot(token, session=…)`."""
        return LoopbackSession(api=self.api_server)

    # --- misbehaving on cue ---------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        times: int = 1,
        *,
        status: int = 429,
        retry_after: int = 3,
        description: str | None = None,
    ) -> None:
        """The next `times` calls of `method` fail with `status` (`DROP`: no answer at all)."""
        fault = _Fault(status, retry_after if status == 429 else None, description, "scripted")
        self._scripted[method.lower()].extend([fault] * times)

    def faults(
        self,
        *,
        rate_429: float = 0.0,
        rate_5xx: float = 0.0,
        retry_after: int = 1,
        seed: int = 0,
        methods: set[str] | None = None,
    ) -> None:
        """Fail calls at random, repeatably: 429 with `retry_after` or 502.

        `methods` limits it to those; by default everything but set-up and polling.
        """
        self._random = random.Random(seed)
        self._rate_429, self._rate_5xx, self._fault_retry_after = rate_429, rate_5xx, retry_after
        self._fault_methods = frozenset(m.lower() for m in methods) if methods else None

    def block_chat(self, chat_id: int) -> None:
        """The user blocked the bot (or the bot was removed from the group): 403 from now on."""
        self.blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        self.blocked.discard(chat_id)

    # --- forums and migrated groups ---------------------------------------------------------
    def make_forum(self, chat_id: int, topics: Iterable[int] = ()) -> None:
        """`chat_id` is a forum supergroup with these topics (their `message_thread_id`)."""
        self.forums[chat_id] = set(topics)

    def delete_topic(self, chat_id: int, topic: int) -> None:
        """The topic is deleted: a message sent to it is refused from now on."""
        self.forums.get(chat_id, set()).discard(topic)

    def migrate_group(self, old_id: int, new_id: int) -> None:
        """Group `old_id` became supergroup `new_id`: from now on a call to the old id is
        refused as Telegram refuses it, naming the new id."""
        self.migrated[old_id] = new_id

    def build_migration_updates(
        self, old_id: int, new_id: int, *, user_id: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The two service messages Telegram sends for the upgrade (by `user_id`): in the
        old group, `migrate_to_chat_id`; in the new supergroup, `migrate_from_chat_id`."""
        updates = []
        for chat, key, value in (
            (old_id, "migrate_to_chat_id", new_id),
            (new_id, "migrate_from_chat_id", old_id),
        ):
            message = {
                "message_id": self._new_message_id(chat),
                "date": int(time.time()),
                "chat": _chat(chat),
                "from": _user(user_id, "Anna", "en", None),
                key: value,
            }
            updates.append({"update_id": self._take_update_id(), "message": message})
        return updates[0], updates[1]

    def thread_of(self, chat_id: int, message_id: int) -> int | None:
        """The topic a message of the bot was sent to (None: the chat itself)."""
        thread = self._messages[(chat_id, message_id)].get("message_thread_id")
        return int(thread) if thread is not None else None

    def _migrated_refusal(self, chat_id: int) -> None:
        if chat_id in self.migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self.migrated[chat_id]},
            )

    def _thread(self, chat_id: int, params: dict[str, Any]) -> int | None:
        """The topic a message goes to: one the forum has, else refused as Telegram does."""
        thread = _maybe_int(params.get("message_thread_id"))
        if thread is not None and thread not in self.forums.get(chat_id, set()):
            raise ApiError(400, "Bad Request: message thread not found")
        return thread

    # --- what tests read ------------------------------------------------------------------------
    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages in the chat as they are now (after edits), oldest first."""
        return [m for (c, _), m in sorted(self._messages.items()) if c == chat_id]

    def chat(self, chat_id: int) -> list[dict[str, Any]]:
        return self.messages(chat_id)

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        return self._messages[(chat_id, message_id)]

    @property
    def calls(self) -> list[Call]:
        return self.requests

    def calls_of(self, method: str) -> list[Call]:
        return [call for call in self.requests if call.method.lower() == method.lower()]

    def send_times(self, chat_id: int) -> list[float]:
        """When each message to the chat was accepted, by the fake's clock."""
        return [at for at, method in self._accepted[chat_id] if method == "sendmessage"]

    def retry_after_violations(self, *, slack: float = 0.0) -> list[dict[str, Any]]:
        """Sends and edits accepted in a chat while a 429 given there still said to wait."""
        found = []
        for refusal in self.retry_afters:
            chat_id = refusal["chat_id"]
            if chat_id is None:
                continue
            until = refusal["at"] + refusal["retry_after"] - slack
            for at, method in self._accepted[chat_id]:
                if refusal["at"] < at < until:
                    found.append({"refusal": refusal, "at": at, "method": method})
        return found

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        return list(self._updates)

    def forget_messages(self, before: float, keep: Container[tuple[int, int]] = ()) -> int:
        """Forget the messages received before `before` (the fake's clock), but those in
        `keep` (`(chat_id, message_id)`), and the pace records as old: a run of many minutes
        (`bench/soak.py`) would otherwise hold every card. Answers how many were forgotten.
        The lists tests read (`sent`, `requests`, …) are theirs to clear."""
        old = [
            key for key, state in self._messages.items() if state["at"] < before and key not in keep
        ]
        for key in old:
            del self._messages[key]
        for chat_id, accepted in self._accepted.items():
            self._accepted[chat_id] = [entry for entry in accepted if entry[0] >= before]
        return len(old)

    # --- updates --------------------------------------------------------------------------------
    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for `getUpdates`; it gets the next `update_id` if it has none."""
        if "update_id" not in update:
            update["update_id"] = self._take_update_id()
        self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
        self._register_query(update)
        self._updates.append(update)
        self._wake_poller(True)
        return update

    def build_message_update(
        self,
        user_id: int,
        text: str | None,
        *,
        chat_id: int | None = None,
        language_code: str | None = "en",
        first_name: str = "Anna",
        username: str | None = None,
        reply_to: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A user's text message to the bot (in a private chat unless `chat_id` says).

        `reply_to`: the id of a message of that chat it replies to (the bot's or a user's);
        `text` None with `extra` (e.g. `{"sticker": {...}}`): a message without text."""
        chat = chat_id if chat_id is not None else user_id
        message_id = self._new_message_id(chat)
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self._groups.get(chat) or _chat(chat, first_name),
            "from": _user(user_id, first_name, language_code, username),
        }
        if text is not None:
            message["text"] = text
        message.update(extra or {})
        if reply_to is not None:
            if (chat, reply_to) in self._messages:
                message["reply_to_message"] = self._api_message(
                    self._messages[(chat, reply_to)], nested=True
                )
            else:
                message["reply_to_message"] = self._incoming[(chat, reply_to)]
        if text is not None and text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_length(command)}
            ]
        self._incoming[(chat, message_id)] = message
        return {"update_id": self._take_update_id(), "message": message}

    def build_callback_update(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        language_code: str | None = "en",
        first_name: str = "Anna",
        username: str | None = None,
    ) -> dict[str, Any]:
        """A tap on an inline button with `data` under the bot's message."""
        state = self._messages.get((chat_id, message_id))
        # A message the fake never had reaches the bot as an inaccessible one (date 0).
        message = (
            self._api_message(state)
            if state is not None
            else {"chat": _chat(chat_id), "message_id": message_id, "date": 0}
        )
        update_id = self._take_update_id()
        query_id = f"{user_id}{update_id:08d}"
        query = {
            "id": query_id,
            "from": _user(user_id, first_name, language_code, username),
            "chat_instance": str(chat_id),
            "message": message,
            "data": data,
        }
        self._open_queries.add(query_id)
        return {"update_id": update_id, "callback_query": query}

    def message_update(self, user_id: int, text: str | None, **kwargs: Any) -> dict[str, Any]:
        return self.push_update(self.build_message_update(user_id, text, **kwargs))

    def callback_update(
        self, user_id: int, chat_id: int, message_id: int, data: str, **kwargs: Any
    ) -> dict[str, Any]:
        return self.push_update(
            self.build_callback_update(user_id, chat_id, message_id, data, **kwargs)
        )

    # --- the bot in a group: added, removed, restricted; messages in a forum's topics ------
    def build_member_update(
        self,
        chat_id: int,
        new: str,
        *,
        old: str = "left",
        by: int,
        title: str | None = None,
        forum: bool = False,
        language_code: str | None = "en",
    ) -> dict[str, Any]:
        """A `my_chat_member` update: user `by` changed the bot's status in group `chat_id`
        from `old` to `new` (`member`, `administrator`, `restricted` (may not post), `left`,
        `kicked`). Like Telegram, the chat refuses the bot's messages from then on while
        the bot is out of it or may not post, and takes them again once it is back. The
        group keeps the title and forum flag it was first given."""
        known = self._groups.get(chat_id, {})
        chat = {**_chat(chat_id), "title": title or known.get("title") or f"Group {chat_id}"}
        if forum or known.get("is_forum"):
            chat["is_forum"] = True
            self.forums.setdefault(chat_id, set())
        self._groups[chat_id] = chat
        if new in _MAY_POST:
            self.unblock_chat(chat_id)
        else:
            self.block_chat(chat_id)
        return {
            "update_id": self._take_update_id(),
            "my_chat_member": {
                "chat": chat,
                "from": _user(by, "Anna", language_code, None),
                "date": int(time.time()),
                "old_chat_member": _bot_member(old),
                "new_chat_member": _bot_member(new),
            },
        }

    def member_update(self, chat_id: int, new: str, **kwargs: Any) -> dict[str, Any]:
        return self.push_update(self.build_member_update(chat_id, new, **kwargs))

    def topic_message_update(
        self, user_id: int, text: str, *, chat_id: int, topic: int, **kwargs: Any
    ) -> dict[str, Any]:
        """A user's message in topic `topic` of forum supergroup `chat_id` (which has that
        topic, then, for the bot's messages to it too)."""
        self.forums.setdefault(chat_id, set()).add(topic)
        update = self.build_message_update(
            user_id,
            text,
            chat_id=chat_id,
            extra={"message_thread_id": topic, "is_topic_message": True},
            **kwargs,
        )
        update["message"]["chat"] = {**update["message"]["chat"], "is_forum": True}
        return self.push_update(update)

    async def deliver_webhook(
        self,
        url: str,
        update: dict[str, Any],
        *,
        secret_token: str | None = None,
        timeout: float = 10.0,
    ) -> int:
        """POST the update as Telegram does and answer the HTTP status the bot gave.

        A method the bot puts in its answer (`{"method": "sendMessage", …}`) is carried
        out, as Telegram does.
        """
        self._register_query(update)
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token else {}
        async with httpx.AsyncClient(timeout=timeout) as http:
            response = await http.post(url, json=update, headers=headers)
        self.webhook_deliveries.append(
            {"url": url, "update": update, "status": response.status_code, "at": self.clock()}
        )
        if response.is_success and response.headers.get("content-type", "").startswith(
            "application/json"
        ):
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("method"), str):
                raw = {k: v for k, v in body.items() if k != "method"}
                await self._call(body["method"], self.token, raw)
        return response.status_code

    # --- the API --------------------------------------------------------------------------------
    async def _http(self, request: web.Request) -> web.StreamResponse:
        raw: dict[str, Any] | ApiError
        try:
            raw = await _read_raw(request)
        except ApiError as exc:
            raw = exc
        status, body = await self._call(
            request.match_info["method"], request.match_info["token"], raw
        )
        if status == DROP:
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)
        return web.json_response(body, status=status)

    async def _call(
        self, method: str, token: str, raw: dict[str, Any] | ApiError
    ) -> tuple[int, dict[str, Any]]:
        call = Call(method, {}, self.clock())
        self.requests.append(call)
        try:
            if isinstance(raw, ApiError):
                raise raw
            call.params = _decode(raw)
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            key = method.lower()
            handler = self._handlers.get(key)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            fault = self._take_fault(key)
            if fault is not None:
                call.status, body = self._fault_answer(call, fault)
                return call.status, body
            result = await handler(call.params)
        except ApiError as exc:
            self.rejected.append((method, exc.description))
            call.status = exc.code
            return exc.code, _error(exc.code, exc.description, exc.parameters)
        return 200, {"ok": True, "result": result}

    def _take_fault(self, key: str) -> _Fault | None:
        scripted = self._scripted.get(key)
        if scripted:
            return scripted.popleft()
        if self._random is None:
            return None
        chosen = key not in SPARED if self._fault_methods is None else key in self._fault_methods
        if not chosen:
            return None
        roll = self._random.random()
        if roll < self._rate_429:
            return _Fault(429, self._fault_retry_after, None, "random")
        if roll < self._rate_429 + self._rate_5xx:
            return _Fault(502, None, None, "random")
        return None

    def _fault_answer(self, call: Call, fault: _Fault) -> tuple[int, dict[str, Any]]:
        if fault.status == DROP:
            return DROP, {}
        if fault.status == 429:
            retry_after = fault.retry_after or 1
            chat_id = _maybe_int(call.params.get("chat_id"))
            self._record_429(call.method, chat_id, retry_after, fault.reason)
            description = fault.description or f"Too Many Requests: retry after {retry_after}"
            return 429, _error(429, description, {"retry_after": retry_after})
        description = fault.description or _FAULT_DESCRIPTIONS.get(
            fault.status, HTTPStatus(fault.status).phrase
        )
        return fault.status, _error(fault.status, description)

    async def _get_me(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            **BOT_USER,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._writable_chat(params)
        plain, entities = _render(params)
        markup = _check_markup(params.get("reply_markup"))
        thread = self._thread(chat_id, params)
        reply_to = self._reply_target(chat_id, params)
        state = self._post(
            "sendMessage",
            chat_id,
            params,
            text=params["text"],
            plain=plain,
            entities=entities,
            markup=markup,
            reply_to=reply_to,
            reply_parameters=params.get("reply_parameters"),
            message_thread_id=thread,
        )
        self.sent.append(dict(state))
        return self._api_message(state)

    def _post(
        self,
        method: str,
        chat_id: int,
        params: dict[str, Any],
        *,
        text: str,
        plain: str,
        entities: list[dict[str, Any]],
        markup: Any,
        reply_to: int | None,
        reply_parameters: Any,
        **more: Any,
    ) -> dict[str, Any]:
        """Pace the chat, then keep a new message of the bot's there: its state, which the
        edits change."""
        self._pace(method, chat_id)
        message_id = self._new_message_id(chat_id)
        state: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self._groups.get(chat_id) or _chat(chat_id),
            "chat_id": chat_id,
            "from": BOT_USER,
            "text": text,
            "parse_mode": params.get("parse_mode"),
            "plain": plain,
            "entities": entities,
            "reply_markup": markup,
            "reply_to": reply_to,
            "reply_parameters": reply_parameters,
            "at": self.clock(),
            "edited_at": None,
            "edit_date": None,
            **more,
        }
        self._messages[(chat_id, message_id)] = state
        return state

    async def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        """An uploaded PNG or JPEG within Telegram's limits (size, sides, ratio), with an
        optional caption of at most 1024 characters; recorded in `photos` with its bytes."""
        chat_id = self._writable_chat(params)
        photo = params.get("photo")
        if isinstance(photo, str) and photo.startswith("attach://"):
            photo = params.get(photo.removeprefix("attach://"))  # the file is a part of its own
        if not isinstance(photo, Upload):
            raise ApiError(400, "Bad Request: there is no photo in the request")
        width, height = _image_size(photo.data)
        if len(photo.data) > MAX_PHOTO_BYTES:
            raise ApiError(400, "Bad Request: PHOTO_SAVE_FILE_INVALID")
        if width + height > MAX_PHOTO_SIDES or max(width, height) > MAX_PHOTO_RATIO * min(
            width, height
        ):
            raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        caption = params.get("caption")
        plain, entities = ("", []) if not caption else _render({**params, "text": caption})
        if utf16_length(plain) > MAX_CAPTION:
            raise ApiError(400, "Bad Request: message caption is too long")
        markup = _check_markup(params.get("reply_markup"))
        thread = self._thread(chat_id, params)
        state = self._post(
            "sendPhoto",
            chat_id,
            params,
            text=caption or "",
            plain=plain,
            entities=entities,
            markup=markup,
            reply_to=None,
            reply_parameters=None,
            photo={"width": width, "height": height, "size": len(photo.data)},
            message_thread_id=thread,
        )
        self.photos.append(
            {
                "chat_id": chat_id,
                "message_id": state["message_id"],
                "caption": caption,
                "filename": photo.filename,
                "content_type": photo.content_type,
                "data": photo.data,
                "width": width,
                "height": height,
                "at": state["at"],
            }
        )
        return self._api_message(state)

    async def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        state = self._message_to_edit(params)
        plain, entities = _render(params)
        markup = _check_markup(params.get("reply_markup"))
        # Telegram compares what users would see; leaving reply_markup out removes the keyboard.
        if (plain, entities, _inline(markup)) == (
            state["plain"],
            state["entities"],
            _inline(state["reply_markup"]),
        ):
            raise ApiError(400, NOT_MODIFIED)
        self._pace("editMessageText", state["chat_id"])
        state.update(text=params["text"], parse_mode=params.get("parse_mode"))
        state.update(plain=plain, entities=entities, reply_markup=markup)
        return self._edited(state, "editMessageText", params)

    async def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        state = self._message_to_edit(params)
        markup = _check_markup(params.get("reply_markup"))
        if _inline(markup) == _inline(state["reply_markup"]):
            raise ApiError(400, NOT_MODIFIED)
        self._pace("editMessageReplyMarkup", state["chat_id"])
        state["reply_markup"] = markup
        return self._edited(state, "editMessageReplyMarkup", params)

    async def _delete_message(self, params: dict[str, Any]) -> bool:
        chat_id = self._writable_chat(params)
        message_id = _int(params, "message_id")
        if self._messages.pop((chat_id, message_id), None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        self.deleted.append({"chat_id": chat_id, "message_id": message_id, "at": self.clock()})
        return True

    async def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        # A query is answered once; an unknown or answered one is "too old" to Telegram.
        if query_id not in self._open_queries:
            raise ApiError(400, QUERY_INVALID)
        text = params.get("text")
        if text is not None and utf16_length(text) > MAX_CALLBACK_ANSWER:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._open_queries.discard(query_id)
        self.callback_answers.append(
            {
                "callback_query_id": query_id,
                "text": text,
                "show_alert": _flag(params, "show_alert"),
                "url": params.get("url"),
                "cache_time": _maybe_int(params.get("cache_time")),
                "at": self.clock(),
            }
        )
        return True

    async def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            if not _COMMAND.fullmatch(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        language = params.get("language_code")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise ApiError(400, "Bad Request: invalid language code specified")
        scope = params.get("scope")
        if isinstance(scope, dict) and "chat_id" in scope and not self._knows_chat(scope):
            # A chat the bot has never been in, e.g. a user who never wrote to it.
            raise ApiError(400, "Bad Request: chat not found")
        self.commands.append(
            {
                "commands": commands,
                "scope": params.get("scope"),
                "language_code": language,
                "at": self.clock(),
            }
        )
        self._command_sets[_command_key(params)] = commands
        return True

    def _knows_chat(self, scope: dict[str, Any]) -> bool:
        chat_id = _maybe_int(scope.get("chat_id"))
        seen = self._incoming.keys() | self._messages.keys()
        return any(chat == chat_id for chat, _ in seen)

    async def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self._command_sets.get(_command_key(params), []))

    async def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self._command_sets.pop(_command_key(params), None)
        return True

    async def _set_webhook(self, params: dict[str, Any]) -> bool:
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        record = {
            "url": params.get("url", ""),
            "secret_token": secret,
            "allowed_updates": params.get("allowed_updates"),
            "drop_pending_updates": _flag(params, "drop_pending_updates"),
            "max_connections": _maybe_int(params.get("max_connections")),
            "at": self.clock(),
        }
        self.webhooks.append(record)
        self._webhook = record if record["url"] else None
        self._set_allowed_updates(params)
        if record["drop_pending_updates"]:
            self._updates.clear()
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self._webhook = None
        if _flag(params, "drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, _params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self._webhook["url"] if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook is not None:
            if self._webhook["max_connections"] is not None:
                info["max_connections"] = self._webhook["max_connections"]
            if self._webhook["allowed_updates"] is not None:
                info["allowed_updates"] = self._webhook["allowed_updates"]
        return info

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise ApiError(409, WEBHOOK_ACTIVE)
        # A new getUpdates ends one still waiting, as Telegram does to a second bot instance.
        self._wake_poller(False)
        self._set_allowed_updates(params)
        self._confirm(_maybe_int(params.get("offset")) or 0)
        limit = min(max(_maybe_int(params.get("limit")) or 100, 1), 100)
        wait = min(float(params.get("timeout") or 0), self.poll_cap)
        if not self._deliverable() and wait > 0:
            poller: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            self._poller = poller
            try:
                done, _ = await asyncio.wait({poller}, timeout=wait)
            finally:
                if self._poller is poller:
                    self._poller = None
            if poller in done and not poller.result():
                raise ApiError(409, OTHER_POLLER)
        return self._deliverable()[:limit]

    async def _send_chat_action(self, params: dict[str, Any]) -> bool:
        self._writable_chat(params)
        return True

    # --- the rules ------------------------------------------------------------------------------
    def _writable_chat(self, params: dict[str, Any]) -> int:
        chat_id = _int(params, "chat_id")
        self._migrated_refusal(chat_id)
        if chat_id in self.blocked:
            if chat_id > 0:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            kind = _chat(chat_id)["type"]
            raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
        return chat_id

    def _message_to_edit(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")  # inline mode: not modelled
        chat_id = self._writable_chat(params)
        state = self._messages.get((chat_id, _int(params, "message_id")))
        if state is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return state

    def _edited(self, state: dict[str, Any], method: str, params: dict[str, Any]) -> dict[str, Any]:
        state["edited_at"] = self.clock()
        state["edit_date"] = int(time.time())
        self.edits.append(
            {
                "method": method,
                "chat_id": state["chat_id"],
                "message_id": state["message_id"],
                "text": params.get("text"),
                "parse_mode": params.get("parse_mode"),
                "reply_markup": state["reply_markup"],
                "at": state["edited_at"],
            }
        )
        return self._api_message(state)

    def _reply_target(self, chat_id: int, params: dict[str, Any]) -> int | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            target = _maybe_int(reply.get("message_id"))
            lenient = bool(reply.get("allow_sending_without_reply"))
        else:
            target = _maybe_int(params.get("reply_to_message_id"))
            lenient = _flag(params, "allow_sending_without_reply")
        if target is None:
            return None
        if (chat_id, target) in self._messages or (chat_id, target) in self._incoming:
            return target
        if lenient:
            return None
        raise ApiError(400, "Bad Request: message to be replied not found")

    def _pace(self, method: str, chat_id: int) -> None:
        limits = self.limits
        now = self.clock()
        if limits is not None:
            waits: list[tuple[float, str]] = []
            tat = self._tat.get(chat_id, now)
            earliest = tat - limits.chat_interval * (limits.chat_burst - 1)
            if now < earliest:
                waits.append((earliest - now, "chat"))
            group = self._group_times[chat_id]
            while group and group[0] <= now - 60.0:
                group.popleft()
            if chat_id < 0 and len(group) >= limits.group_per_minute:
                waits.append((group[0] + 60.0 - now, "group"))
            while self._global_times and self._global_times[0] <= now - 1.0:
                self._global_times.popleft()
            if len(self._global_times) >= limits.global_per_second:
                waits.append((self._global_times[0] + 1.0 - now, "global"))
            if waits:
                wait, reason = max(waits)
                retry_after = max(1, math.ceil(wait))
                self._record_429(method, chat_id, retry_after, reason)
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after},
                )
            self._tat[chat_id] = max(tat, now) + limits.chat_interval
            if chat_id < 0:
                group.append(now)
            self._global_times.append(now)
        self._accepted[chat_id].append((now, method.lower()))

    def _record_429(self, method: str, chat_id: int | None, retry_after: int, reason: str) -> None:
        self.retry_afters.append(
            {
                "method": method,
                "chat_id": chat_id,
                "at": self.clock(),
                "retry_after": retry_after,
                "reason": reason,
            }
        )

    def _api_message(self, state: dict[str, Any], *, nested: bool = False) -> dict[str, Any]:
        """The message as Telegram returns it: visible text and entities, no HTML."""
        message: dict[str, Any] = {
            "message_id": state["message_id"],
            "date": state["date"],
            "chat": state["chat"],
            "from": state["from"],
        }
        if (photo := state.get("photo")) is not None:
            unique = f"p{state['chat_id']}_{state['message_id']}"
            message["photo"] = [
                {
                    "file_id": f"photo-{unique}",
                    "file_unique_id": unique,
                    "width": photo["width"],
                    "height": photo["height"],
                    "file_size": photo["size"],
                }
            ]
            if state["plain"]:
                message["caption"] = state["plain"]
            if state["entities"]:
                message["caption_entities"] = state["entities"]
        else:
            message["text"] = state["plain"]
            if state["entities"]:
                message["entities"] = state["entities"]
        if state.get("message_thread_id") is not None:
            message["message_thread_id"] = state["message_thread_id"]
            message["is_topic_message"] = True
        if inline := _inline(state["reply_markup"]):
            message["reply_markup"] = {"inline_keyboard": inline}
        if state["edit_date"] is not None:
            message["edit_date"] = state["edit_date"]
        if state["reply_to"] is not None and not nested:
            key = (state["chat_id"], state["reply_to"])
            if key in self._messages:
                message["reply_to_message"] = self._api_message(self._messages[key], nested=True)
            elif key in self._incoming:
                message["reply_to_message"] = self._incoming[key]
        return message

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            while self._updates and int(self._updates[0]["update_id"]) < offset:
                self._updates.popleft()
        elif offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()

    def _deliverable(self) -> list[dict[str, Any]]:
        # Telegram drops updates of types the bot did not ask for; so does the fake.
        kept = [u for u in self._updates if _update_type(u) in self._allowed_updates]
        if len(kept) != len(self._updates):
            self._updates = deque(kept)
        return kept

    def _set_allowed_updates(self, params: dict[str, Any]) -> None:
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) or DEFAULT_UPDATE_TYPES

    def _wake_poller(self, has_updates: bool) -> None:
        """Answer a waiting getUpdates now; False ends it with 409 instead."""
        if self._poller is not None and not self._poller.done():
            self._poller.set_result(has_updates)

    def _register_query(self, update: dict[str, Any]) -> None:
        query = update.get("callback_query")
        if isinstance(query, dict) and "id" in query:
            self._open_queries.add(str(query["id"]))

    def _take_update_id(self) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        return update_id

    def _new_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] += 1
        return self._last_message_id[chat_id]


# --- parameters and answers -------------------------------------------------------------------
async def _read_raw(request: web.Request) -> dict[str, Any]:
    raw: dict[str, Any] = dict(request.query)
    if not request.body_exists:
        return raw
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "Bad Request: can't parse JSON object") from None
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: can't parse JSON object")
        raw.update(body)
    else:
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                raw[key] = Upload(value.filename, value.content_type, value.file.read())
            else:
                raw[key] = value if isinstance(value, str) else bytes(value).decode()
    return raw


def _decode(raw: dict[str, Any]) -> dict[str, Any]:
    """Form values as Telegram reads them: JSON fields decoded, other values as strings."""
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key in JSON_FIELDS:
            if not isinstance(value, str):
                params[key] = value
                continue
            try:
                params[key] = json.loads(value)
            except ValueError:
                what = "reply keyboard markup" if key == "reply_markup" else key
                raise ApiError(400, f"Bad Request: can't parse {what} JSON object") from None
        elif isinstance(value, str | Upload):
            params[key] = value
        else:
            params[key] = json.dumps(value)
    return params


def _render(params: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The visible text and entities of a message's text, or Telegram's refusal."""
    text = params.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    mode = str(params.get("parse_mode") or "").lower()
    if mode == "html":
        try:
            plain, entities = parse_html(text)
        except HtmlError as exc:
            raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
    elif mode in ("", "markdown", "markdownv2"):
        # Markdown is not modelled: its text counts as typed.
        plain, entities = text, list(params.get("entities") or [])
    else:
        raise ApiError(400, "Bad Request: unsupported parse_mode")
    if not plain.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_length(plain) > MAX_TEXT:
        raise ApiError(400, "Bad Request: message is too long")
    return plain, entities


def _check_markup(markup: Any) -> dict[str, Any] | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup  # a reply keyboard or its removal: not checked
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError(400, "Bad Request: can't parse inline keyboard markup JSON object")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise ApiError(
                    400, "Bad Request: can't parse inline keyboard button: Text must be non-empty"
                )
            if not BUTTON_ACTIONS & button.keys():
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard",
                )
            data = button.get("callback_data")
            if "callback_data" in button and not (
                isinstance(data, str) and 1 <= len(data.encode()) <= MAX_CALLBACK_DATA
            ):
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if "url" in button and not _BUTTON_URL.fullmatch(str(button["url"])):
                raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
            if "copy_text" in button and not _copy_text_ok(button["copy_text"]):
                raise ApiError(400, "Bad Request: BUTTON_COPY_TEXT_INVALID")
    return markup


def _copy_text_ok(copy: Any) -> bool:
    """CopyTextButton: the text to copy, 1-256 characters."""
    text = copy.get("text") if isinstance(copy, dict) else None
    return isinstance(text, str) and 1 <= len(text) <= MAX_COPY_TEXT


def _inline(markup: dict[str, Any] | None) -> list[Any] | None:
    """The inline keyboard users see; an empty one is none at all."""
    if not markup:
        return None
    return markup.get("inline_keyboard") or None


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG (its IHDR) or a JPEG (its first SOFn), or Telegram's refusal."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:2] == b"\xff\xd8":
        at = 2
        while at + 9 <= len(data) and data[at] == 0xFF:
            marker, length = data[at + 1], int.from_bytes(data[at + 2 : at + 4], "big")
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height = int.from_bytes(data[at + 5 : at + 7], "big")
                return int.from_bytes(data[at + 7 : at + 9], "big"), height
            at += 2 + length
    raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")


def _int(params: dict[str, Any], key: str) -> int:
    value = params.get(key)
    if value is None or value == "":
        raise ApiError(400, f"Bad Request: {key} is empty")
    try:
        return int(value)
    except ValueError:
        what = "chat not found" if key == "chat_id" else f"invalid {key} specified"
        raise ApiError(400, f"Bad Request: {what}") from None


def _maybe_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _flag(params: dict[str, Any], key: str) -> bool:
    return str(params.get(key, "")).lower() in {"true", "1"}


def _command_key(params: dict[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


def _update_type(update: dict[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


def _chat(chat_id: int, first_name: str = "Anna") -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": first_name}
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": f"Group {chat_id}"}


def _user(
    user_id: int, first_name: str, language_code: str | None, username: str | None
) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code is not None:
        user["language_code"] = language_code
    if username is not None:
        user["username"] = username
    return user


# The bot's statuses in a group in which it may post.
_MAY_POST: Final = frozenset({"member", "administrator"})


def _bot_member(status: str) -> dict[str, Any]:
    """The bot as a `ChatMember` of `status`, with the fields Telegram sends for it."""
    member: dict[str, Any] = {"status": status, "user": BOT_USER}
    if status == "administrator":
        member |= {"can_be_edited": False, "is_anonymous": False}
        member |= {
            f"can_{right}": right in ("manage_chat", "delete_messages", "invite_users")
            for right in (
                "manage_chat",
                "delete_messages",
                "manage_video_chats",
                "restrict_members",
                "promote_members",
                "change_info",
                "invite_users",
                "post_stories",
                "edit_stories",
                "delete_stories",
                "send_welcome_messages",
            )
        }
    elif status == "restricted":
        member |= {"is_member": True, "until_date": 0}
        member |= {
            f"can_{right}": False
            for right in (
                "send_messages",
                "send_audios",
                "send_documents",
                "send_photos",
                "send_videos",
                "send_video_notes",
                "send_voice_notes",
                "send_polls",
                "send_other_messages",
                "add_web_page_previews",
                "react_to_messages",
                "edit_tag",
                "change_info",
                "invite_users",
                "pin_messages",
                "manage_topics",
            )
        }
    elif status == "kicked":
        member["until_date"] = 0
    elif status not in ("member", "left"):
        raise ValueError(f"not a chat member's status: {status}")
    return member


def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body
