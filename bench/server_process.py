"""A server that a benchmark runs by hand, as a subprocess on loopback, its output discarded
(`testkit.service.Service` is the service run with its log kept, for asyncio code)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx


class ServerProcess:
    """`argv` started at once; `name` is how its failures speak of it."""

    def __init__(
        self,
        argv: list[str],
        *,
        port: int,
        cwd: Path,
        env: dict[str, str] | None = None,
        name: str = "service",
    ) -> None:
        self.port = port
        self.name = name
        self.process = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.base = f"http://127.0.0.1:{port}"

    def check_running(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}")

    def wait_ready(self, client: httpx.Client, path: str, timeout: float) -> None:
        """Until `path` answers 200 (on `client`, whose base URL is this server's)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_running()
            try:
                if client.get(path).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start")

    def stop(self, grace: float = 15) -> None:
        """SIGTERM, then SIGKILL if it is still running after `grace` seconds."""
        self.process.terminate()
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
