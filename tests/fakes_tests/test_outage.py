"""The fakes' outage switch: down for a while (503 or a broken connection), then back by
itself when the test's clock says so; what came in meanwhile is recorded, nothing done."""

from __future__ import annotations

import httpx
import pytest

from testkit.fakes.comunik8 import Comunik8Fake
from testkit.fakes.crm5 import Crm5Fake
from testkit.fakes.server import DOWN, serve_app


async def test_5crm_answers_503_until_the_outage_ends() -> None:
    fake = Crm5Fake()
    now = [0.0]
    fake.outage.start(503, ends=lambda: now[0] >= 60)
    form = {"public_token": fake.public_token, "name": "Окна"}
    async with serve_app(fake.app) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        during = [(await http.post("/public/deal/add", data=form)).status_code for _ in range(3)]
        now[0] = 60.0
        after = await http.post("/public/deal/add", data=form)

    assert during == [503, 503, 503]
    assert after.status_code == 200 and after.json() == {"ans": "true"}
    assert fake.outage.refused == 3 and not fake.outage.active
    assert len(fake.calls("public/deal/add")) == 4, "every request is recorded"
    assert fake.deals == [{"name": "Окна"}], "nothing was created while down"


async def test_comunik8_breaks_connections_until_stopped() -> None:
    fake = Comunik8Fake()
    fake.outage.start(DOWN)
    body = {
        "email": "a@example.com",
        "first_name": "A",
        "surname": "B",
        "mobile": "+79990000000",
        "type": "callback",
    }
    async with serve_app(fake.app) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post("/lead/add", params={"key": fake.api_key}, json=body)
        fake.outage.stop()
        after = await http.post("/lead/add", params={"key": fake.api_key}, json=body)

    assert after.json() == {"saved": True, "processed": True}
    assert fake.outage.refused == 1
    assert list(fake.scheduled) == ["+79990000000"], "the call queued once, after the outage"
