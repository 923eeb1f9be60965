"""Pytest fixtures serving the fakes on loopback ports, with `base_url` set on each.

Import the fixtures where they are wanted (`tests/integrations/conftest.py` does), or load
this module as a plugin from the root conftest: `pytest_plugins = ["testkit.fakes.fixtures"]`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from testkit.fakes.comunik8 import Comunik8Fake
from testkit.fakes.crm5 import Crm5Fake
from testkit.fakes.flexbe import FlexbeFake
from testkit.fakes.server import serve_app


class Sleeps:
    """An injectable `sleep` that records the pauses asked for instead of sleeping."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def flexbe_fake() -> AsyncIterator[FlexbeFake]:
    fake = FlexbeFake()
    async with serve_app(fake.app) as fake.base_url:
        yield fake


@pytest.fixture
async def crm5_fake() -> AsyncIterator[Crm5Fake]:
    fake = Crm5Fake()
    async with serve_app(fake.app) as fake.base_url:
        yield fake


@pytest.fixture
async def comunik8_fake() -> AsyncIterator[Comunik8Fake]:
    fake = Comunik8Fake()
    async with serve_app(fake.app) as fake.base_url:
        yield fake
