"""`sync` against the loopback Flexbe: backfill without floods, idempotent re-runs."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, func, select

from actions.sync import SyncSummary, parse_since, sync_site
from integrations.flexbe import RATE_LIMITED_PAUSE_SECONDS, FlexbeClient, LeadsPage
from integrations.ratelimit import SlidingWindowLimiter
from leadrelay.web import create_app
from storage.clock import utcnow
from storage.database import Database
from storage.models import Job, Lead
from storage.queries.sites import ensure_sites
from testkit.factories import lead_event
from testkit.fakes.fixtures import Sleeps
from testkit.fakes.flexbe import FlexbeFake, send_webhook
from testkit.fakes.server import serve_app
from testkit.service import service_environment
from tests.webhooks.conftest import ADMIN_TOKEN, make_settings

OLD = 1_700_000_000  # 2023: far outside any card window


def old_leads(fake: FlexbeFake, count: int) -> None:
    """Leads 1 to `count` on Flexbe, from before any card window."""
    for lead_id in range(1, count + 1):
        fake.add_lead(lead_id, time=OLD + lead_id)


@pytest.fixture
async def flexbe() -> AsyncIterator[tuple[FlexbeFake, str]]:
    fake = FlexbeFake()
    async with serve_app(fake.app) as base_url:
        yield fake, f"{base_url}/mod/api/"


def sync_environment(database_url: str, flexbe: tuple[FlexbeFake, str]) -> dict[str, str]:
    """The command's settings: this test's database, the Flexbe fake as the one site."""
    fake, api_url = flexbe
    return service_environment(
        LEADRELAY_DATABASE_URL=database_url,
        LEADRELAY_WEBHOOK_TOKEN="cli-sync-token-0123456789",
        LEADRELAY_FLEXBE_API_URL=api_url,
        LEADRELAY_FLEXBE_API_KEY=fake.api_key,
    )


async def sync_command(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str, str]:
    """`leadrelay sync ARGS` as an admin runs it: its exit code, output and progress."""
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("leadrelay")),
        "sync",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


async def run_sync(
    database: Database, api_url: str, fake: FlexbeFake, sleep: Sleeps | None = None
) -> SyncSummary:
    async with database.write() as session:
        await ensure_sites(session, [("okna", "Окна")])
    client = FlexbeClient(
        api_url, fake.api_key, limiter=SlidingWindowLimiter(10_000, 60), sleep=sleep or Sleeps()
    )
    async with client:
        return await sync_site(
            database=database, client=client, site_key="okna", chats=(-100,), since=None
        )


async def count(database: Database, model: type[Lead] | type[Job]) -> int:
    async with database.read() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


async def test_backfill_of_2000_old_leads_posts_no_card(
    database: Database, flexbe: tuple[FlexbeFake, str]
) -> None:
    fake, api_url = flexbe
    old_leads(fake, 2000)

    summary = await run_sync(database, api_url, fake)

    assert (summary.new, summary.updated, summary.unchanged, summary.failed) == (2000, 0, 0, 0)
    assert summary.pages == 2
    assert await count(database, Lead) == 2000
    assert await count(database, Job) == 0, "old leads are stored without cards"
    async with database.read() as session:
        origins = set((await session.exec(select(Lead.origin))).all())
    assert origins == {"sync"}


async def test_rerun_changes_nothing_and_a_status_change_is_picked_up(
    database: Database, flexbe: tuple[FlexbeFake, str]
) -> None:
    fake, api_url = flexbe
    old_leads(fake, 30)
    await run_sync(database, api_url, fake)
    fake.set_status(7, 2)

    again = await run_sync(database, api_url, fake)

    assert (again.new, again.updated, again.unchanged) == (0, 1, 29)
    assert await count(database, Lead) == 30
    async with database.read() as session:
        lead = (await session.exec(select(Lead).where(Lead.flexbe_id == 7))).one()
    assert lead.status_code == 2


async def test_recent_new_leads_get_cards(
    database: Database, flexbe: tuple[FlexbeFake, str]
) -> None:
    fake, api_url = flexbe
    fake.add_lead(1, time=OLD)
    fake.add_lead(2, time=int((utcnow() - timedelta(minutes=5)).timestamp()))

    summary = await run_sync(database, api_url, fake)

    assert summary.new == 2
    async with database.read() as session:
        jobs = (await session.exec(select(Job))).all()
        recent = (await session.exec(select(Lead).where(Lead.flexbe_id == 2))).one()
    assert [(job.kind, job.payload["lead_id"]) for job in jobs] == [("notify", recent.id)]


async def test_rate_limit_error_backs_off_and_the_sync_completes(
    database: Database, flexbe: tuple[FlexbeFake, str]
) -> None:
    fake, api_url = flexbe
    old_leads(fake, 1500)
    fake.rate_limit = 1  # the second page is refused with code 1 until the minute passes
    now = [0.0]
    fake.clock = lambda: now[0]
    sleep = Sleeps()

    async def wait(seconds: float) -> None:
        await sleep(seconds)
        now[0] += 61

    summary = await run_sync(database, api_url, fake, sleep=wait)  # type: ignore[arg-type]

    assert summary.new == 1500
    assert sleep.delays == [RATE_LIMITED_PAUSE_SECONDS], (
        "one pause after Flexbe's code 1, then the next page"
    )
    assert len(fake.calls("getLeads")) == 3


async def test_lead_from_webhook_and_from_get_leads_is_one_lead(
    database: Database, flexbe: tuple[FlexbeFake, str], tmp_path: Path
) -> None:
    from leadrelay.web import create_app
    from testkit.fakes.server import serve_app as serve
    from testkit.settings import one_site_settings

    fake, api_url = flexbe
    token = "sync-token-0123456789abcdef"
    settings = one_site_settings(token)
    async with database.write() as session:
        await ensure_sites(session, [("okna", "Окна")])
    app = create_app(settings=settings, database=database)
    event = lead_event(555)
    async with serve(app) as service_url:
        response = await send_webhook(f"{service_url}/flexbe/{token}", "lead", event["data"])
    await app.state.intake.aclose()
    assert response.status_code == 200
    fake.leads[555] = event["data"]

    summary = await run_sync(database, api_url, fake)

    assert (summary.new, summary.unchanged) == (0, 1)
    async with database.read() as session:
        leads = (await session.exec(select(Lead).where(col(Lead.flexbe_id) == 555))).all()
    assert len(leads) == 1 and leads[0].origin == "webhook"


async def test_sync_command_reports_a_summary(
    database_url: str, flexbe: tuple[FlexbeFake, str], tmp_path: Path
) -> None:
    fake, _ = flexbe
    for lead_id in range(1, 41):
        fake.add_lead(lead_id, time=int((utcnow() - timedelta(days=2)).timestamp()) + lead_id)
    env = sync_environment(database_url, flexbe)
    code, out, err = await sync_command(env, tmp_path, "--since", "7d")
    assert code == 0, err
    assert "40 new, 0 updated, 0 unchanged, 0 failed" in out
    assert "leads/s" in err, "progress is shown"
    code, out, _ = await sync_command(env, tmp_path, "--since", "7d")
    assert "0 new, 0 updated, 40 unchanged, 0 failed" in out


def test_since_accepts_durations_and_dates() -> None:
    now = utcnow()
    assert parse_since("7d", now=now) == now - timedelta(days=7)
    assert parse_since("12h", now=now) == now - timedelta(hours=12)
    assert parse_since("2026-01-31", now=now).isoformat().startswith("2026-01-31T00:00:00+00:00")
    with pytest.raises(ValueError, match="--since"):
        parse_since("last tuesday", now=now)


async def test_interrupted_sync_resumed_leaves_no_duplicates(
    database: Database, flexbe: tuple[FlexbeFake, str]
) -> None:
    fake, api_url = flexbe
    old_leads(fake, 2500)
    async with database.write() as session:
        await ensure_sites(session, [("okna", "Окна")])
    client = FlexbeClient(
        api_url,
        fake.api_key,
        limiter=SlidingWindowLimiter(10_000, 60),
        sleep=Sleeps(),
        max_retries=0,
    )
    # The connection drops on the second page: the run stops part-way.
    original = client.get_leads
    pages = 0

    async def flaky(**query: Any) -> LeadsPage:
        nonlocal pages
        pages += 1
        if pages == 2:
            raise ConnectionResetError("network cut")
        return await original(**query)

    client.get_leads = flaky  # type: ignore[method-assign]
    with pytest.raises(ConnectionResetError):
        async with client:
            await sync_site(database=database, client=client, site_key="okna", chats=(-100,))
    assert await count(database, Lead) == 1000

    resumed = await run_sync(database, api_url, fake)

    assert (resumed.new, resumed.unchanged) == (1500, 1000)
    async with database.read() as session:
        ids = (await session.exec(select(Lead.flexbe_id))).all()
    assert len(ids) == len(set(ids)) == 2500


# A lead's field as Flexbe might break it → the field a rejection must name.
BROKEN: dict[int, tuple[dict[str, Any], str]] = {
    101: ({"status": {"code": "новый", "name": "Новый"}}, "status.code"),
    702: ({"time": "вчера"}, "time"),
    1003: ({"num": "-1"}, "num"),
    1404: ({"pay": {"id": "p", "summ": "10", "status": "оплачен"}}, "pay.status.code"),
}


async def rejected_in_inbox(database: Database) -> list[dict[str, Any]]:
    """What an admin sees: `/api/inbox?outcome=rejected`, over HTTP."""
    settings = make_settings()
    app = create_app(settings=settings, database=database)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://leadrelay.test") as http:
            response = await http.get(
                "/api/inbox",
                params={"outcome": "rejected", "limit": 500},
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
    finally:
        await app.state.intake.aclose()
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_leads_that_do_not_parse_are_kept_raw_and_the_rest_stored(
    database: Database, flexbe: tuple[FlexbeFake, str]
) -> None:
    fake, api_url = flexbe
    for lead_id in range(1, 1501):
        if lead_id in BROKEN:
            fake.add_broken_lead(lead_id, at=OLD + lead_id, **BROKEN[lead_id][0])
        else:
            fake.add_lead(lead_id, time=OLD + lead_id)

    summary = await run_sync(database, api_url, fake)

    assert (summary.new, summary.updated, summary.unchanged, summary.failed) == (1496, 0, 0, 4)
    assert summary.pages == 2, "a broken lead does not end the paging early"
    async with database.read() as session:
        stored = set((await session.exec(select(Lead.flexbe_id))).all())
    assert stored == set(range(1, 1501)) - set(BROKEN)
    rejected = await rejected_in_inbox(database)
    assert len(rejected) == 4
    for item in rejected:
        raw = json.loads(item["body"])
        lead_id = int(raw["id"])
        assert (item["site_key"], item["event"], item["outcome"]) == (
            "okna",
            "getLeads",
            "rejected",
        )
        assert item["error"].startswith(f"getLeads lead {lead_id}: {BROKEN[lead_id][1]}: ")
        assert raw == fake.leads[lead_id], "kept as Flexbe sent it"
    assert sorted(int(json.loads(item["body"])["id"]) for item in rejected) == sorted(BROKEN)
    assert len(summary.errors) == 4 and all("getLeads lead" in e for e in summary.errors)

    # The next run counts them again, but lists each once; a lead Flexbe fixed is stored.
    fake.add_lead(101, time=OLD + 101)
    again = await run_sync(database, api_url, fake)

    assert (again.new, again.unchanged, again.failed) == (1, 1496, 3)
    assert len(await rejected_in_inbox(database)) == 4


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sync_command_names_each_lead_that_does_not_parse(
    database_url: str, flexbe: tuple[FlexbeFake, str], tmp_path: Path
) -> None:
    fake, _ = flexbe
    old_leads(fake, 5)
    fake.add_broken_lead(3, at=OLD + 3, status={"code": "новый"})
    env = sync_environment(database_url, flexbe)
    code, out, err = await sync_command(env, tmp_path, "--since", "2020-01-01")

    assert code == 1, "a lead not stored is a failure to report"
    assert "4 new, 0 updated, 0 unchanged, 1 failed" in out
    assert "getLeads lead 3: status.code: " in err


async def test_a_status_sent_as_its_code_alone_is_the_same_lead(
    database: Database, flexbe: tuple[FlexbeFake, str]
) -> None:
    fake, api_url = flexbe
    pay = {"id": "p", "summ": "10", "status": {"code": "2", "name": "Оплачен"}}
    fake.add_lead(1, time=OLD, status={"code": "2", "name": "Выполнен"}, pay=pay)
    first = await run_sync(database, api_url, fake)
    fake.add_lead(1, time=OLD, status=2, pay={**pay, "status": "2"})

    again = await run_sync(database, api_url, fake)

    assert (first.new, again.new, again.updated, again.unchanged) == (1, 0, 0, 1)
    async with database.read() as session:
        lead = (await session.exec(select(Lead))).one()
    assert (lead.status_code, lead.status_name) == (2, "Выполнен")
    assert (lead.pay_status_code, lead.pay_status_name) == (2, "Оплачен")
