"""The first run on the Sites page in a real browser, in English and in Russian: paste the
bot token (a wrong one first), get the first admin's link, add a Flexbe site and copy its
webhook URL, on which a lead is then accepted.

Screenshots go to the test's output folder; with LEADRELAY_UPDATE_DOC_IMAGES=1 they are
also written, small, to docs/images/ for docs/SETUP.md."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from PIL import Image
from pydantic import SecretStr
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from config.chats import ChatAddress
from config.settings import Settings
from config.sites import SiteConfig
from leadrelay.setup_watch import SetupWatch
from leadrelay.web import create_app
from storage.database import Database
from storage.queries.sites import ensure_sites
from testkit.factories import lead_event
from testkit.fakes.flexbe import FlexbeFake
from testkit.fakes.server import bound_socket, serve_app
from testkit.fakes.telegram import BOT_USERNAME, TelegramFake
from tests.browser.conftest import in_browser
from tests.e2e.conftest import ADMIN_TOKEN
from webhooks.forms import encode_form

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

DOC_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
UPDATE_DOC_IMAGES = os.environ.get("LEADRELAY_UPDATE_DOC_IMAGES") == "1"
WORDS = {
    "en": {
        "wrong": "Telegram does not know this token",
        "bot": f"The bot @{BOT_USERNAME} (leadrelay) is connected",
        "added": "is added, as kukhni-moskva",
        "configured": "from the configuration",
    },
    "ru": {
        "wrong": "Telegram не знает такого токена",
        "bot": f"Бот @{BOT_USERNAME} (leadrelay) подключён",
        "added": "добавлен с ключом kukhni-moskva",
        "configured": "из конфигурации",
    },
}


@dataclass
class FirstRun:
    url: str
    settings: Settings
    database: Database
    telegram: TelegramFake
    flexbe: FlexbeFake


@contextlib.asynccontextmanager
async def first_run(database: Database) -> AsyncIterator[FirstRun]:
    """The web role of a fresh install: one site from the configuration, no bot token, a
    secret key; the loopback Telegram and Flexbe behind it."""
    telegram, flexbe = TelegramFake(), FlexbeFake()
    sock = bound_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with telegram.running(), serve_app(flexbe.app) as flexbe.base_url:
        settings = Settings(
            _env_file=None,
            admin_token=SecretStr(ADMIN_TOKEN),
            secret_key=SecretStr("browser-seal-key-0123456789abcdef"),
            public_url=url,  # type: ignore[arg-type]
            telegram_api_url=telegram.base_url,  # type: ignore[arg-type]
            sites=(
                SiteConfig(
                    key="okna",
                    name="Окна СПб",
                    webhook_token=SecretStr("okna-token-0123456789abcdef"),
                    chats=(ChatAddress(-1001234567890),),
                ),
            ),
        )
        async with database.write() as session:
            await ensure_sites(session, [("okna", "Окна СПб")])
        app = create_app(settings=settings, database=database)
        try:
            async with serve_app(app, sock):
                yield FirstRun(url, settings, database, telegram, flexbe)
        finally:
            await app.state.intake.aclose()


class Page:
    """The browser as an admin uses it, with a screenshot of each step."""

    def __init__(self, driver: webdriver.Chrome, base: str, shots: Path, language: str) -> None:
        self.driver, self.base, self.shots, self.language = driver, base, shots, language

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    def click(self, element_id: str) -> None:
        """Click what leads to another page, and wait until that page is there."""
        self.driver.execute_script("window.leftBehind = true")
        self.driver.find_element(By.ID, element_id).click()
        WebDriverWait(self.driver, 20).until(
            lambda driver: driver.execute_script(
                "return window.leftBehind === undefined && document.readyState === 'complete'"
            )
        )

    def type(self, element_id: str, text: str) -> None:
        field = self.driver.find_element(By.ID, element_id)
        field.clear()
        field.send_keys(text)

    def by_id(self, element_id: str) -> WebElement:
        return self.driver.find_element(By.ID, element_id)

    def shot(self, name: str, element_id: str | None = None) -> None:
        """The page's top (or one part of it), as a small PNG."""
        path = self.shots / f"sites-{name}-{self.language}.png"
        if element_id is None:
            self.driver.save_screenshot(str(path))
        else:
            self.by_id(element_id).screenshot(str(path))
        with Image.open(path) as image:
            small = image.convert("RGB").quantize(colors=64)
        small.save(path, optimize=True)
        if UPDATE_DOC_IMAGES:
            DOC_IMAGES.mkdir(exist_ok=True)
            small.save(DOC_IMAGES / path.name, optimize=True)


def _log_in(page: Page) -> None:
    page.open("/admin/sites")
    assert "/admin/login" in page.driver.current_url
    if page.language != "en":
        page.click(f"lang-{page.language}")
    page.type("token", ADMIN_TOKEN)
    page.click("login")
    assert page.driver.current_url.endswith("/admin/sites")
    assert page.by_id("bot-token").is_displayed()
    assert WORDS[page.language]["configured"] in page.by_id("sites").text
    page.shot("fresh")


def _paste_bot_token(page: Page, right: str) -> str:
    page.type("bot-token", "123456:not-the-token-of-any-bot")
    page.click("save-bot-token")
    assert WORDS[page.language]["wrong"] in page.by_id("problem").text
    page.type("bot-token", right)
    page.click("save-bot-token")
    assert WORDS[page.language]["bot"] in page.by_id("notice").text
    assert not page.driver.find_elements(By.ID, "bot-token")
    assert right not in page.driver.page_source
    link = str(page.by_id("admin-link").get_attribute("value"))
    page.shot("bot-token")
    return link


def _add_site(page: Page, flexbe: FlexbeFake) -> str:
    page.type("new-name", "Кухни Москва")
    page.type("new-api-url", flexbe.api_url)
    page.type("new-api-key", "a-key-flexbe-does-not-know")
    page.type("new-chats", "-1005550001:15")
    page.click("add-site-submit")
    assert "Flexbe" in page.by_id("problem").text
    assert page.by_id("new-name").get_attribute("value") == "Кухни Москва"  # kept as typed
    page.type("new-api-key", flexbe.api_key)
    page.click("add-site-submit")
    assert WORDS[page.language]["added"] in page.by_id("notice").text
    url = str(page.by_id("webhook-url").get_attribute("value"))
    page.by_id("copy-webhook-url").click()
    WebDriverWait(page.driver, 5).until(lambda _: page.by_id("copy-webhook-url").text == "✓")
    assert page.by_id("site-row-kukhni-moskva").is_displayed()
    assert flexbe.api_key not in page.driver.page_source
    page.shot("webhook-url", "reveal")
    page.shot("added")
    return url


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_the_first_run_on_the_sites_page(
    database: Database, browser: webdriver.Chrome, screenshots: Path, language: str
) -> None:
    async with first_run(database) as run:
        page = Page(browser, run.url, screenshots, language)
        await in_browser(lambda: _log_in(page))
        link = await in_browser(lambda: _paste_bot_token(page, run.telegram.token))
        assert link.startswith(f"https://t.me/{BOT_USERNAME}?start=admin-")
        url = await in_browser(lambda: _add_site(page, run.flexbe))

        # The process takes the site up (its set-up watch does it within a second).
        await SetupWatch(run.database, run.settings).refresh()
        assert run.settings.telegram_enabled
        async with httpx.AsyncClient() as http:
            answered = await http.post(
                url,
                content=encode_form(lead_event(4101)),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        assert answered.status_code == 200 and answered.json()["status"] == "accepted"
    shots = sorted(path.name for path in screenshots.glob(f"*-{language}.png"))
    assert len(shots) == 4, shots
    assert all(path.stat().st_size < 200_000 for path in screenshots.glob("*.png"))
