"""Button jobs against the loopback Flexbe: the status changes there, the card learns of it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr
from sqlmodel import select

from actions.executors import LeadActions, appended_note
from config.settings import Settings
from domain.jobs import ACTION_FAILED, ActionPayload, LeadEditPayload
from integrations.flexbe import InvalidApiKey
from storage.database import Database
from storage.models import Action, Job, Lead
from storage.queries.cards import SentCard, save_card, start_action
from testkit.fakes.flexbe import FlexbeFake
from testkit.fakes.server import serve_app
from testkit.settings import one_site_settings
from testkit.stored import store_webhook_lead

TOKEN = "exec-token-0123456789abcdef"


@pytest.fixture
async def flexbe() -> AsyncIterator[tuple[FlexbeFake, str]]:
    fake = FlexbeFake()
    fake.add_lead(1414)
    async with serve_app(fake.app) as base_url:
        yield fake, f"{base_url}/mod/api/"


async def prepare(database: Database) -> tuple[int, int]:
    lead_id = await store_webhook_lead(database, dedupe_key="executors")
    async with database.write() as session:
        lead = await session.get(Lead, lead_id)
        assert lead is not None and lead.id is not None
        await save_card(session, SentCard(lead.id, -100, 7, "x"))
        action = await start_action(
            session, lead_id=lead.id, kind="status:2", actor_id=5, actor_name="Anna"
        )
        assert action.id is not None
        return lead.id, action.id


def settings_for(api_url: str, key: str) -> Settings:
    return one_site_settings(
        TOKEN, site={"flexbe_api_url": api_url, "flexbe_api_key": SecretStr(key)}
    )


async def test_status_change_reaches_flexbe_and_refreshes_the_card(
    database: Database, flexbe: tuple[FlexbeFake, str]
) -> None:
    fake, api_url = flexbe
    lead_id, action_id = await prepare(database)
    actions = LeadActions(database=database, settings=settings_for(api_url, fake.api_key))

    await actions.change_status(ActionPayload(lead_id=lead_id, status=2, action_id=action_id))

    assert fake.leads[1414]["status"]["code"] == "2"
    [request] = fake.calls("changeLead")
    assert request.fields["id"] == "1414" and request.fields["status"] == "2"
    async with database.read() as session:
        lead = await session.get(Lead, lead_id)
        action = await session.get(Action, action_id)
        jobs = (await session.exec(select(Job))).all()
    assert lead is not None and lead.status_code == 2
    assert action is not None and action.outcome == "ok" and action.finished_at is not None
    assert [(job.kind, job.payload["chat_id"]) for job in jobs] == [("notify", -100)]


async def test_refused_key_is_written_on_the_card_and_not_retried(
    database: Database, flexbe: tuple[FlexbeFake, str]
) -> None:
    fake, api_url = flexbe
    lead_id, action_id = await prepare(database)
    actions = LeadActions(database=database, settings=settings_for(api_url, "wrong-key"))

    with pytest.raises(InvalidApiKey) as raised:
        await actions.change_status(ActionPayload(lead_id=lead_id, status=2, action_id=action_id))

    assert raised.value.retryable is False
    assert fake.leads[1414]["status"]["code"] == "0"
    async with database.read() as session:
        action = await session.get(Action, action_id)
        jobs = (await session.exec(select(Job))).all()
    assert action is not None and action.outcome == "failed"
    assert action.detail == "flexbe:invalid_key"
    assert len(jobs) == 1, "the card is refreshed to show the failure"


async def test_final_failure_tells_each_admin_once(
    database: Database, flexbe: tuple[FlexbeFake, str]
) -> None:
    _fake, api_url = flexbe
    lead_id, action_id = await prepare(database)
    actions = LeadActions(
        database=database,
        settings=settings_for(api_url, "wrong-key"),
        alert_admins=lambda: (11, 22, 11),
    )
    payload = ActionPayload(lead_id=lead_id, status=2, action_id=action_id, action="status:2")

    with pytest.raises(InvalidApiKey) as raised:
        await actions.change_status(payload)
    await actions.fail(payload, raised.value)  # the same death told again: no new alert

    async with database.read() as session:
        alerts = (await session.exec(select(Job).where(Job.kind == ACTION_FAILED.name))).all()
    assert sorted(job.payload["chat_id"] for job in alerts) == [11, 22]
    for job in alerts:
        assert job.queue == f"tg:{job.payload['chat_id']}"
        assert job.payload["code"] == "flexbe:invalid_key"
        assert job.payload["action"] == "status:2" and job.payload["flexbe_id"] == 1414
        assert "wrong-key" not in str(job.payload)


async def test_final_failure_without_telegram_is_logged(
    database: Database, flexbe: tuple[FlexbeFake, str], caplog: pytest.LogCaptureFixture
) -> None:
    _fake, api_url = flexbe
    lead_id, action_id = await prepare(database)
    actions = LeadActions(database=database, settings=settings_for(api_url, "wrong-key"))

    with pytest.raises(InvalidApiKey):
        await actions.change_status(ActionPayload(lead_id=lead_id, status=2, action_id=action_id))

    [record] = [r for r in caplog.records if "failed for good" in r.getMessage()]
    assert record.levelname == "ERROR" and "flexbe:invalid_key" in record.getMessage()
    assert "wrong-key" not in record.getMessage()
    async with database.read() as session:
        alerts = (await session.exec(select(Job).where(Job.kind == ACTION_FAILED.name))).all()
    assert alerts == []


async def test_a_note_is_appended_once_even_when_its_job_runs_again(
    database: Database, flexbe: tuple[FlexbeFake, str]
) -> None:
    fake, api_url = flexbe
    fake.leads[1414]["note"] = "Из Flexbe"
    lead_id, _ = await prepare(database)
    async with database.write() as session:
        lead = await session.get(Lead, lead_id)
        assert lead is not None
        lead.note = "Из Flexbe"
        session.add(lead)
    actions = LeadActions(database=database, settings=settings_for(api_url, fake.api_key))
    first = LeadEditPayload(lead_id=lead_id, site="okna", action="note", note="10:00 Max: раз")
    second = LeadEditPayload(lead_id=lead_id, site="okna", action="note", note="10:01 Ada: два")

    await actions.edit_lead(first)
    await actions.edit_lead(first)  # the same job again (its success was not recorded)
    await actions.edit_lead(second)

    expected = "Из Flexbe\n10:00 Max: раз\n10:01 Ada: два"
    assert fake.leads[1414]["note"] == expected
    assert [change["note"] for change in fake.changes(1414)] == [
        "Из Flexbe\n10:00 Max: раз",
        "Из Flexbe\n10:00 Max: раз",
        expected,
    ]
    async with database.read() as session:
        lead = await session.get(Lead, lead_id)
    assert lead is not None and lead.note == expected


def test_appended_note() -> None:
    assert appended_note("", "a") == "a"
    assert appended_note("x\n", "a") == "x\na"
    assert appended_note("x\na", "a") == "x\na", "already there: unchanged"
