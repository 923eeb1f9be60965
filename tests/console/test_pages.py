"""The console's pages as an admin uses them: filters, search, paging, a lead, exports,
re-processing a rejected event, retrying a dead job, sites and managers; and bad input."""

from __future__ import annotations

import csv
import io
import zipfile

import httpx
from sqlalchemy import update
from sqlmodel import col, select

from domain.jobs import NOTIFY, CardPayload
from storage.database import Database
from storage.models import InboxEvent, InboxOutcome, Job, JobStatus, Lead, Manager
from storage.queries.jobs import enqueue_job
from testkit.factories import lead_event
from tests.console.conftest import deliver, post_form
from tests.webhooks.conftest import ADMIN_TOKEN, OTHER_TOKEN, TOKEN
from webhooks.forms import encode_form

DAY = 86_400
BASE = 1_767_225_600  # 2026-01-01T00:00:00Z


async def test_leads_filter_search_and_page(admin: httpx.AsyncClient) -> None:
    for index in range(5):
        await deliver(admin, lead_event(200 + index, num=700 + index, time=BASE + index * DAY))
    await deliver(
        admin,
        lead_event(
            300,
            num=900,
            name="Мария Соколова",
            phone="8 (921) 555-01-02",
            email="Maria@Mail.ru",
            status=(1, "Обработан"),
            time=BASE,
        ),
    )

    everything = await admin.get("/admin/leads")
    assert everything.status_code == 200
    assert everything.text.count('class="lead-link"') == 6

    window = await admin.get("/admin/leads", params={"since": "2026-01-02", "until": "2026-01-03"})
    assert window.text.count('class="lead-link"') == 2
    processed = await admin.get("/admin/leads", params={"status": "1"})
    assert processed.text.count('class="lead-link"') == 1 and "Мария" in processed.text

    queries = ["+7 921 555 01 02", "89215550102", "Maria@Mail.ru", "maria@mail", "соколова", "900"]
    for query in queries:
        found = await admin.get("/admin/leads", params={"q": query})
        assert found.text.count('class="lead-link"') == 1, query
        assert "Мария Соколова" in found.text, query
    nothing = await admin.get("/admin/leads", params={"q": "nobody"})
    assert 'id="no-leads"' in nothing.text


async def test_leads_page_by_cursor(admin: httpx.AsyncClient) -> None:
    for index in range(55):
        await deliver(admin, lead_event(1000 + index, time=BASE + index))
    first = await admin.get("/admin/leads")
    assert first.text.count('class="lead-link"') == 50
    assert 'id="next-page"' in first.text
    next_href = first.text.split('id="next-page" href="')[1].split('"')[0].replace("&amp;", "&")
    second = await admin.get(next_href)
    assert second.text.count('class="lead-link"') == 5
    assert 'id="next-page"' not in second.text


async def test_nonsense_filters_say_what_is_wrong(admin: httpx.AsyncClient) -> None:
    cases = {
        "cursor=%%%garbage": "This page link is broken",
        "cursor=aWQ6LTE": "This page link is broken",
        "since=yesterday": "is not a date like 2026-01-31",
        "since=2026-02-01&until=2026-01-01": "ends before it starts",
        "status=77": "There is no status 77",
        "site=nope": "There is no site nope",
        "origin=mars": "There is no origin mars",
        "manager=-1": "There is no manager -1",
    }
    for query, words in cases.items():
        page = await admin.get(f"/admin/leads?{query}")
        assert page.status_code == 400, query
        assert words in page.text, query
        export = await admin.get(f"/admin/leads/export.csv?{query}")
        assert export.status_code == 400, query
    assert (await admin.get("/admin/leads/abc")).status_code == 400
    assert (await admin.get("/admin/leads/99999999999999999999999")).status_code == 400
    missing = await admin.get("/admin/leads/424242")
    assert missing.status_code == 404 and "There is no lead 424242." in missing.text
    assert (await admin.get("/admin/inbox?outcome=zzz")).status_code == 400
    assert (await admin.get("/admin/inbox?cursor=zzz")).status_code == 400


async def test_a_lead_shows_every_field_and_event(admin: httpx.AsyncClient) -> None:
    stored = await deliver(admin, lead_event(555, name="<script>alert(1)</script>"))
    page = await admin.get(f"/admin/leads/{stored['lead_id']}")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    for shown in ["client_phone", "utm_source", "okna-spb.ru", "Заявка на замер", "accepted"]:
        assert shown in page.text, shown
    assert "data%5Bid%5D=555" in page.text  # the raw body as received


async def test_export_csv_and_xlsx(admin: httpx.AsyncClient) -> None:
    await deliver(admin, lead_event(10, name='=HYPERLINK("http://evil")'))
    await deliver(admin, lead_event(11, name="Анна"))
    response = await admin.get("/admin/leads/export.csv")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["id", "num", "site_key"]
    names = [row[rows[0].index("client_name")] for row in rows[1:]]
    assert names == ["Анна", '\'=HYPERLINK("http://evil")']  # a formula is not run

    only = await admin.get("/admin/leads/export.csv", params={"q": "Анна"})
    assert len(list(csv.reader(io.StringIO(only.content.decode("utf-8-sig"))))) == 2

    xlsx = await admin.get("/admin/leads/export.xlsx")
    assert xlsx.status_code == 200
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as book:
        shared = (
            book.read("xl/sharedStrings.xml").decode()
            if "xl/sharedStrings.xml" in book.namelist()
            else ""
        )
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "Анна" in shared + sheet


async def test_reprocess_a_rejected_event_once(
    admin: httpx.AsyncClient, database: Database
) -> None:
    # An older version refused this body; today's code reads it.
    body = encode_form(lead_event(4242, name="Пётр")).encode()
    async with database.write() as session:
        kept = InboxEvent(
            site_key="okna",
            content_type="application/x-www-form-urlencoded",
            body=body,
            outcome=InboxOutcome.REJECTED.value,
            error="data.time: not a date (old parser)",
        )
        session.add(kept)
        await session.flush()
        kept_id = kept.id
    page = await admin.get("/admin/inbox")
    assert "old parser" in page.text and f'id="reprocess-{kept_id}"' in page.text

    done = await post_form(admin, "/admin/inbox", f"/admin/inbox/{kept_id}/reprocess")
    assert done.status_code == 303
    after = await admin.get("/admin/inbox")
    assert "is stored now, as lead" in after.text
    assert f'id="reprocess-{kept_id}"' not in after.text
    async with database.read() as session:
        leads = (await session.exec(select(Lead).where(Lead.flexbe_id == 4242))).all()
        jobs = (await session.exec(select(Job).where(Job.kind == NOTIFY.name))).all()
    assert len(leads) == 1 and leads[0].client_name == "Пётр"
    assert len(jobs) == 2  # one card per chat of the site

    # Once: the button is gone, and a second post (a double click) changes nothing.
    page = await admin.get("/admin/jobs")
    twice = await post_form(admin, "/admin/jobs", f"/admin/inbox/{kept_id}/reprocess")
    assert twice.status_code == 303
    assert "re-processed already" in (await admin.get("/admin/inbox")).text
    async with database.read() as session:
        assert len((await session.exec(select(Lead).where(Lead.flexbe_id == 4242))).all()) == 1
    assert page.status_code == 200


async def test_reprocess_what_still_does_not_parse(admin: httpx.AsyncClient) -> None:
    refused = await admin.post(
        f"/flexbe/{TOKEN}",
        content=b"event=lead&data[id]=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert refused.status_code == 422
    event_id = refused.json()["event_id"]
    response = await post_form(admin, "/admin/inbox", f"/admin/inbox/{event_id}/reprocess")
    assert response.status_code == 303
    page = await admin.get("/admin/inbox")
    assert f"Event #{event_id} still cannot be read" in page.text
    assert page.text.count(f'id="event-{event_id}"') == 1  # nothing stored again


async def test_reprocess_an_event_of_a_site_no_longer_configured(
    admin: httpx.AsyncClient, database: Database
) -> None:
    async with database.write() as session:
        kept = InboxEvent(
            site_key="closed",
            content_type="application/x-www-form-urlencoded",
            body=encode_form(lead_event(4343)).encode(),
            outcome=InboxOutcome.REJECTED.value,
            error="old parser",
        )
        session.add(kept)
        await session.flush()
        kept_id = kept.id
    response = await post_form(admin, "/admin/inbox", f"/admin/inbox/{kept_id}/reprocess")
    assert response.status_code == 303
    page = await admin.get("/admin/inbox")
    assert "The site closed is no longer configured." in page.text
    assert f'id="reprocess-{kept_id}"' in page.text  # nothing stored: it can be tried again
    async with database.read() as session:
        assert (await session.exec(select(Lead).where(Lead.flexbe_id == 4343))).all() == []


async def _dead_job(database: Database, chat: int) -> int:
    async with database.write() as session:
        job, _ = await enqueue_job(
            session,
            NOTIFY,
            CardPayload(lead_id=1, chat_id=chat, reason="new"),
            dedupe_key=f"t:{chat}",
        )
        await session.flush()
        job_id = job.id
        await session.exec(
            update(Job)
            .where(col(Job.id) == job_id)
            .values(
                status=JobStatus.DEAD.value, attempts=8, last_error="Telegram said: chat not found"
            )
        )
    assert job_id is not None
    return job_id


async def test_retry_and_discard_dead_jobs(admin: httpx.AsyncClient, database: Database) -> None:
    first, second, third = [await _dead_job(database, chat) for chat in (1, 2, 3)]
    page = await admin.get("/admin/jobs")
    assert "chat not found" in page.text and f'id="retry-{first}"' in page.text

    assert (await post_form(admin, "/admin/jobs", f"/admin/jobs/{first}/retry")).status_code == 303
    assert f"Job #{first} is queued again." in (await admin.get("/admin/jobs")).text
    assert (
        await post_form(admin, "/admin/jobs", f"/admin/jobs/{second}/discard")
    ).status_code == 303
    again = await post_form(admin, "/admin/jobs", f"/admin/jobs/{second}/discard")
    assert again.status_code == 303
    assert f"There is no dead job #{second}." in (await admin.get("/admin/jobs")).text
    await post_form(admin, "/admin/jobs", "/admin/jobs/retry-kind", {"kind": NOTIFY.name})
    async with database.read() as session:
        states = {job.id: job.status for job in (await session.exec(select(Job))).all()}
    assert states == {first: "pending", third: "pending"}


async def test_sites_show_the_webhook_url_only_when_asked(admin: httpx.AsyncClient) -> None:
    page = await admin.get("/admin/sites")
    assert TOKEN not in page.text and OTHER_TOKEN not in page.text and ADMIN_TOKEN not in page.text
    shown = await post_form(admin, "/admin/sites", "/admin/sites/okna/webhook-url")
    assert shown.status_code == 200
    assert f"/flexbe/{TOKEN}" in shown.text and OTHER_TOKEN not in shown.text
    assert shown.headers["cache-control"] == "no-store"
    checks = await post_form(admin, "/admin/sites", "/admin/sites/doctor")
    assert checks.status_code == 200 and 'id="checks"' in checks.text
    assert TOKEN not in checks.text


async def test_managers_disable_and_sites(admin: httpx.AsyncClient, database: Database) -> None:
    async with database.write() as session:
        session.add(Manager(telegram_id=501, name="Ольга", sites=[]))
    await post_form(admin, "/admin/sites", "/admin/managers/501/active", {"active": "0"})
    await post_form(
        admin, "/admin/sites", "/admin/managers/501/sites", {"site:okna": "1", "site:ghost": "1"}
    )
    async with database.read() as session:
        manager = await session.get(Manager, 501)
    assert manager is not None
    assert manager.active is False and manager.sites == ["okna"]


async def test_russian(admin: httpx.AsyncClient) -> None:
    await deliver(admin, lead_event(1))
    switched = await admin.get("/admin/lang?to=ru&next=/admin/leads")
    assert switched.status_code == 303 and switched.headers["location"] == "/admin/leads"
    page = await admin.get("/admin/leads")
    assert "Заявки" in page.text and "Выгрузить эти заявки" in page.text
    assert "Export these leads" not in page.text
    bad = await admin.get("/admin/leads?status=77")
    assert "Статуса «77» нет." in bad.text
    overview = await admin.get("/admin")
    assert "Сегодня" in overview.text and "<svg" in overview.text
