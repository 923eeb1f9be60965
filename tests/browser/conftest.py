"""A real browser against the whole stack: headless Chromium from the system's packages,
driven by Selenium through the system's chromedriver (nothing is downloaded).

Selenium blocks, and the stack serves from the test's event loop: each browser step runs
in a thread (`in_browser`) while the loop keeps serving. Where Chromium is missing these
tests are skipped, except in CI (`LEADRELAY_TEST_REQUIRE_BROWSER=1`, set by `.ci/run`),
where they fail and say what to install.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
REQUIRE_BROWSER = os.environ.get("LEADRELAY_TEST_REQUIRE_BROWSER") == "1"
T = TypeVar("T")


def _missing() -> str | None:
    absent = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if not absent:
        return None
    return (
        f"no {' and '.join(absent)}: install Debian's chromium and chromium-driver "
        "(apt-get install -y chromium chromium-driver; .ci/run does it)"
    )


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Under the test's own output folder (pytest's tmp_path), kept after the run."""
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder


@pytest.fixture
def browser(downloads: Path) -> Iterator[webdriver.Chrome]:
    problem = _missing()
    if problem is not None:
        if REQUIRE_BROWSER:
            pytest.fail(problem)
        pytest.skip(problem)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1000",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "intl.accept_languages": "en-US,en",
        },
    )
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


async def in_browser(step: Callable[[], T]) -> T:
    """Run a blocking browser step in a thread, so the stack keeps serving meanwhile."""
    return await asyncio.to_thread(step)
