"""The first admin's link from the command line: `leadrelay admin-link`, and the start-up
banner in a terminal (never into a log), while the team has no admin."""

from __future__ import annotations

import asyncio
import os
import pty
import re
import subprocess
from pathlib import Path

from storage.database import Database
from storage.models import Manager
from storage.queries.setup import AdminLinkRefused, become_admin, create_admin_link
from testkit.fakes.telegram import BOT_USERNAME, TelegramFake
from testkit.service import telegram_settings
from tests.leadrelay.test_cli import LEADRELAY, environment, free_port, migrate, read_until

LINK = re.compile(rf"https://t\.me/{BOT_USERNAME}\?start=(admin-[\w-]+)")


async def leadrelay(env: dict[str, str], tmp_path: Path, *args: str) -> tuple[int, str]:
    """`leadrelay ARGS` to its end, its output and errors together, while the test's loop
    keeps serving the fakes."""
    process = await asyncio.create_subprocess_exec(
        LEADRELAY,
        *args,
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_admin_link_prints_a_new_link_until_there_is_an_admin(tmp_path: Path) -> None:
    telegram = TelegramFake()
    async with telegram.running():
        env = environment(tmp_path, **telegram_settings(telegram, chats=[-100]))
        migrate(env, tmp_path)

        code, output = await leadrelay(env, tmp_path, "admin-link")
        assert code == 0, output
        first = LINK.search(output)
        assert first is not None, output
        assert telegram.calls_of("getMe"), "the bot's username comes from Telegram"
        assert telegram.token not in output

        code, output = await leadrelay(env, tmp_path, "admin-link")
        second = LINK.search(output)
        assert code == 0 and second is not None and second.group(1) != first.group(1)

        database = Database(env["LEADRELAY_DATABASE_URL"])
        try:
            async with database.write() as session:
                admin = await become_admin(
                    session,
                    code=second.group(1),
                    telegram_id=5,
                    name="Ada",
                    username=None,
                    language="en",
                )
                assert isinstance(admin, Manager)
        finally:
            await database.dispose()

        code, output = await leadrelay(env, tmp_path, "admin-link")
    assert code == 1
    assert "The team has an admin already" in output
    assert LINK.search(output) is None


async def test_admin_link_says_what_is_missing(tmp_path: Path) -> None:
    env = environment(tmp_path)
    migrate(env, tmp_path)
    code, output = await leadrelay(env, tmp_path, "admin-link")
    assert code == 1
    assert "The bot is not known: set LEADRELAY_TELEGRAM_BOT_TOKEN" in output

    configured = environment(tmp_path, LEADRELAY_TELEGRAM_ADMINS="77")
    code, output = await leadrelay(configured, tmp_path, "admin-link")
    assert code == 1
    assert "The team has an admin already" in output


async def test_a_link_is_worth_nothing_once_the_first_admin_is_in(tmp_path: Path) -> None:
    """A link printed into a log, or a second one asked for, lets nobody in later."""
    env = environment(tmp_path)
    migrate(env, tmp_path)
    database = Database(env["LEADRELAY_DATABASE_URL"])
    try:
        async with database.write() as session:
            code = await create_admin_link(session)
        async with database.write() as session:
            first = await become_admin(
                session, code=code, telegram_id=5, name="Ada", username=None, language="en"
            )
        async with database.write() as session:
            again = await become_admin(
                session, code=code, telegram_id=6, name="Eve", username=None, language="en"
            )
    finally:
        await database.dispose()
    assert isinstance(first, Manager) and first.role == "admin"
    assert again is AdminLinkRefused.TEAM_HAS_ADMIN


async def test_start_up_in_a_terminal_prints_the_link_not_into_a_log(tmp_path: Path) -> None:
    telegram = TelegramFake()
    async with telegram.running():
        env = environment(tmp_path, **telegram_settings(telegram, chats=[-100]))
        migrate(env, tmp_path)

        # In a terminal.
        leader, follower = pty.openpty()
        server = await asyncio.create_subprocess_exec(
            LEADRELAY,
            "serve",
            "--port",
            str(free_port()),
            env=env,
            cwd=tmp_path,
            stdin=follower,
            stdout=follower,
            stderr=follower,
        )
        os.close(follower)
        try:
            seen = await asyncio.to_thread(read_until, leader, "start=admin-")
            seen += await asyncio.to_thread(read_until, leader, "\n", 5)
        finally:
            server.terminate()
            await server.wait()
            os.close(leader)
        assert "No admin yet: open this link in Telegram" in seen
        assert LINK.search(seen) is not None, seen

        # Into a pipe, as under systemd: the way to get one, not the link.
        server = await asyncio.create_subprocess_exec(
            LEADRELAY,
            "serve",
            "--port",
            str(free_port()),
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert server.stdout is not None
        logged = ""
        try:
            while "leadrelay admin-link" not in logged:
                line = await asyncio.wait_for(server.stdout.readline(), 30)
                if not line:
                    break
                logged += line.decode()
        finally:
            server.terminate()
            logged += (await server.communicate())[0].decode()
    assert "`leadrelay admin-link` prints the link" in logged
    assert "start=admin-" not in logged
