"""The console in a real browser, in English and in Russian: log in with the token and
with the bot's link, filter and search leads, open one, re-process a rejected event, retry
a dead job, export CSV. Screenshots go to the test's output folder."""

from __future__ import annotations

import asyncio
import csv
import re
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import update
from sqlmodel import col, select

from domain.jobs import NOTIFY, CardPayload
from storage.database import Database
from storage.models import InboxEvent, InboxOutcome, Job, JobStatus, Lead
from storage.queries.jobs import enqueue_job
from testkit.factories import lead_event
from tests.browser.conftest import in_browser
from tests.e2e.conftest import ADMIN, ADMIN_TOKEN, Stack, eventually, open_stack
from webhooks.forms import encode_form

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

WORDS = {
    "en": {"overview": "Overview", "stored": "is stored now", "queued": "is queued again"},
    "ru": {"overview": "Обзор", "stored": "сохранено, заявка", "queued": "снова в очереди"},
}
RECENT = int(time.time()) - 3600


class Page:
    """The browser as an admin uses it, with a screenshot after each step."""

    def __init__(self, driver: webdriver.Chrome, base: str, shots: Path, language: str) -> None:
        self.driver, self.base, self.shots, self.language = driver, base, shots, language
        self.count = 0

    def shot(self, name: str) -> None:
        self.count += 1
        self.driver.save_screenshot(
            str(self.shots / f"{self.language}-{self.count:02d}-{name}.png")
        )

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    def click(self, element_id: str) -> None:
        """Click what leads to another page, and wait until that page is there."""
        self.driver.execute_script("window.leftBehind = true")  # gone with the next page
        self.driver.find_element(By.ID, element_id).click()
        WebDriverWait(self.driver, 20).until(
            lambda driver: driver.execute_script(
                "return window.leftBehind === undefined && document.readyState === 'complete'"
            )
        )

    def text(self) -> str:
        return str(self.driver.find_element(By.TAG_NAME, "body").text)

    def heading(self) -> str:
        return str(self.driver.find_element(By.TAG_NAME, "h1").text)

    def rows(self) -> int:
        return len(self.driver.find_elements(By.CSS_SELECTOR, "a.lead-link"))


async def _seed(stack: Stack) -> tuple[int, int]:
    """Leads, a rejected event today's code reads, and a dead card job."""
    await stack.new_lead(7001, name="Анна Смирнова", phone="+7 912 345-67-89", time=RECENT)
    await stack.new_lead(7002, name="Борис Орлов", phone="+7 913 000-11-22", time=RECENT)
    await stack.new_lead(7003, name="Carl Done", status=(2, "Выполнен"), time=RECENT)
    async with stack.database.write() as session:
        kept = InboxEvent(
            site_key="okna",
            content_type="application/x-www-form-urlencoded",
            body=encode_form(lead_event(7100, name="Пётр Из Архива", time=RECENT)).encode(),
            outcome=InboxOutcome.REJECTED.value,
            error="an older version could not read data.time",
        )
        session.add(kept)
        lead = (await session.exec(select(Lead).where(Lead.flexbe_id == 7001))).one()
        assert lead.id is not None
        job, _ = await enqueue_job(
            session,
            NOTIFY,
            CardPayload(lead_id=lead.id, chat_id=ADMIN, reason="new"),
            dedupe_key="browser:dead",
            run_at=None,
        )
        await session.flush()
        await session.exec(
            update(Job)
            .where(col(Job.id) == job.id)
            .values(status=JobStatus.DEAD.value, last_error="Telegram: chat not found")
        )
    assert kept.id is not None and job.id is not None
    return kept.id, job.id


def _log_in_with_token(page: Page) -> None:
    page.open("/admin/leads")  # no session: to the login page
    assert "/admin/login" in page.driver.current_url
    if page.language != "en":
        page.click(f"lang-{page.language}")
    page.driver.find_element(By.ID, "token").send_keys("not-the-token")
    page.click("login")
    assert page.driver.find_element(By.ID, "problem").is_displayed()
    page.shot("wrong-token")
    page.driver.find_element(By.ID, "token").send_keys(ADMIN_TOKEN)
    page.click("login")
    assert page.driver.current_url.endswith("/admin/leads")
    page.shot("logged-in-with-token")
    page.click("logout")
    assert "/admin/login" in page.driver.current_url


def _log_in_with_link(page: Page, link: str) -> None:
    page.driver.get(link)
    page.shot("login-link")
    page.click("use-link")
    assert page.heading() == WORDS[page.language]["overview"]
    assert page.driver.find_element(By.CSS_SELECTOR, "svg rect.bar")
    page.shot("overview")


def _leads(page: Page) -> None:
    page.open("/admin/leads")
    assert page.rows() == 3
    Select(page.driver.find_element(By.NAME, "status")).select_by_value("2")
    page.click("apply")
    assert page.rows() == 1 and "Carl Done" in page.text()
    page.shot("filtered-by-status")
    page.open("/admin/leads")
    page.driver.find_element(By.ID, "q").send_keys("8 (913) 000 11 22")
    page.click("apply")
    assert page.rows() == 1 and "Борис Орлов" in page.text()
    page.shot("searched-by-phone")
    first = page.driver.find_elements(By.CSS_SELECTOR, "a.lead-link")[0]
    page.driver.execute_script("arguments[0].id = 'first-lead'", first)
    page.click("first-lead")
    assert "Борис Орлов" in page.text() and "client_phone" in page.text()
    page.shot("lead")


def _reprocess(page: Page, event_id: int) -> None:
    page.open("/admin/inbox")
    assert "an older version could not read data.time" in page.text()
    page.shot("inbox")
    page.click(f"reprocess-{event_id}")
    assert WORDS[page.language]["stored"] in page.driver.find_element(By.ID, "notice").text
    assert not page.driver.find_elements(By.ID, f"reprocess-{event_id}")
    page.shot("reprocessed")


def _retry(page: Page, job_id: int) -> None:
    page.open("/admin/jobs")
    assert "Telegram: chat not found" in page.text()
    page.shot("dead-job")
    page.click(f"retry-{job_id}")
    assert WORDS[page.language]["queued"] in page.driver.find_element(By.ID, "notice").text
    page.shot("retried")


def _export(page: Page, downloads: Path) -> list[list[str]]:
    page.open("/admin/leads?q=Анна")
    page.driver.find_element(By.ID, "export-csv").click()  # a download: the page stays
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        done = list(downloads.glob("*.csv"))
        if done:
            with done[0].open(encoding="utf-8-sig") as stream:
                return list(csv.reader(stream))
        time.sleep(0.1)
    raise AssertionError("the CSV export did not arrive")


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_the_console_in_a_browser(
    database: Database,
    browser: webdriver.Chrome,
    screenshots: Path,
    downloads: Path,
    language: str,
) -> None:
    async with open_stack(database, console=True) as stack:
        event_id, job_id = await _seed(stack)
        page = Page(browser, stack.service_url, screenshots, language)

        await in_browser(lambda: _log_in_with_token(page))
        stack.telegram.message_update(ADMIN, "/admin")
        await eventually(lambda: "/admin/link/" in stack.telegram.chat(ADMIN)[-1]["text"])
        found = re.search(r"http://\S+/admin/link/\S+", stack.telegram.chat(ADMIN)[-1]["text"])
        assert found is not None
        link = found.group(0)
        await in_browser(lambda: _log_in_with_link(page, link))
        await in_browser(lambda: _leads(page))
        await in_browser(lambda: _reprocess(page, event_id))
        await in_browser(lambda: _retry(page, job_id))
        rows = await in_browser(lambda: _export(page, downloads))

        assert rows[0][:3] == ["id", "num", "site_key"]
        assert [row[rows[0].index("client_name")] for row in rows[1:]] == ["Анна Смирнова"]
        async with stack.database.read() as session:
            restored = (await session.exec(select(Lead).where(Lead.flexbe_id == 7100))).all()
        assert [lead.client_name for lead in restored] == ["Пётр Из Архива"]

        async def job_state() -> str:
            async with stack.database.read() as session:
                job = await session.get(Job, job_id)
            assert job is not None
            return job.status

        # Retried, the card job runs for real: the worker sends the card.
        states = [await job_state()]
        for _ in range(400):
            if states[-1] == JobStatus.DONE.value:
                break
            await asyncio.sleep(0.05)
            states.append(await job_state())
        assert states[-1] == JobStatus.DONE.value, states[-5:]
    assert len(list(screenshots.glob(f"{language}-*.png"))) >= 10
