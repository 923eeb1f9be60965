"""What every client shares: an httpx client, retries with backoff and jitter, masking.

Retried: connection errors, timeouts, 408, 429 and 5xx, and errors a client marks
retryable (Flexbe's rate limit). Never retried: other 4xx and documented business answers.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode

import httpx

from integrations import _constants as constants
from integrations import _redact
from integrations.errors import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    IntegrationError,
)
from integrations.retries import Sleep

log = logging.getLogger(__name__)
_redact.install()


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every client: building one loads the CA bundle, which cost more
    CPU than the API call itself when each job made its own client."""
    return httpx.create_ssl_context()


class ErrorFamily:
    """The exception classes one client raises, all under that client's own base."""

    def __init__(
        self,
        base: type[IntegrationError],
        connection: type[APIConnectionError],
        timeout: type[APITimeoutError],
        status: type[APIStatusError],
        response: type[APIResponseError],
        *,
        by_status: Mapping[int, type[APIStatusError]] | None = None,
    ) -> None:
        self.base, self.connection, self.timeout = base, connection, timeout
        self.status, self.response = status, response
        # A status with a meaning of its own (e.g. 401: wrong key) gets its own class.
        self.by_status = dict(by_status or {})

    def for_status(self, status_code: int) -> type[APIStatusError]:
        return self.by_status.get(status_code, self.status)


def backoff_delay(attempt: int, *, jitter: Callable[[], float] = random.random) -> float:
    """Exponential: 0.5 s, 1 s, 2 s … capped, each shortened by up to a quarter at random."""
    delay = min(
        constants.INITIAL_RETRY_DELAY_SECONDS * 2.0 ** (attempt - 1),
        constants.MAX_RETRY_DELAY_SECONDS,
    )
    return delay * (1 - 0.25 * jitter())


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = moment.timestamp() - time.time()
    return max(0.0, seconds)


class BaseClient:
    errors: ErrorFamily
    secret_names: tuple[str, ...] = ()

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = constants.DEFAULT_TIMEOUT_SECONDS,
        max_retries: int = constants.DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.max_retries = max_retries
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout, verify=_tls_context())
        self._timeout = timeout
        self._sleep = sleep
        self._jitter = jitter

    def __repr__(self) -> str:
        # The base URL only: keys and tokens never appear in a repr.
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _with_retries(self, call: Callable[[], Awaitable[Any]], what: str) -> Any:
        """Run `call`, trying again while its failure is retryable and retries are left."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return await call()
            except IntegrationError as error:
                if not error.retryable or attempt > self.max_retries:
                    raise
                delay = backoff_delay(attempt, jitter=self._jitter)
                if error.retry_after is not None:
                    if error.retry_after > constants.MAX_RETRY_AFTER_SECONDS:
                        # Too long to wait in-process: the job engine reschedules instead.
                        raise
                    delay = error.retry_after
                log.info(
                    "%s %s failed (%s), retry %d of %d in %.1f s",
                    self.errors.base.service,
                    what,
                    type(error).__name__,
                    attempt,
                    self.max_retries,
                    delay,
                )
                await self._sleep(delay)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        form: Sequence[tuple[str, str]] | None = None,
        json: Any = None,
        accept: Collection[int] = (),
    ) -> httpx.Response:
        """One HTTP exchange, its failures turned into this client's errors (no retry here).

        A status of 400 or more is an error unless listed in `accept` (a documented answer,
        such as Comunik8's 400 with per-field messages).
        """
        url = self.base_url + path.lstrip("/") if path else self.base_url.rstrip("/") + "/"
        content, headers = None, None
        if form is not None:
            # Encoded here: repeated and bracketed keys (`client[name]`) keep their order.
            content = urlencode(form).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
        try:
            response = await self._http.request(
                method,
                url,
                params=params,
                content=content,
                json=json,
                headers=headers,
                timeout=self._timeout,
            )
        except httpx.TimeoutException:
            raise self.errors.timeout(
                f"{self.errors.base.service} did not answer in time"
            ) from None
        except httpx.HTTPError as exc:
            # str(exc) may hold the URL and its query string: name the kind only.
            raise self.errors.connection(
                f"cannot reach {self.errors.base.service}: {type(exc).__name__}"
            ) from None
        if response.status_code >= 400 and response.status_code not in accept:
            raise self.errors.for_status(response.status_code)(
                f"{self.errors.base.service} answered HTTP {response.status_code}",
                status_code=response.status_code,
                body=response.text[: constants.MAX_ERROR_BODY_CHARS],
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        return response

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise self.errors.response(
                f"{self.errors.base.service} answered with something that is not JSON",
                body=response.text[: constants.MAX_ERROR_BODY_CHARS],
            ) from None
