"""The 5CRM deal job against the loopback 5CRM: a job that dies midway and runs again makes
each thing once, and keeps crediting the manager the first steps went to."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from actions.executors import LeadActions
from config.mappings import Crm5Mapping
from config.settings import Settings
from domain.jobs import ActionPayload
from integrations.errors import IntegrationError
from storage.database import Database
from storage.models import Action, Lead, Manager
from storage.queries.cards import start_action
from storage.queries.crm5 import crm5_progress, link_crm5_manager
from storage.queries.leads import LeadSnapshot
from testkit.fakes.crm5 import Crm5Fake
from testkit.fakes.server import DOWN
from testkit.settings import one_site_settings
from testkit.stored import store_webhook_lead

TOKEN = "crm5-exec-token-0123456789abcdef"
MAX = 5


async def no_sleep(_seconds: float) -> None:
    return None


def settings_for(crm5: Crm5Fake) -> Settings:
    return one_site_settings(
        TOKEN,
        site={"crm5": Crm5Mapping(manager_id=7, company_name=("lead:form_name",))},
        crm5_api_url=crm5.base_url,
        crm5_public_token=SecretStr(crm5.public_token),
    )


def made(crm5: Crm5Fake) -> tuple[int, int, int, int]:
    """How many deals, companies, contacts and tasks the fake holds."""
    return len(crm5.deals), len(crm5.companies), len(crm5.contacts), len(crm5.tasks)


async def prepare(database: Database) -> ActionPayload:
    async with database.write() as session:
        session.add(Manager(telegram_id=MAX, name="Max"))
    snapshot = LeadSnapshot(
        flexbe_id=1414, client_name="Иван Петров", client_phone="+79991234567", form_name="ООО"
    )
    lead_id = await store_webhook_lead(database, dedupe_key="crm5-deal", snapshot=snapshot)
    async with database.write() as session:
        action = await start_action(
            session, lead_id=lead_id, kind="deal", actor_id=MAX, actor_name="Max"
        )
        await link_crm5_manager(
            session, telegram_id=MAX, crm5_manager_id=2, crm5_manager_name="Петрова", linked_by=1
        )
    return ActionPayload(
        lead_id=lead_id, site="okna", actor=MAX, action="deal", action_id=action.id
    )


async def test_a_job_that_dies_midway_resumes_and_makes_each_once(
    database: Database, crm5_fake: Crm5Fake
) -> None:
    payload = await prepare(database)
    actions = LeadActions(database=database, settings=settings_for(crm5_fake), sleep=no_sleep)
    # The task's endpoint is down through the client's own retries: the job fails, to be
    # run again by the engine.
    crm5_fake.fail_next_on("public/task/add", DOWN, DOWN, DOWN)

    with pytest.raises(IntegrationError):
        await actions.create_deal(payload)
    assert made(crm5_fake) == (1, 1, 1, 0)

    # Meanwhile an admin links Max elsewhere: the rest still goes where the deal went.
    async with database.write() as session:
        await link_crm5_manager(
            session, telegram_id=MAX, crm5_manager_id=1, crm5_manager_name="Ivanov", linked_by=1
        )
    await actions.create_deal(payload)

    assert made(crm5_fake) == (1, 1, 1, 1)
    assert len(crm5_fake.calls("public/deal/add")) == 1
    everything = (*crm5_fake.deals, *crm5_fake.contacts, *crm5_fake.tasks)
    assert {one["manager_id"] for one in everything} == {"2"}
    async with database.read() as session:
        lead_id = payload.lead_id
        assert set(await crm5_progress(session, lead_id=lead_id)) == {
            "deal",
            "company",
            "contact",
            "task",
        }
        action = await session.get(Action, payload.action_id)
        assert action is not None and action.outcome == "ok"
        assert action.detail.startswith("5crm:created:")

    # A third run (a Retry after all was done) sends nothing more.
    await actions.create_deal(payload)
    assert len(crm5_fake.requests) == 1 + 1 + 1 + 3 + 1


async def test_progress_goes_with_the_lead(database: Database, crm5_fake: Crm5Fake) -> None:
    payload = await prepare(database)
    actions = LeadActions(database=database, settings=settings_for(crm5_fake), sleep=no_sleep)
    await actions.create_deal(payload)
    lead_id = payload.lead_id

    async with database.write() as session:
        lead = await session.get(Lead, lead_id)
        await session.delete(lead)
    async with database.read() as session:
        assert await crm5_progress(session, lead_id=lead_id) == {}
