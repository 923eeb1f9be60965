"""The card names the site: the configuration's name, else the webhook's `site` block,
never the bare key."""

from __future__ import annotations

import pytest

from storage.database import Database
from testkit.factories import lead_event
from tests.e2e.conftest import card_of, eventually, open_stack
from tests.e2e.team import GROUP

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def header(text: str) -> str:
    return text.splitlines()[0]


async def test_unnamed_site_is_named_by_the_webhook_site_block(database: Database) -> None:
    async with open_stack(database, site_name="") as stack:
        named = lead_event(1414)
        named["site"] = {"id": "174911", "domain": "dveri-msk.ru", "name": "Двери Москвы"}
        domain_only = lead_event(2415)
        domain_only["site"] = {"id": "174911", "domain": "dveri-msk.ru"}
        for event in (named, domain_only):
            assert (await stack.webhook(event)).status_code == 200

        await eventually(lambda: all(card_of(stack.telegram, GROUP, num) for num in (414, 415)))
        first, second = card_of(stack.telegram, GROUP, 414), card_of(stack.telegram, GROUP, 415)
        assert first is not None and second is not None
        assert header(first["text"]).endswith("· Двери Москвы")
        assert header(second["text"]).endswith("· dveri-msk.ru")
        assert "okna" not in header(first["text"]) + header(second["text"])


async def test_configured_name_comes_first(database: Database) -> None:
    async with open_stack(database) as stack:
        event = lead_event(1414)
        event["site"] = {"id": "174911", "domain": "dveri-msk.ru", "name": "Двери Москвы"}
        assert (await stack.webhook(event)).status_code == 200

        await eventually(lambda: card_of(stack.telegram, GROUP) is not None)
        card = card_of(stack.telegram, GROUP)
        assert card is not None and header(card["text"]).endswith("· Окна СПб")
