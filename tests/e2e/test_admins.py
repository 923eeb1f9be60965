"""Admins without ids to look up: the first by a one-time link the console shows (whoever
opens it in Telegram becomes the admin), then others made admin, or a manager again, from
`/managers`; never the last admin, never one of LEADRELAY_TELEGRAM_ADMINS."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from storage.clock import utcnow
from storage.database import Database
from storage.models import AdminLink, Manager, ManagerRole
from testkit.fakes.telegram import BOT_USERNAME
from tests.console.conftest import log_in, post_form
from tests.e2e.conftest import Stack, buttons, eventually, last_text, open_stack
from tests.e2e.team import ADMIN, ADMIN_TOKEN, MANAGER, OUTSIDER

_LINK = re.compile(rf'id="admin-link" value="https://t\.me/{BOT_USERNAME}\?start=([^"]+)"')
NEWCOMER = 4242


async def console_admin_link(stack: Stack) -> str:
    """The code of the first admin's link, as the console's Sites page shows it."""
    async with httpx.AsyncClient(base_url=stack.service_url) as http:
        await log_in(http, ADMIN_TOKEN)
        shown = await post_form(http, "/admin/sites", "/admin/setup/admin-link")
    found = _LINK.search(shown.text)
    assert found is not None, shown.text[:2000]
    return found.group(1)


async def says(stack: Stack, user: int, text: str, **kwargs: Any) -> str:
    """`user` writes `text` in private: the bot's answer."""
    before = len(stack.telegram.chat(user))
    stack.telegram.message_update(user, text, **kwargs)
    await eventually(lambda: len(stack.telegram.chat(user)) > before)
    return last_text(stack, user)


async def role_of(database: Database, telegram_id: int) -> str | None:
    async with database.read() as session:
        member = await session.get(Manager, telegram_id)
    return member.role if member is not None and member.active else None


async def role_becomes(database: Database, telegram_id: int, role: str) -> None:
    """The tap is answered inside its transaction: the change is stored a moment later."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while await role_of(database, telegram_id) != role:
        assert loop.time() < deadline, f"{telegram_id} did not become {role}"
        await asyncio.sleep(0.02)


async def test_the_first_admin_by_the_consoles_link(database: Database) -> None:
    async with open_stack(database, admins=(), team=False, console=True) as stack:
        code = await console_admin_link(stack)

        answer = await says(
            stack, NEWCOMER, f"/start {code}", first_name="Olga", language_code="ru"
        )
        assert "администратор" in answer, answer
        await role_becomes(database, NEWCOMER, ManagerRole.ADMIN.value)
        # Their menu has the admins' commands, in their language.
        menus = [c for c in stack.telegram.commands if (c["scope"] or {}).get("chat_id")]
        assert menus and menus[-1]["scope"]["chat_id"] == NEWCOMER
        assert "managers" in {command["command"] for command in menus[-1]["commands"]}
        # And the admin's commands answer them.
        assert "Olga" in await says(stack, NEWCOMER, "/managers")

        # The link is spent, and any other is worth nothing now that there is an admin.
        assert "has an admin already" in await says(stack, OUTSIDER, f"/start {code}")
        assert await role_of(database, OUTSIDER) is None
        assert "already" in await says(stack, NEWCOMER, f"/start {code}", language_code="en")


async def test_a_forged_or_expired_admin_link_lets_nobody_in(database: Database) -> None:
    async with open_stack(database, admins=(), team=False, console=True) as stack:
        forged = await says(stack, OUTSIDER, "/start admin-forged0123456789abcdef")
        assert "used, expired or not valid" in forged
        assert "leadrelay admin-link" in forged

        code = await console_admin_link(stack)
        async with database.write() as session:
            await session.exec(update(AdminLink).values(expires_at=utcnow() - timedelta(minutes=1)))
        assert "used, expired or not valid" in await says(stack, OUTSIDER, f"/start {code}")
        assert await role_of(database, OUTSIDER) is None

        fresh = await console_admin_link(stack)
        assert "admin now" in await says(stack, OUTSIDER, f"/start {fresh}")


async def team_message(stack: Stack, user: int = ADMIN) -> dict[str, Any]:
    await says(stack, user, "/managers")
    return stack.telegram.chat(user)[-1]


async def press(stack: Stack, user: int, message: dict[str, Any], label: str) -> str:
    """`user` taps `label` under `message`: the answer to the tap."""
    answered = len(stack.telegram.callback_answers)
    stack.telegram.callback_update(user, user, message["message_id"], buttons(message)[label])
    await eventually(lambda: len(stack.telegram.callback_answers) > answered)
    return str(stack.telegram.callback_answers[answered].get("text", ""))


async def test_admins_make_admins_and_managers_again_never_the_last(database: Database) -> None:
    # Ada is an admin kept in the database (as the first admin's link makes one).
    async with open_stack(database, admins=()) as stack:
        team = await team_message(stack)
        assert "Make Ada a manager" in buttons(team)
        assert "last admin stays" in await press(stack, ADMIN, team, "Make Ada a manager")
        assert await role_of(database, ADMIN) == ManagerRole.ADMIN.value

        assert await press(stack, ADMIN, team, "Make Max admin") == "Made admin."
        await role_becomes(database, MANAGER, ManagerRole.ADMIN.value)
        # The list is redrawn: Max is an admin on it, with the button that undoes it.
        await eventually(lambda: "Make Max a manager" in buttons(stack.telegram.chat(ADMIN)[-1]))
        assert "Max — admin" in stack.telegram.chat(ADMIN)[-1]["text"]

        # Max, an admin now, has the admin's commands; he makes Ada a manager.
        team = await team_message(stack, MANAGER)
        assert await press(stack, MANAGER, team, "Make Ada a manager") == "Made a manager."
        await role_becomes(database, ADMIN, ManagerRole.MANAGER.value)
        assert stack.telegram.calls_of("deleteMyCommands")[-1].params["scope"]["chat_id"] == ADMIN


async def test_an_admin_of_the_environment_stays_one(database: Database) -> None:
    async with open_stack(database) as stack:  # Ada is in LEADRELAY_TELEGRAM_ADMINS
        team = await team_message(stack)
        assert "Ada — admin, from the environment" in team["text"]
        assert "Make Ada a manager" not in buttons(team)
        # A tap forged from an older list is refused in words, and changes nothing.
        forged = {**team, "reply_markup": None}
        stack.telegram.callback_update(ADMIN, ADMIN, forged["message_id"], f"ad:{ADMIN}:0")
        await eventually(lambda: bool(stack.telegram.callback_answers))
        assert "LEADRELAY_TELEGRAM_ADMINS" in stack.telegram.callback_answers[-1]["text"]
        assert await role_of(database, ADMIN) == ManagerRole.ADMIN.value


async def test_a_manager_cannot_make_anyone_admin(database: Database) -> None:
    async with open_stack(database) as stack:
        team = await team_message(stack)
        data = buttons(team)["Make Max admin"]
        stack.telegram.callback_update(MANAGER, MANAGER, team["message_id"], data)
        await eventually(lambda: bool(stack.telegram.callback_answers))
        assert await role_of(database, MANAGER) == ManagerRole.MANAGER.value
