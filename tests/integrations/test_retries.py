"""The retry rules every client shares, driven through httpx.MockTransport (no sleeping)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from integrations import _constants as constants
from integrations._base import backoff_delay, parse_retry_after
from integrations.crm5 import (
    Crm5Client,
    Crm5ConnectionError,
    Crm5StatusError,
    Crm5TimeoutError,
    DealAddRequest,
)
from testkit.fakes.fixtures import Sleeps

Handler = Callable[[httpx.Request], httpx.Response]


def answers(*responses: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A transport handler giving these answers in turn, and the requests it saw."""
    queue, seen = list(responses), []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler, seen


def client(
    handler: Handler, sleeps: Sleeps, *, max_retries: int = 3, jitter: float = 0.0
) -> Crm5Client:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return Crm5Client(
        "public-token-xyz",
        base_url="https://crm.test/",
        http_client=http,
        max_retries=max_retries,
        sleep=sleeps,
        jitter=lambda: jitter,
    )


OK = httpx.Response(200, json={"ans": "true"})


async def test_backoff_is_exponential_and_jitter_shortens_it(sleeps: Sleeps) -> None:
    handler, seen = answers(
        httpx.Response(503), httpx.Response(502), httpx.Response(500), httpx.Response(504)
    )
    async with client(handler, sleeps, jitter=1.0) as crm:
        with pytest.raises(Crm5StatusError):
            await crm.add_deal(DealAddRequest(name="x"))

    assert sleeps.delays == [0.375, 0.75, 1.5], "0.5, 1, 2 s, each cut by the full quarter"
    assert len(seen) == 4


def test_backoff_is_capped_and_random_jitter_stays_within_a_quarter() -> None:
    assert backoff_delay(20, jitter=lambda: 0.0) == constants.MAX_RETRY_DELAY_SECONDS
    rng = random.Random(7)
    delays = {backoff_delay(3, jitter=rng.random) for _ in range(50)}
    assert len(delays) > 1, "jitter varies the delay"
    assert all(1.5 <= delay <= 2.0 for delay in delays)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_retryable_statuses_are_retried(sleeps: Sleeps, status: int) -> None:
    handler, seen = answers(httpx.Response(status), OK)
    async with client(handler, sleeps) as crm:
        await crm.add_deal(DealAddRequest(name="x"))
    assert len(seen) == 2 and sleeps.delays == [0.5]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 422])
async def test_other_client_errors_are_not_retried(sleeps: Sleeps, status: int) -> None:
    handler, seen = answers(httpx.Response(status, json={"message": "no"}))
    async with client(handler, sleeps) as crm:
        with pytest.raises(Crm5StatusError) as raised:
            await crm.add_deal(DealAddRequest(name="x"))
    assert len(seen) == 1 and sleeps.delays == []
    assert raised.value.status_code == status and not raised.value.retryable
    assert raised.value.body == '{"message":"no"}'


async def test_retry_after_in_seconds_is_honoured(sleeps: Sleeps) -> None:
    handler, _seen = answers(httpx.Response(429, headers={"Retry-After": "7"}), OK)
    async with client(handler, sleeps) as crm:
        await crm.add_deal(DealAddRequest(name="x"))
    assert sleeps.delays == [7.0]


def test_retry_after_as_a_date_is_read() -> None:
    moment = datetime.now(UTC) + timedelta(seconds=30)
    assert 25 <= (parse_retry_after(format_datetime(moment, usegmt=True)) or 0) <= 30
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3") == 0.0


async def test_a_retry_after_too_long_to_wait_goes_back_to_the_caller(sleeps: Sleeps) -> None:
    handler, seen = answers(httpx.Response(503, headers={"Retry-After": "600"}))
    async with client(handler, sleeps) as crm:
        with pytest.raises(Crm5StatusError) as raised:
            await crm.add_deal(DealAddRequest(name="x"))
    assert sleeps.delays == [] and len(seen) == 1
    assert raised.value.retryable and raised.value.retry_after == 600.0


async def test_connection_errors_are_retried_then_raised(sleeps: Sleeps) -> None:
    handler, seen = answers(*[httpx.ConnectError("refused")] * 3)
    async with client(handler, sleeps, max_retries=2) as crm:
        with pytest.raises(Crm5ConnectionError) as raised:
            await crm.get_funnels()
    assert len(seen) == 3 and sleeps.delays == [0.5, 1.0]
    assert raised.value.retryable


async def test_timeouts_are_retried_and_told_apart(sleeps: Sleeps) -> None:
    handler, seen = answers(httpx.ReadTimeout("slow"), OK)
    async with client(handler, sleeps) as crm:
        await crm.add_deal(DealAddRequest(name="x"))
    assert len(seen) == 2

    handler, _seen = answers(httpx.ReadTimeout("slow"))
    async with client(handler, sleeps, max_retries=0) as crm:
        with pytest.raises(Crm5TimeoutError):
            await crm.add_deal(DealAddRequest(name="x"))


async def test_an_injected_http_client_is_left_open(sleeps: Sleeps) -> None:
    handler, _seen = answers(OK, OK)
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with Crm5Client("t", base_url="https://crm.test/", http_client=http) as crm:
        await crm.add_deal(DealAddRequest(name="x"))
    assert not http.is_closed
    await http.aclose()
