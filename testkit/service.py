"""The real service as a subprocess, started, killed with SIGKILL and restarted by tests
and benchmarks."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from testkit.fakes.telegram import TelegramFake
from testkit.logs import FORBIDDEN_IN_LOGS
from webhooks.forms import encode_form

# Settings whose values must never reach a log line.
_SECRET_SETTINGS = ("TOKEN", "KEY", "SECRET")

LEADRELAY = str(Path(sys.executable).with_name("leadrelay"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def service_environment(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADRELAY_")}
    env.update(settings)
    return env


def telegram_settings(
    telegram: TelegramFake, *, chats: Iterable[int], admins: Iterable[int] = ()
) -> dict[str, str]:
    """The settings that point the service at `telegram`, its cards going to `chats`."""
    settings = {
        "LEADRELAY_TELEGRAM_BOT_TOKEN": telegram.token,
        "LEADRELAY_TELEGRAM_API_URL": telegram.base_url,
        "LEADRELAY_TELEGRAM_CHATS": ",".join(str(chat) for chat in chats),
    }
    if admins:
        settings["LEADRELAY_TELEGRAM_ADMINS"] = ",".join(str(admin) for admin in admins)
    return settings


def kill_test_environment(
    *,
    database_url: str,
    token: str,
    telegram: TelegramFake,
    chats: tuple[int, ...],
    admins: Iterable[int] = (),
) -> dict[str, str]:
    """The service's settings in the kill tests (and the benchmark of their drain): the
    default lease (a minute), so a killed worker's jobs must be taken over by the
    heartbeats' liveness check, not by the lease; the Telegram fake's pace far above the load."""
    return service_environment(
        LEADRELAY_DATABASE_URL=database_url,
        LEADRELAY_WEBHOOK_TOKEN=token,
        **telegram_settings(telegram, chats=chats, admins=admins),
        # The fake enforces no limits here: only the queue's own pace matters.
        LEADRELAY_TELEGRAM_CHAT_PER_SECOND="1000",
        LEADRELAY_TELEGRAM_GROUP_PER_MINUTE="60000",
        LEADRELAY_TELEGRAM_PER_SECOND="5000",
        # INFO: every access-log line goes through the tests' scan for secrets.
        LEADRELAY_LOG_LEVEL="INFO",
    )


@asynccontextmanager
async def kill_test_telegram(
    database_url: str, *, token: str, chats: tuple[int, ...], admins: Iterable[int] = ()
) -> AsyncIterator[tuple[TelegramFake, dict[str, str]]]:
    """A Telegram fake running, and the kill tests' settings pointing the service at it."""
    async with TelegramFake().running() as telegram:
        yield (
            telegram,
            kill_test_environment(
                database_url=database_url,
                token=token,
                telegram=telegram,
                chats=chats,
                admins=admins,
            ),
        )


class Service:
    def __init__(
        self,
        env: dict[str, str],
        workdir: Path,
        *args: str,
        executable: str = LEADRELAY,
    ) -> None:
        """`executable`: another checkout's `leadrelay` (benchmarks compare versions)."""
        self.env = env
        self.workdir = workdir
        self.args = args
        self.executable = executable
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None
        self.log = workdir / f"service-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def migrate(self) -> None:
        process = await asyncio.create_subprocess_exec(
            self.executable,
            "migrate",
            env=self.env,
            cwd=self.workdir,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert await process.wait() == 0, "leadrelay migrate failed"

    async def start(self, timeout: float = 60, *, serves_http: bool = True) -> None:
        """Start it and wait until `/healthz` answers 200; a role without the web front
        (`serves_http=False`) is only checked to be still running a moment later."""
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                self.executable,
                "serve",
                "--port",
                str(self.port),
                *self.args,
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=log,
            )
        if not serves_http:
            await asyncio.sleep(1.0)
            if self.process.returncode is not None:
                raise RuntimeError(f"service exited with {self.process.returncode}")
            return
        async with httpx.AsyncClient() as http:
            deadline = asyncio.get_running_loop().time() + timeout
            while asyncio.get_running_loop().time() < deadline:
                if self.process.returncode is not None:
                    raise RuntimeError(f"service exited with {self.process.returncode}")
                try:
                    if (await http.get(f"{self.url}/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        tail = self.log.read_text(errors="replace").splitlines()[-15:]
        raise RuntimeError("service did not become healthy; its log ends:\n" + "\n".join(tail))

    async def post_event(self, http: httpx.AsyncClient, token: str, event: dict[str, Any]) -> None:
        """POST a Flexbe event (`testkit.factories`) to the intake as Flexbe sends one, a
        PHP-style form; an error status raises."""
        response = await http.post(
            f"{self.url}/flexbe/{token}",
            content=encode_form(event),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response.raise_for_status()

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, whatever was in flight stays as it was."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                await self.kill()

    def log_leaks(self) -> list[str]:
        """Lines of this service's log (all its runs) carrying one of its configured
        secrets or a test client's phone number or e-mail."""
        secrets = [
            value
            for name, value in self.env.items()
            if name.startswith("LEADRELAY_") and value and any(w in name for w in _SECRET_SETTINGS)
        ]
        needles = [*secrets, *FORBIDDEN_IN_LOGS]
        if not self.log.exists():
            return []
        lines = self.log.read_text(errors="replace").splitlines()
        return [line[:200] for line in lines if any(needle in line for needle in needles)]


@asynccontextmanager
async def served_on_sqlite(**settings: str) -> AsyncIterator[Service]:
    """The service with all its roles on a new SQLite database in a folder of its own,
    migrated and healthy; stopped at the end."""
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        env = service_environment(
            LEADRELAY_DATABASE_URL=f"sqlite+aiosqlite:///{workdir}/leadrelay.db", **settings
        )
        service = Service(env, workdir)
        await service.migrate()
        await service.start()
        try:
            yield service
        finally:
            await service.stop()
