"""The Flexbe client against the loopback Flexbe, over real HTTP."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.statuses import LeadStatus, PayStatus
from integrations.flexbe import (
    RATE_LIMITED_PAUSE_SECONDS,
    FlexbeClient,
    FlexbeStatusError,
    InvalidApiKey,
    RateLimited,
    UnknownMethod,
)
from integrations.ratelimit import SlidingWindowLimiter
from testkit.fakes.fixtures import Sleeps
from testkit.fakes.flexbe import FlexbeFake
from testkit.fakes.server import DOWN


@pytest.fixture
def fake(flexbe_fake: FlexbeFake) -> FlexbeFake:
    return flexbe_fake


def client_for(
    fake: FlexbeFake, *, key: str | None = None, sleeps: Sleeps | None = None
) -> FlexbeClient:
    return FlexbeClient(
        fake.api_url,
        key or fake.api_key,
        limiter=SlidingWindowLimiter(1000, 60),
        sleep=sleeps or Sleeps(),
        jitter=lambda: 0.0,
    )


async def test_check_connection(fake: FlexbeFake) -> None:
    async with client_for(fake) as flexbe:
        assert await flexbe.check_connection() is True
    [request] = fake.requests
    assert request.method == "checkConnection"


async def test_get_leads_parses_string_numbers_and_filters(fake: FlexbeFake) -> None:
    fake.add_lead(1, client={"name": "Анна", "phone": "+79990000001", "email": "a@x.ru"})
    fake.add_lead(2, pay={"id": "p", "summ": "1.00", "status": {"code": "2", "name": "Оплачен"}})
    fake.set_status(2, 1)
    fake.add_lead(3, time=1_767_225_500, pay={"id": "q", "summ": "1e999999999"})

    async with client_for(fake) as flexbe:
        everything = (await flexbe.get_leads(count=10)).leads
        processed = (await flexbe.get_leads(status=LeadStatus.PROCESSED)).leads
        by_phone = (await flexbe.get_leads(client_phone="+79990000001")).leads
        since = (await flexbe.get_leads(date_from=datetime.fromtimestamp(1_767_225_602, UTC))).leads

    assert [lead.id for lead in everything] == [2, 1, 3], "newest first"
    assert everything[0].pay is not None and everything[0].pay.summ == "1.00"
    assert everything[2].pay is not None and everything[2].pay.summ == "1e999999999", "as sent"
    assert everything[1].client is not None and everything[1].client.name == "Анна"
    assert [lead.id for lead in processed] == [2]
    assert [lead.id for lead in by_phone] == [1]
    assert [lead.id for lead in since] == [2]


async def test_empty_result_is_an_empty_list(fake: FlexbeFake) -> None:
    async with client_for(fake) as flexbe:
        page = await flexbe.get_leads(status=LeadStatus.DELETED)
    assert (page.leads, page.unreadable) == ([], [])


async def test_iter_leads_streams_every_page(fake: FlexbeFake) -> None:
    for lead_id in range(1, 2501):
        fake.add_lead(lead_id)

    async with client_for(fake) as flexbe:
        pages = [page async for page in flexbe.iter_leads()]

    assert [len(page.leads) for page in pages] == [1000, 1000, 500]
    assert len({lead.id for page in pages for lead in page.leads}) == 2500
    assert [request.fields["start"] for request in fake.calls("getLeads")] == ["0", "1000", "2000"]


async def test_change_lead_sends_php_style_fields(fake: FlexbeFake) -> None:
    fake.add_lead(7)

    async with client_for(fake) as flexbe:
        await flexbe.change_lead(
            7,
            status=LeadStatus.FULFILLED,
            client_name="Иван & Co",
            note="<b>",
            pay_summ=Decimal("10.50"),
            pay_status=PayStatus.PAID,
        )

    [request] = fake.calls("changeLead")
    assert request.fields["client"] == {"name": "Иван & Co"}
    assert request.fields["pay"] == {"summ": "10.50", "status": "2"}
    assert fake.leads[7]["status"]["code"] == "2"
    assert fake.leads[7]["note"] == "<b>"


@pytest.mark.parametrize("summ", [Decimal("NaN"), Decimal("1E+999999999"), Decimal("-0")])
async def test_change_lead_sends_no_amount_out_of_bounds(fake: FlexbeFake, summ: Decimal) -> None:
    fake.add_lead(7)
    async with client_for(fake) as flexbe:
        with pytest.raises(ValueError, match="not a computable amount"):
            await flexbe.change_lead(7, pay_summ=summ)
    assert fake.calls("changeLead") == []


@pytest.mark.parametrize(("code", "error"), [(0, InvalidApiKey), (2, UnknownMethod)])
async def test_error_codes_become_their_own_errors_without_retry(
    fake: FlexbeFake, code: int, error: type[Exception]
) -> None:
    fake.scripted.append({"error": {"code": code, "msg": "no"}})
    sleeps = Sleeps()

    async with client_for(fake, sleeps=sleeps) as flexbe:
        with pytest.raises(error):
            await flexbe.check_connection()

    assert sleeps.delays == [], "a business failure is not retried"
    assert len(fake.requests) == 1


async def test_wrong_key_is_invalid_api_key(fake: FlexbeFake) -> None:
    async with client_for(fake, key="wrong-key") as flexbe:
        with pytest.raises(InvalidApiKey) as raised:
            await flexbe.check_connection()
    assert "wrong-key" not in str(raised.value)


async def test_rate_limited_is_retried_after_a_pause(fake: FlexbeFake) -> None:
    fake.scripted.append({"error": {"code": 1, "msg": "Request limit is exceeded"}})
    sleeps = Sleeps()

    async with client_for(fake, sleeps=sleeps) as flexbe:
        assert await flexbe.check_connection() is True

    assert sleeps.delays == [RATE_LIMITED_PAUSE_SECONDS]
    assert len(fake.requests) == 2


async def test_rate_limit_of_the_fake_is_enforced(fake: FlexbeFake) -> None:
    fake.rate_limit = 3
    sleeps = Sleeps()
    async with client_for(fake, sleeps=sleeps) as flexbe:
        for _ in range(3):
            await flexbe.check_connection()
        flexbe.max_retries = 0
        with pytest.raises(RateLimited) as raised:
            await flexbe.check_connection()
    assert raised.value.retryable and raised.value.retry_after == RATE_LIMITED_PAUSE_SECONDS


async def test_server_errors_back_off_exponentially_then_give_up(fake: FlexbeFake) -> None:
    fake.scripted.extend([500, 502, 503])
    sleeps = Sleeps()

    async with client_for(fake, sleeps=sleeps) as flexbe:
        with pytest.raises(FlexbeStatusError) as raised:
            await flexbe.check_connection()

    assert sleeps.delays == [0.5, 1.0]
    assert raised.value.status_code == 503 and raised.value.retryable


async def test_client_error_is_not_retried(fake: FlexbeFake) -> None:
    fake.scripted.append(404)
    sleeps = Sleeps()

    async with client_for(fake, sleeps=sleeps) as flexbe:
        with pytest.raises(FlexbeStatusError) as raised:
            await flexbe.check_connection()

    assert sleeps.delays == [] and not raised.value.retryable


async def test_limiter_spaces_calls_within_the_window() -> None:
    now = [0.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limiter = SlidingWindowLimiter(100, 60, clock=lambda: now[0], sleep=sleep)
    for _ in range(250):
        await limiter.acquire()

    assert waits == [60.0, 60.0], "calls 101 and 201 wait for the window to pass"


async def test_no_secret_in_logs_reprs_or_errors(
    fake: FlexbeFake, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.scripted.extend([503, {"error": {"code": 1, "msg": "limit"}}])
    async with client_for(fake) as flexbe:
        await flexbe.check_connection()
        text = repr(flexbe)
    async with client_for(fake, key="secret-wrong-key") as flexbe:
        with pytest.raises(InvalidApiKey) as raised:
            await flexbe.check_connection()

    everything = caplog.text + text + str(raised.value) + repr(raised.value)
    assert fake.api_key not in everything
    assert "secret-wrong-key" not in everything
    assert "retry" in caplog.text, "the retries were logged"


async def test_the_fakes_limit_is_a_sliding_minute_on_its_clock(fake: FlexbeFake) -> None:
    now = [1000.0]
    fake.clock, fake.rate_limit = (lambda: now[0]), 2
    async with client_for(fake) as flexbe:
        flexbe.max_retries = 0
        await flexbe.check_connection()
        await flexbe.check_connection()
        with pytest.raises(RateLimited):
            await flexbe.check_connection()
        now[0] += 60.5
        assert await flexbe.check_connection() is True


async def test_a_dropped_connection_is_retried(fake: FlexbeFake) -> None:
    fake.fail_next(DOWN)
    sleeps = Sleeps()
    async with client_for(fake, sleeps=sleeps) as flexbe:
        assert await flexbe.check_connection() is True
    assert sleeps.delays == [0.5] and len(fake.requests) == 2


async def test_a_lead_that_does_not_parse_costs_only_itself(fake: FlexbeFake) -> None:
    fake.add_lead(1)
    fake.add_broken_lead(2, status={"code": "новый"}, time="вчера", at=1_767_225_602)
    fake.add_lead(
        3, status=2, pay={"id": "p", "summ": "1.00", "status": "2"}, form_data={"Имя": "Анна"}
    )

    async with client_for(fake) as flexbe:
        page = await flexbe.get_leads(count=3)

    assert [lead.id for lead in page.leads] == [3, 1]
    loose = page.leads[0]
    assert loose.status is not None and loose.status.code == 2
    assert loose.pay is not None and loose.pay.status is not None and loose.pay.status.code == 2
    assert loose.form_data is not None and loose.form_data["Имя"].display_value() == "Анна"
    assert page.size == 3
    [broken] = page.unreadable
    assert broken.flexbe_id == "2" and broken.raw == fake.leads[2]
    assert broken.reason.startswith("getLeads lead 2: ")
    assert "time" in broken.reason and "status.code" in broken.reason
