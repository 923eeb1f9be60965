"""The overview's speed-to-lead tables and their CSV, as an admin reads them: per manager,
UTM source and form, working time only (the page says so), in both languages."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
from sqlmodel import col, select

from domain.owners import TAKE_BACK
from domain.statuses import PayStatus
from storage.clock import utcnow
from storage.database import Database
from storage.models import Action, Lead
from testkit.factories import lead_event
from tests.console.conftest import deliver

FORM_NAME = "Заявка на замер"  # the form of `lead_event`; its UTM source is yandex


async def three_leads(admin: httpx.AsyncClient, database: Database) -> None:
    """Max acted on two (2 and 8 minutes after arrival), the third is nobody's, lost
    without a reason; Max's second was paid and taken back once first."""
    now = int(utcnow().timestamp())
    for flexbe_id in (501, 502, 503):
        await deliver(admin, lead_event(flexbe_id, num=flexbe_id, time=now))
    async with database.write() as session:
        leads = {
            lead.flexbe_id: lead
            for lead in (await session.exec(select(Lead).order_by(col(Lead.id)))).all()
        }
        for flexbe_id, minutes in ((501, 2), (502, 8)):
            lead = leads[flexbe_id]
            lead.taken_by, lead.taken_by_name = 22, "=Max"  # a spreadsheet must not run it
            lead.first_action_at = lead.received_at + timedelta(minutes=minutes)
            session.add(lead)
        leads[502].pay_status_code = PayStatus.PAID
        leads[503].lost_reason = ""
        session.add_all([leads[502], leads[503]])
        taken_back = leads[502].id
        assert taken_back is not None
        session.add(Action(lead_id=taken_back, kind=TAKE_BACK, actor_name="SLA"))


async def test_the_overview_shows_speed_in_working_time_with_a_csv(
    admin: httpx.AsyncClient, database: Database
) -> None:
    await three_leads(admin, database)

    page = await admin.get("/admin")
    assert page.status_code == 200
    text = page.text
    assert "Speed to first action, last 7 days" in text
    assert "Working time only, as the SLA counts it" in text
    manager_table = text.split('id="speed-manager"')[1].split("</table>")[0]
    # Max: 2 leads, both acted on, median 5.0 min, p90 8.0, one within 5 min, 1 back, 1 paid.
    assert (
        "<td>=Max</td><td>2</td><td>2</td><td>5.0</td><td>8.0</td><td>50%</td><td>1</td>"
        "<td></td><td>1</td>"
    ) in manager_table
    assert "<td>nobody</td><td>1</td><td>0</td><td>—</td><td>—</td><td>0%</td>" in manager_table
    assert "no reason given: 1" in manager_table
    assert "<td>yandex</td><td>3</td>" in text.split('id="speed-source"')[1]
    assert f"<td>{FORM_NAME}</td><td>3</td>" in text.split('id="speed-form"')[1]
    assert 'href="/admin/speed.csv"' in text

    export = await admin.get("/admin/speed.csv")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["group", "name", "leads", "acted"]
    by_name = {(row[0], row[1]): row for row in rows[1:]}
    assert by_name[("manager", "'=Max")][2:] == ["2", "2", "5.0", "8.0", "50", "1", "", "1"]
    assert by_name[("manager", "nobody")][8] == "no reason given: 1"
    assert by_name[("source", "yandex")][2:4] == ["3", "2"]
    assert by_name[("form", FORM_NAME)][2] == "3"

    russian = await admin.get("/admin", headers={"Accept-Language": "ru"})
    assert "Только рабочее время" in russian.text and "причина не указана: 1" in russian.text


async def test_no_leads_no_table(admin: httpx.AsyncClient) -> None:
    page = await admin.get("/admin")
    assert "Speed to first action" in page.text and 'id="speed-manager"' not in page.text


async def test_the_csv_needs_an_admin(client: httpx.AsyncClient) -> None:
    response = await client.get("/admin/speed.csv")
    assert response.status_code in (303, 401, 403)
