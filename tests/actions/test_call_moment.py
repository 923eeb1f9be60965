"""A call asked for at a moment rings then, however late its job runs: the dialler's delay
is counted down from the moment when the job runs, not taken as it was at the tap."""

from __future__ import annotations

from datetime import timedelta

from pydantic import SecretStr

from actions.executors import LeadActions
from domain.jobs import ActionPayload
from storage.clock import utcnow
from storage.database import Database
from storage.models import Lead
from storage.queries.leads import LeadSnapshot
from testkit.fakes.comunik8 import Comunik8Fake
from testkit.fakes.server import serve_app
from testkit.settings import one_site_settings
from testkit.stored import store_webhook_lead

TOKEN = "call-token-0123456789abcdef"


async def a_lead(database: Database) -> int:
    lead_id = await store_webhook_lead(
        database,
        dedupe_key="call-moment",
        snapshot=LeadSnapshot(flexbe_id=1414, client_name="Иван", client_phone="+79991234567"),
    )
    async with database.read() as session:
        lead = await session.get(Lead, lead_id)
    assert lead is not None and lead.id is not None
    return lead.id


async def test_a_late_job_sends_what_is_left_and_a_past_moment_rings_now(
    database: Database,
) -> None:
    lead_id = await a_lead(database)
    fake = Comunik8Fake()
    async with serve_app(fake.app) as fake.base_url:
        settings = one_site_settings(
            TOKEN,
            comunik8_api_url=fake.base_url,
            comunik8_api_key=SecretStr(fake.api_key),
            comunik8_lead_type="callback",
        )
        actions = LeadActions(database=database, settings=settings)
        # Asked for an hour from a tap 20 minutes ago (the job waited for the dialler).
        tapped = utcnow() - timedelta(minutes=20)
        late = ActionPayload(
            lead_id=lead_id,
            site="okna",
            delay=3600,
            call_at=int((tapped + timedelta(hours=1)).timestamp()),
            action="call:3600",
        )
        await actions.queue_call(late)
        # Asked for a moment already gone: at once, not the site's own delay.
        gone = ActionPayload(
            lead_id=lead_id,
            site="okna",
            delay=600,
            call_at=int((utcnow() - timedelta(minutes=1)).timestamp()),
            action="call:600",
        )
        await actions.queue_call(gone)

    [first, second] = [call.body for call in fake.calls("lead/add")]
    assert 40 * 60 - 10 <= first["delays"] <= 40 * 60
    assert second["delays"] == 0
