"""The admin API shows an amount as it was sent, and as a number only when it is one."""

from __future__ import annotations

import httpx
import pytest

from testkit.factories import pay_event
from tests.webhooks.test_api import deliver


@pytest.mark.parametrize(
    ("summ", "amount"),
    [("1 500,50", "1500.50"), ("1e999999999", None), ("NaN", None), ("-0", None)],
)
async def test_pay_summ_as_sent_and_pay_amount_when_computable(
    client: httpx.AsyncClient, admin_headers: dict[str, str], summ: str, amount: str | None
) -> None:
    accepted = await deliver(client, pay_event(1414, summ=summ))

    listed = (await client.get("/api/leads", headers=admin_headers)).json()["items"]
    detail = (await client.get(f"/api/leads/{accepted['lead_id']}", headers=admin_headers)).json()

    assert [(lead["pay_summ"], lead["pay_amount"]) for lead in listed] == [(summ, amount)]
    assert [(p["summ"], p["amount"]) for p in detail["payments"]] == [(summ, amount)]
