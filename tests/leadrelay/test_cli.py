"""The `leadrelay` command, run as a user runs it: a subprocess with its own environment."""

from __future__ import annotations

import os
import pty
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from testkit.service import service_environment

LEADRELAY = str(Path(sys.executable).with_name("leadrelay"))
TOKEN = "cli-token-0123456789abcdef"


def environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    database = {"LEADRELAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db"}
    return service_environment(**database, **settings)


def run(env: dict[str, str], tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`leadrelay ARGS` run to its end: its exit code, output and errors."""
    return subprocess.run(
        [LEADRELAY, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )


def migrate(env: dict[str, str], tmp_path: Path) -> None:
    migrated = run(env, tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr


def serving(env: dict[str, str], tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """`leadrelay serve ARGS` started without a terminal, its output and errors in one pipe."""
    return subprocess.Popen(
        [LEADRELAY, "serve", *args],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def read_until(fd: int, needle: str, timeout: float = 20) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk.decode(errors="replace")
    return seen


def test_migrate_then_serve_prints_webhook_url_and_telegram_off(tmp_path: Path) -> None:
    env = environment(tmp_path, LEADRELAY_WEBHOOK_TOKEN=TOKEN)
    migrated = run(env, tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "schema" in migrated.stdout

    port = free_port()
    leader, follower = pty.openpty()  # a terminal, as an admin starting it by hand has
    server = subprocess.Popen(
        [LEADRELAY, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=follower,
        stderr=subprocess.DEVNULL,
    )
    os.close(follower)
    try:
        banner = read_until(leader, "Telegram")
        assert f"http://127.0.0.1:{port}/flexbe/{TOKEN}" in banner
        assert "Telegram notifications are OFF" in banner
        health = _wait_healthy(port)
        assert health == {"status": "ok", "database": "ok", "migrations": "current"}
        accepted = httpx.post(
            f"http://127.0.0.1:{port}/flexbe/{TOKEN}",
            content="event=lead&data%5Bid%5D=1",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    finally:
        server.terminate()
        server.wait(20)
        os.close(leader)


def _wait_healthy(port: int) -> object:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz").json()
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("service did not answer /healthz")


def test_serve_without_terminal_does_not_print_the_secret(tmp_path: Path) -> None:
    env = environment(tmp_path, LEADRELAY_WEBHOOK_TOKEN=TOKEN)
    migrate(env, tmp_path)
    server = serving(env, tmp_path, "--port", str(free_port()))
    try:
        time.sleep(0.01)
        assert server.stdout is not None
        first_lines = [server.stdout.readline() for _ in range(3)]
    finally:
        server.terminate()
        output = "".join(first_lines) + server.communicate(timeout=20)[0]
    assert TOKEN not in output
    assert "leadrelay webhook-urls" in output


def test_webhook_urls_prints_every_site(tmp_path: Path) -> None:
    env = environment(tmp_path, LEADRELAY_WEBHOOK_TOKEN=TOKEN)

    result = run(env, tmp_path, "webhook-urls", "--base-url", "https://leads.example.ru/")

    assert result.returncode == 0
    assert result.stdout.strip() == f"default\thttps://leads.example.ru/flexbe/{TOKEN}"


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    env = environment(tmp_path, LEADRELAY_WEBHOOK_TOKEN=TOKEN)

    result = run(env, tmp_path, "serve", "--port", str(free_port()))

    assert result.returncode == 1
    assert "leadrelay migrate" in result.stderr


def test_invalid_configuration_stops_with_the_setting_named(tmp_path: Path) -> None:
    env = environment(tmp_path, LEADRELAY_TELEGRAM_CHATS="12,abc")

    result = run(env, tmp_path, "serve")

    assert result.returncode == 2
    assert "LEADRELAY_TELEGRAM_CHATS" in result.stderr


def test_an_unknown_phone_region_stops_start_up(tmp_path: Path) -> None:
    env = environment(tmp_path, LEADRELAY_WEBHOOK_TOKEN=TOKEN, LEADRELAY_DEFAULT_REGION="XX")

    result = run(env, tmp_path, "serve")

    assert result.returncode == 2
    assert "LEADRELAY_DEFAULT_REGION" in result.stderr and "unknown region" in result.stderr


def test_send_test_lead_reaches_the_running_service_and_its_cards_wait_for_a_bot(
    tmp_path: Path,
) -> None:
    env = environment(tmp_path, LEADRELAY_WEBHOOK_TOKEN=TOKEN, LEADRELAY_TELEGRAM_CHATS="-100,42")
    migrate(env, tmp_path)
    port = free_port()
    server = subprocess.Popen(
        [LEADRELAY, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_healthy(port)
        sent = run(env, tmp_path, "send-test-lead", "--base-url", f"http://127.0.0.1:{port}")
        # The retention's prune, which the worker schedules when it starts, runs; the two
        # cards wait for a bot token (pasted in the console, they are sent then).
        pruned = _wait_for_metric(
            port, 'leadrelay_job_attempts_total{kind="retention.prune",outcome="done"} 1.0'
        )
        listed = run(env, tmp_path, "jobs", "list")
    finally:
        server.terminate()
        server.wait(20)
    assert sent.returncode == 0, sent.stderr
    assert "Sent a test lead to default: accepted, lead id 1." in sent.stdout
    assert pruned, "the worker ran its prune"
    assert "pending: 2  running: 0  done: 1  dead: 0" in listed.stdout, listed.stdout


def _wait_for_metric(port: int, line: str) -> bool:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if line in httpx.get(f"http://127.0.0.1:{port}/metrics").text:
            return True
        time.sleep(0.1)
    return False


def test_send_test_lead_says_when_the_service_is_down(tmp_path: Path) -> None:
    env = environment(tmp_path, LEADRELAY_WEBHOOK_TOKEN=TOKEN)

    sent = run(env, tmp_path, "send-test-lead", "--base-url", f"http://127.0.0.1:{free_port()}")

    assert sent.returncode == 1
    assert "Cannot reach leadrelay" in sent.stderr


def test_prune_dry_run_counts_then_prune_removes(tmp_path: Path) -> None:
    env = environment(tmp_path, LEADRELAY_RETENTION_DAYS="7")

    assert run(env, tmp_path, "migrate").returncode == 0

    with sqlite3.connect(tmp_path / "cli.db") as db:
        db.execute(
            "INSERT INTO job (kind, payload, dedupe_key, status, attempts, max_attempts, run_at,"
            " created_at, updated_at, finished_at, postponements) VALUES ('notify', '{}',"
            " 'notify:1:1', 'done', 1, 8, '2020-01-01 00:00:00.000000',"
            " '2020-01-01 00:00:00.000000', '2020-01-01 00:00:00.000000',"
            " '2020-01-01 00:00:00.000000', 0)"
        )

    dry = run(env, tmp_path, "prune", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would remove older than" in dry.stdout and "done jobs 1 (notify 1)" in dry.stdout
    done = run(env, tmp_path, "prune")
    assert done.returncode == 0, done.stderr
    assert "removed older than" in done.stdout and "done jobs 1 (notify 1)" in done.stdout
    assert "done jobs 0" in run(env, tmp_path, "prune", "--dry-run").stdout
