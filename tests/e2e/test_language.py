"""Who is answered in which language: the Telegram app's until `/lang` is chosen, then the
choice; alerts to admins likewise."""

from __future__ import annotations

import pytest

from storage.database import Database
from storage.models import Manager
from storage.queries.team import ensure_admins
from tests.e2e.conftest import (
    Stack,
    buttons,
    eventually,
    invite_code,
    last_text,
    more_of,
    open_stack,
)
from tests.e2e.team import ADMIN, GROUP, MANAGER

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

HELP_EN = "Lead cards come here"
HELP_RU = "Сюда приходят карточки заявок"
NEW_ADMIN = 44


async def language_of(stack: Stack, telegram_id: int) -> tuple[str, bool]:
    async with stack.database.read() as session:
        manager = await session.get(Manager, telegram_id)
    assert manager is not None
    return manager.language, manager.language_chosen


async def ask_help(stack: Stack, user: int, language_code: str | None) -> str:
    before = len(stack.telegram.chat(user))
    stack.telegram.message_update(user, "/help", language_code=language_code)
    await eventually(lambda: len(stack.telegram.chat(user)) > before)
    return last_text(stack, user)


async def choose(stack: Stack, user: int, name: str, language_code: str) -> None:
    before = len(stack.telegram.chat(user))
    stack.telegram.message_update(user, "/lang", language_code=language_code)
    await eventually(lambda: len(stack.telegram.chat(user)) > before)
    menu = stack.telegram.chat(user)[-1]
    assert "Выберите язык" in menu["text"], "asked in the app's language"
    answered = len(stack.telegram.calls_of("answerCallbackQuery"))
    stack.telegram.callback_update(
        user, user, menu["message_id"], buttons(menu)[name], language_code=language_code
    )
    await eventually(lambda: len(stack.telegram.calls_of("answerCallbackQuery")) > answered)


async def test_invited_manager_is_answered_in_the_app_language(stack: Stack) -> None:
    code = await invite_code(stack)

    stack.telegram.message_update(555, f"/start {code}", language_code="ru", first_name="Ольга")
    await eventually(lambda: "Добро пожаловать" in last_text(stack, 555))
    assert HELP_RU in await ask_help(stack, 555, "ru")
    assert await language_of(stack, 555) == ("ru", False)


async def test_the_app_language_is_followed_until_lang_is_chosen(stack: Stack) -> None:
    assert HELP_RU in await ask_help(stack, MANAGER, "ru-RU")
    assert HELP_EN in await ask_help(stack, MANAGER, "de"), "unknown: the default"
    assert HELP_RU in await ask_help(stack, MANAGER, "ru")
    assert HELP_RU in await ask_help(stack, MANAGER, None), "no language_code: the last seen"

    await choose(stack, MANAGER, "English", language_code="ru")

    assert await language_of(stack, MANAGER) == ("en", True)
    assert HELP_EN in await ask_help(stack, MANAGER, "ru"), "the choice wins"
    assert await language_of(stack, MANAGER) == ("en", True)


async def test_admin_alerts_speak_the_chosen_or_last_seen_language(database: Database) -> None:
    async with open_stack(database, admins=(ADMIN, NEW_ADMIN)) as stack:
        async with stack.database.write() as session:
            await ensure_admins(session, stack.settings.telegram_admins)  # as `serve` does
        # The configured admin who was never in the table writes from a Russian phone;
        # the other admin's phone is Russian too, but they chose English.
        assert HELP_RU in await ask_help(stack, NEW_ADMIN, "ru")
        await choose(stack, ADMIN, "English", language_code="ru")
        assert await language_of(stack, NEW_ADMIN) == ("ru", False)
        assert await language_of(stack, ADMIN) == ("en", True)

        await stack.new_card()
        stack.crm5.outage.start((401, {"ans": "false", "error": "Invalid public_token"}))
        card = await more_of(stack, GROUP)
        stack.telegram.callback_update(
            MANAGER, GROUP, card["message_id"], buttons(card)["📇 5CRM deal"]
        )

        def alert(chat: int) -> str:
            texts = [m["text"] for m in stack.telegram.chat(chat) if m["text"].startswith("⚠️")]
            return texts[-1] if texts else ""

        await eventually(lambda: bool(alert(ADMIN)) and bool(alert(NEW_ADMIN)))
        assert "5CRM deal failed for lead #414" in alert(ADMIN)
        assert "Не удалось: Сделка в 5CRM, заявка #414" in alert(NEW_ADMIN)
