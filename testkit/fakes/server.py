"""Serving a fake's ASGI app on a free loopback port for the length of a test, and the
pieces every fake shares to misbehave on cue: scripted answers and a dropped connection.

    async with serve_app(app) as base_url:   # "http://127.0.0.1:41234"
        ...

A fake's `fail_next(*answers)` queues answers given instead of the real one, first in
first out; each is a `Scripted`: an HTTP status (`503`), a JSON body answered with 200,
`(status, body)`, or `DOWN` — the connection breaks mid-answer, as a crashed server's
would. `closed_url()` is an address where nothing listens at all.

A fake's `outage` plays a service that is down for a while rather than for a few calls:
`fake.outage.start()` answers every request with 503 (or any `Scripted`, such as `DOWN`)
until `fake.outage.stop()`, or until its `ends` callable says the outage is over (a test's
simulated clock: "down for a minute"). The requests still land in the fake's `requests`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send


class Down:
    def __repr__(self) -> str:
        return "DOWN"


DOWN: Final = Down()
Scripted = int | dict[str, Any] | tuple[int, dict[str, Any]] | Down


class ConnectionDropped(Exception):
    """Raised inside a fake after the answer has begun, so the server breaks the connection."""


class _QuietDrops(logging.Filter):
    # uvicorn logs an app's exception with its traceback; a drop on cue is not news.
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


_uvicorn_log = logging.getLogger("uvicorn.error")
if not any(isinstance(existing, _QuietDrops) for existing in _uvicorn_log.filters):
    _uvicorn_log.addFilter(_QuietDrops())


async def drop_connection(send: Send) -> None:
    """Start an answer promising a body, then break off: the client sees a protocol error."""
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]}
    )
    raise ConnectionDropped


def scripted_response(answer: int | dict[str, Any] | tuple[int, dict[str, Any]]) -> JSONResponse:
    if isinstance(answer, int):
        return JSONResponse({"message": "scripted failure"}, status_code=answer)
    if isinstance(answer, tuple):
        status, body = answer
        return JSONResponse(body, status_code=status)
    return JSONResponse(answer)


def answer_with(scripted: Scripted) -> Response | Down:
    return scripted if isinstance(scripted, Down) else scripted_response(scripted)


@dataclass
class Outage:
    """A service down for a while: while on, every request is answered with `answer`."""

    answer: Scripted | None = None
    ends: Callable[[], bool] | None = None
    # Requests answered by the outage instead of the service.
    refused: int = 0

    def start(self, answer: Scripted = 503, *, ends: Callable[[], bool] | None = None) -> None:
        """Go down; with `ends`, come back by itself on the first request it says True to."""
        self.answer, self.ends = answer, ends

    def stop(self) -> None:
        self.answer, self.ends = None, None

    @property
    def active(self) -> bool:
        if self.answer is not None and self.ends is not None and self.ends():
            self.stop()
        return self.answer is not None

    def intercept(self) -> Response | Down | None:
        """The outage's answer to a request, or None when the service is up."""
        if not self.active or self.answer is None:
            return None
        self.refused += 1
        return answer_with(self.answer)


class FakeApp:
    """An ASGI app around `handler(request)`, which answers a response or `DOWN`."""

    def __init__(self, handler: Callable[[Request], Awaitable[Response | Down]]) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        answer = await self.handler(Request(scope, receive))
        if isinstance(answer, Down):
            await drop_connection(send)
        else:
            await answer(scope, receive, send)


def closed_url() -> str:
    """A loopback URL where nothing listens: a service that is down."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def bound_socket() -> socket.socket:
    """A loopback socket on a free port, bound and not yet listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def serve_app(app: ASGIApp, sock: socket.socket | None = None) -> AsyncIterator[str]:
    """Yields the base URL, e.g. `http://127.0.0.1:41234`. `sock`: one bound beforehand
    (`bound_socket`), when the app must know its own address before it serves."""
    sock = sock or bound_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.005)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
