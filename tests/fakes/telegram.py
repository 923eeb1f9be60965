"""A loopback Telegram Bot API that the real aiogram `Bot` talks to over HTTP.

It answers like Telegram (`{"ok": …, "result": …}`), keeps the chats' messages as they
are after every edit, records what was sent, edited and answered, serves updates through
`getUpdates` or POSTs them to a webhook, refuses what Telegram refuses (bad HTML, text
over 4096, callback data over 64 bytes, identical edits), and answers 429 with
`retry_after`: on demand, at random, or by enforcing Telegram's rate limits.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.server import serve_app
from tests.fakes.telegram_html import HtmlError, check_html, utf16_length

BOT_ID = 7_000_000_001
BOT_USERNAME = "leadrelay_test_bot"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
JSON_FIELDS = {
    "reply_markup",
    "reply_parameters",
    "entities",
    "link_preview_options",
    "commands",
    "scope",
    "allowed_updates",
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float


@dataclass
class Limits:
    """Telegram's documented pace; `burst` messages may go back to back in a private chat."""

    chat_interval: float = 1.0
    chat_burst: int = 1
    group_per_minute: int = 20
    global_per_second: int = 30


@dataclass
class TelegramFake:
    token: str = "123456:TEST-token-for-the-fake"
    clock: Callable[[], float] = time.monotonic
    limits: Limits | None = None  # None: no limits enforced
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    callback_answers: list[dict[str, Any]] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    retry_afters: list[dict[str, Any]] = field(default_factory=list)
    blocked: set[int] = field(default_factory=set)
    base_url: str = ""

    def __post_init__(self) -> None:
        self.app = Starlette(
            routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])]
        )
        self._next_message_id: dict[int, int] = defaultdict(lambda: 100)
        self._updates: deque[dict[str, Any]] = deque()
        self._update_event = asyncio.Event()
        self._next_update_id = 1
        self._scripted: dict[str, list[tuple[int, float | None]]] = defaultdict(list)
        self._random: random.Random | None = None
        self._rate_429 = self._rate_5xx = 0.0
        self._retry_after = 1.0
        self._chat_times: dict[int, deque[float]] = defaultdict(deque)
        self._global_times: deque[float] = deque()
        self._blocked_until: dict[int, float] = {}

    # --- set-up -----------------------------------------------------------------------------
    @asynccontextmanager
    async def running(self) -> AsyncIterator[TelegramFake]:
        async with serve_app(self.app) as base_url:
            self.base_url = base_url
            yield self

    def fail_next(
        self, method: str, times: int = 1, *, status: int = 429, retry_after: float | None = 3
    ) -> None:
        self._scripted[method].extend([(status, retry_after)] * times)

    def faults(
        self,
        *,
        rate_429: float = 0.0,
        rate_5xx: float = 0.0,
        retry_after: float = 1.0,
        seed: int = 0,
    ) -> None:
        self._random = random.Random(seed)
        self._rate_429, self._rate_5xx, self._retry_after = rate_429, rate_5xx, retry_after

    def block_chat(self, chat_id: int) -> None:
        self.blocked.add(chat_id)

    # --- what tests read ------------------------------------------------------------------------
    def chat(self, chat_id: int) -> list[dict[str, Any]]:
        """The chat's messages as they are now, oldest first."""
        return [m for (c, _), m in sorted(self.messages.items()) if c == chat_id]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        return self.messages[(chat_id, message_id)]

    def calls_of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    # --- updates --------------------------------------------------------------------------------
    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        update.setdefault("update_id", self._next_update_id)
        self._next_update_id = max(self._next_update_id, int(update["update_id"])) + 1
        self._updates.append(update)
        self._update_event.set()
        return update

    def message_update(
        self,
        user_id: int,
        text: str,
        *,
        language_code: str = "en",
        chat_id: int | None = None,
        first_name: str = "Anna",
    ) -> dict[str, Any]:
        chat = chat_id if chat_id is not None else user_id
        message_id = self._new_message_id(chat)
        return self.push_update(
            {
                "message": {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": _chat(chat),
                    "from": {
                        "id": user_id,
                        "is_bot": False,
                        "first_name": first_name,
                        "language_code": language_code,
                    },
                    "text": text,
                    **(
                        {
                            "entities": [
                                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
                            ]
                        }
                        if text.startswith("/")
                        else {}
                    ),
                }
            }
        )

    def callback_update(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        language_code: str = "en",
        first_name: str = "Anna",
    ) -> dict[str, Any]:
        message = self.messages.get((chat_id, message_id)) or {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "text": "?",
        }
        return self.push_update(
            {
                "callback_query": {
                    "id": f"cb{self._next_update_id}",
                    "from": {
                        "id": user_id,
                        "is_bot": False,
                        "first_name": first_name,
                        "language_code": language_code,
                    },
                    "chat_instance": str(chat_id),
                    "message": message,
                    "data": data,
                }
            }
        )

    async def deliver_webhook(
        self, url: str, update: dict[str, Any], *, secret_token: str | None
    ) -> int:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token else {}
        async with httpx.AsyncClient() as http:
            response = await http.post(url, json=update, headers=headers)
        return response.status_code

    # --- the API ---------------------------------------------------------------------------------
    async def _endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.path_params["method"]
        params = _params(
            dict(request.query_params),
            await request.body(),
            request.headers.get("content-type", ""),
        )
        self.calls.append(Call(method, params, self.clock()))
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        if self._scripted.get(method):
            status, retry_after = self._scripted[method].pop(0)
            return self._fault(method, params, status, retry_after)
        if self._random is not None and method not in {
            "getUpdates",
            "getMe",
            "setMyCommands",
            "deleteWebhook",
            "setWebhook",
        }:
            roll = self._random.random()
            if roll < self._rate_429:
                return self._fault(method, params, 429, self._retry_after)
            if roll < self._rate_429 + self._rate_5xx:
                return self._fault(method, params, 502, None)
        try:
            result = await handler(params)
        except _ApiError as exc:
            self.rejected.append((method, exc.description))
            return _error(exc.code, exc.description, exc.parameters)
        return JSONResponse({"ok": True, "result": result})

    def _fault(
        self, method: str, params: dict[str, Any], status: int, retry_after: float | None
    ) -> JSONResponse:
        if status == 429:
            chat = params.get("chat_id")
            self.retry_afters.append(
                {
                    "method": method,
                    "chat_id": int(chat) if chat is not None else None,
                    "at": self.clock(),
                    "retry_after": retry_after,
                }
            )
            return _error(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        return _error(status, "Bad Gateway")

    async def _m_getme(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "leadrelay",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        self._check_writable(chat_id)
        self._check_text(params)
        self._check_pace(chat_id)
        message_id = self._new_message_id(chat_id)
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "leadrelay"},
            "text": params["text"],
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        reply_to = (params.get("reply_parameters") or {}).get("message_id") or params.get(
            "reply_to_message_id"
        )
        record = {
            **message,
            "parse_mode": params.get("parse_mode"),
            "reply_to": int(reply_to) if reply_to else None,
            "at": self.clock(),
        }
        self.messages[(chat_id, message_id)] = message
        self.sent.append(record)
        return message

    async def _m_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        self._check_writable(chat_id)
        message = self.messages.get((chat_id, message_id))
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        self._check_text(params)
        markup = params.get("reply_markup")
        if message["text"] == params["text"] and message.get("reply_markup") == markup:
            raise _ApiError(
                400,
                NOT_MODIFIED,
            )
        self._check_pace(chat_id)
        message["text"] = params["text"]
        if markup is not None:
            message["reply_markup"] = markup
        self.edits.append(
            {
                "chat_id": chat_id,
                "message_id": message_id,
                "text": params["text"],
                "parse_mode": params.get("parse_mode"),
                "reply_markup": markup,
                "at": self.clock(),
            }
        )
        return message

    async def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        message = self.messages.get((chat_id, message_id))
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        _check_markup(params.get("reply_markup"))
        message["reply_markup"] = params.get("reply_markup")
        return message

    async def _m_deletemessage(self, params: dict[str, Any]) -> bool:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise _ApiError(400, "Bad Request: message to delete not found")
        del self.messages[key]
        return True

    async def _m_answercallbackquery(self, params: dict[str, Any]) -> bool:
        self.callback_answers.append(
            {
                "id": params["callback_query_id"],
                "text": params.get("text"),
                "show_alert": params.get("show_alert") in (True, "true", "True"),
                "at": self.clock(),
            }
        )
        return True

    async def _m_setmycommands(self, params: dict[str, Any]) -> bool:
        self.commands.append(params)
        return True

    async def _m_getmycommands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        language = params.get("language_code")
        for entry in reversed(self.commands):
            if entry.get("language_code") == language:
                return list(entry.get("commands", []))
        return []

    async def _m_setwebhook(self, params: dict[str, Any]) -> bool:
        self.webhooks.append(params)
        return True

    async def _m_deletewebhook(self, _params: dict[str, Any]) -> bool:
        return True

    async def _m_getwebhookinfo(self, _params: dict[str, Any]) -> dict[str, Any]:
        url = self.webhooks[-1]["url"] if self.webhooks else ""
        return {
            "url": url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _m_sendchataction(self, _params: dict[str, Any]) -> bool:
        return True

    async def _m_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        while self._updates and int(self._updates[0]["update_id"]) < offset:
            self._updates.popleft()
        if not self._updates:
            self._update_event.clear()
            # Long polling, kept short so tests move on.
            wait = min(float(params.get("timeout") or 0), 0.5)
            if wait > 0:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._update_event.wait(), wait)
        limit = int(params.get("limit") or 100)
        return list(self._updates)[:limit]

    # --- Telegram's refusals -------------------------------------------------------------------
    def _check_writable(self, chat_id: int) -> None:
        if chat_id in self.blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")

    def _check_text(self, params: dict[str, Any]) -> None:
        text = str(params.get("text", ""))
        if params.get("parse_mode") == "HTML":
            try:
                visible = check_html(text)
            except HtmlError as exc:
                raise _ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        else:
            visible = text
        if not visible.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if utf16_length(visible) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        _check_markup(params.get("reply_markup"))

    def _check_pace(self, chat_id: int) -> None:
        if self.limits is None:
            return
        now = self.clock()
        times = self._chat_times[chat_id]
        if chat_id < 0:
            window, allowed = 60.0, self.limits.group_per_minute
        else:
            window, allowed = (
                self.limits.chat_interval * self.limits.chat_burst,
                self.limits.chat_burst,
            )
        while times and times[0] <= now - window:
            times.popleft()
        while self._global_times and self._global_times[0] <= now - 1.0:
            self._global_times.popleft()
        if len(times) >= allowed:
            retry = max(1, int(times[0] + window - now + 0.999))
            self.retry_afters.append(
                {"method": "pace", "chat_id": chat_id, "at": now, "retry_after": retry}
            )
            raise _ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        if len(self._global_times) >= self.limits.global_per_second:
            self.retry_afters.append(
                {"method": "pace", "chat_id": None, "at": now, "retry_after": 1}
            )
            raise _ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        times.append(now)
        self._global_times.append(now)

    def _new_message_id(self, chat_id: int) -> int:
        self._next_message_id[chat_id] += 1
        return self._next_message_id[chat_id]


class _ApiError(Exception):
    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


def _check_markup(markup: Any) -> None:
    if not markup:
        return
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id < 0:
        return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}
    return {"id": chat_id, "type": "private", "first_name": "Anna"}


def _params(query: dict[str, str], body: bytes, content_type: str) -> dict[str, Any]:
    raw: dict[str, str] = dict(query)
    if body and content_type.startswith("application/x-www-form-urlencoded"):
        raw.update(parse_qsl(body.decode(), keep_blank_values=True))
    elif body and content_type.startswith("application/json"):
        raw.update(
            {k: v if isinstance(v, str) else json.dumps(v) for k, v in json.loads(body).items()}
        )
    elif body and content_type.startswith("multipart/form-data"):
        raw.update(_multipart(body, content_type))
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key in JSON_FIELDS:
            params[key] = json.loads(value)
        else:
            params[key] = value
    return params


def _multipart(body: bytes, content_type: str) -> dict[str, str]:
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    fields = {}
    for part in body.split(b"--" + boundary):
        head, _, value = part.partition(b"\r\n\r\n")
        if b'name="' not in head:
            continue
        name = head.split(b'name="', 1)[1].split(b'"', 1)[0].decode()
        fields[name] = value.rsplit(b"\r\n", 1)[0].decode()
    return fields


def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=code)
