"""`leadrelay doctor` checks each site's 5CRM ids against the account (the loopback 5CRM's
`funnels/get`, `deal/get-custom-fields` and `managers/get`): the run's own output, naming
the site and the setting to fix."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from testkit.fakes.crm5 import Crm5Fake
from testkit.fakes.server import serve_app
from testkit.service import service_environment

LEADRELAY = str(Path(sys.executable).with_name("leadrelay"))
SITE = """
[[sites]]
key = "okna"
webhook_token = "doctor-token-okna-0123456789abcdef"

[sites.crm5]
{crm5}

[[sites]]
key = "dveri"
webhook_token = "doctor-token-dveri-0123456789abcdef"

[sites.crm5]
send_as = "form"
funnel_id = 99
"""


@dataclass
class Doctor:
    crm5: Crm5Fake
    environment: dict[str, str]
    folder: Path

    async def run(self, crm5_settings: str) -> tuple[int, str]:
        config = self.folder / "sites.toml"
        config.write_text(SITE.format(crm5=crm5_settings), encoding="utf-8")
        process = await asyncio.create_subprocess_exec(
            LEADRELAY,
            "doctor",
            env={**self.environment, "LEADRELAY_CONFIG": str(config)},
            cwd=self.folder,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), 60)
        return process.returncode or 0, output.decode()


@pytest.fixture
async def doctor(tmp_path: Path) -> AsyncIterator[Doctor]:
    crm5 = Crm5Fake()
    crm5.funnels.append(
        {"id": 4, "name": "Опт", "is_default": "false", "stages": [{"id": 40, "name": "Новая"}]}
    )
    async with serve_app(crm5.app) as crm5_url:
        environment = service_environment(
            LEADRELAY_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/doctor.db",
            LEADRELAY_CRM5_API_URL=crm5_url,
            LEADRELAY_CRM5_PUBLIC_TOKEN=crm5.public_token,
            LEADRELAY_CRM5_SECRET_TOKEN=crm5.secret_token,
        )
        yield Doctor(crm5, environment, tmp_path)


def lines_of(output: str, name: str) -> list[str]:
    lines = output.splitlines()
    return [
        line + "\n" + (lines[i + 1] if i + 1 < len(lines) else "")
        for i, line in enumerate(lines)
        if f" {name} " in line
    ]


async def test_ids_that_exist_pass(doctor: Doctor) -> None:
    _code, output = await doctor.run(
        'funnel_id = 4\nstage_id = 40\nmanager_id = 2\ncustom_fields = { f_2 = "name:Площадь" }'
    )

    [okna] = lines_of(output, "5crm:okna")
    assert okna.startswith("[ ok ]") and "funnel, stage and custom fields exist" in okna
    [dveri] = lines_of(output, "5crm:dveri")
    assert dveri.startswith("[ ok ]") and "sends forms (ctm/form/send)" in dveri
    assert doctor.crm5.calls("public/funnels/get") and doctor.crm5.calls(
        "public/deal/get-custom-fields"
    )


async def test_wrong_ids_are_named_with_their_settings(doctor: Doctor) -> None:
    code, output = await doctor.run(
        "funnel_id = 4\nstage_id = 1\nmanager_id = 9\n"
        'custom_fields = { f_2 = "name:Площадь", f_7 = "utm:utm_term" }'
    )

    assert code == 1
    problems = lines_of(output, "5crm:okna")
    assert all(line.startswith("[FAIL]") for line in problems)
    text = "\n".join(problems)
    assert "site okna: stage_id 1 is not a stage of funnel 4 «Опт» (stages: 40 «Новая»)" in text
    assert "fix: LEADRELAY_CONFIG: sites.okna.crm5.stage_id" in text
    assert "site okna: 5CRM has no custom field f_7 (the account has f_1, f_2)" in text
    assert "fix: LEADRELAY_CONFIG: sites.okna.crm5.custom_fields.f_7" in text
    assert "site okna: manager_id 9 is not a 5CRM manager" in text
    assert "fix: LEADRELAY_CONFIG: sites.okna.crm5.manager_id" in text
    assert len(problems) == 3


async def test_an_unknown_funnel_is_named(doctor: Doctor) -> None:
    code, output = await doctor.run("funnel_id = 12")

    assert code == 1
    [problem] = lines_of(output, "5crm:okna")
    assert (
        "site okna: funnel_id 12 is not a 5CRM funnel (the account has 1 «MyFunnels», 4 «Опт»)"
        in problem
    )
    assert "fix: LEADRELAY_CONFIG: sites.okna.crm5.funnel_id" in problem
