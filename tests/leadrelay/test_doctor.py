"""`leadrelay doctor` against the loopback services: all green, then a wrong key in red."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from testkit.fakes.comunik8 import Comunik8Fake
from testkit.fakes.crm5 import Crm5Fake
from testkit.fakes.flexbe import FlexbeFake
from testkit.fakes.server import serve_app
from testkit.fakes.telegram import TelegramFake
from testkit.service import service_environment

LEADRELAY = str(Path(sys.executable).with_name("leadrelay"))


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    flexbe, crm5, comunik8, telegram = FlexbeFake(), Crm5Fake(), Comunik8Fake(), TelegramFake()
    async with (
        serve_app(flexbe.app) as flexbe_url,
        serve_app(crm5.app) as crm5_url,
        serve_app(comunik8.app) as comunik8_url,
        telegram.running(),
    ):
        yield service_environment(
            LEADRELAY_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/doctor.db",
            LEADRELAY_WEBHOOK_TOKEN="doctor-token-0123456789abcdef",
            LEADRELAY_FLEXBE_API_URL=f"{flexbe_url}/mod/api/",
            LEADRELAY_FLEXBE_API_KEY=flexbe.api_key,
            LEADRELAY_CRM5_API_URL=crm5_url,
            LEADRELAY_CRM5_PUBLIC_TOKEN=crm5.public_token,
            LEADRELAY_COMUNIK8_API_URL=comunik8_url,
            LEADRELAY_COMUNIK8_API_KEY=comunik8.api_key,
            LEADRELAY_COMUNIK8_LEAD_TYPE="callback",
            LEADRELAY_TELEGRAM_BOT_TOKEN=telegram.token,
            LEADRELAY_TELEGRAM_API_URL=telegram.base_url,
        )


async def run(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        LEADRELAY,
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, output.decode()


async def test_doctor_all_green(services: dict[str, str], tmp_path: Path) -> None:
    assert (await run("migrate", env=services, cwd=tmp_path))[0] == 0

    code, output = await run("doctor", env=services, cwd=tmp_path)

    assert code == 0, output
    assert "FAIL" not in output
    for part in ("database", "flexbe", "5crm", "comunik8", "telegram"):
        assert any(part in line.lower() and "[ ok ]" in line for line in output.splitlines()), (
            part,
            output,
        )
    for secret in ("flexbe-key-0123456789", services["LEADRELAY_TELEGRAM_BOT_TOKEN"]):
        assert secret not in output


async def test_doctor_names_the_wrong_setting(services: dict[str, str], tmp_path: Path) -> None:
    assert (await run("migrate", env=services, cwd=tmp_path))[0] == 0
    wrong = {**services, "LEADRELAY_FLEXBE_API_KEY": "wrong-flexbe-key-000"}

    code, output = await run("doctor", env=wrong, cwd=tmp_path)

    assert code == 1
    [row] = [line for line in output.splitlines() if "FAIL" in line]
    assert "flexbe" in row.lower()
    assert "fix: LEADRELAY_FLEXBE_API_KEY" in output
    assert "wrong-flexbe-key-000" not in output
    assert sum("[ ok ]" in line for line in output.splitlines()) == 4
