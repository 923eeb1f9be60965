"""`make serve` (`leadrelay serve --first-run`) on a fresh clone: `.env` written once with
strong tokens, the webhook URL and a one-time console link printed; an existing `.env` is
never touched, and without `--first-run` nothing is written."""

from __future__ import annotations

import re
import shutil
import stat
import time
from pathlib import Path

import httpx

from config.secrets import weakness
from leadrelay.first_run import add_secret_key, write_first_env
from tests.leadrelay.test_cli import environment, free_port, migrate, serving

ROOT = Path(__file__).resolve().parents[2]
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def serve_once(tmp_path: Path, env: dict[str, str], until: str) -> str:
    """Start `leadrelay serve` without a terminal, read its output up to `until`, stop it."""
    port = free_port()
    server = serving(env, tmp_path, "--first-run", "--port", str(port))
    seen = ""
    try:
        assert server.stdout is not None
        while until not in seen:
            line = server.stdout.readline()
            if not line:
                break
            seen += line
        if until in seen:
            _log_in_with_the_printed_link(seen, port)
    finally:
        server.terminate()
        seen += server.communicate(timeout=20)[0]
    return seen


def _log_in_with_the_printed_link(output: str, port: int) -> None:
    link = re.search(r"http://127\.0\.0\.1:\d+/admin/link/\S+", output)
    if link is None:
        return
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):  # the banner comes before the server listens
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    with httpx.Client(base_url=base) as http:
        page = http.get(link.group(0))
        found = _CSRF.search(page.text)
        assert found is not None
        token = link.group(0).rsplit("/", 1)[1]
        used = http.post("/admin/link", data={"csrf": found.group(1), "link": token})
        assert used.status_code == 303
        assert http.get("/admin").status_code == 200


def test_a_fresh_clone_gets_an_env_file_and_a_way_in(tmp_path: Path) -> None:
    env = environment(tmp_path)
    migrate(env, tmp_path)

    output = serve_once(tmp_path, env, until="log in once")

    dotenv = tmp_path / ".env"
    assert stat.S_IMODE(dotenv.stat().st_mode) == 0o600
    values = dict(line.split("=", 1) for line in dotenv.read_text().splitlines() if "=" in line)
    webhook, admin = values["LEADRELAY_WEBHOOK_TOKEN"], values["LEADRELAY_ADMIN_TOKEN"]
    assert weakness(webhook) is None and weakness(admin) is None and webhook != admin
    assert weakness(values["LEADRELAY_SECRET_KEY"]) is None
    assert "First run: wrote .env" in output
    assert f"/flexbe/{webhook}" in output  # to paste into Flexbe
    assert "/admin/link/" in output
    assert admin not in output

    before = dotenv.read_text()
    again = serve_once(tmp_path, env, until="Admin console")
    assert dotenv.read_text() == before
    assert "First run" not in again and f"/flexbe/{webhook}" not in again  # not a terminal


def test_serve_without_first_run_writes_nothing(tmp_path: Path) -> None:
    env = environment(tmp_path)
    migrate(env, tmp_path)
    server = serving(env, tmp_path, "--port", str(free_port()))
    try:
        assert server.stdout is not None
        output = "".join(server.stdout.readline() for _ in range(2))
    finally:
        server.terminate()
        output += server.communicate(timeout=20)[0]
    assert "No Flexbe site is configured" in output
    assert not (tmp_path / ".env").exists()


def test_an_existing_env_or_configuration_is_left_alone(tmp_path: Path) -> None:
    existing = tmp_path / ".env"
    existing.write_text("LEADRELAY_LOG_LEVEL=DEBUG\n")
    assert write_first_env({}, env_file=existing) is None
    assert existing.read_text() == "LEADRELAY_LOG_LEVEL=DEBUG\n"

    fresh = tmp_path / "fresh.env"
    configured = {"LEADRELAY_WEBHOOK_TOKEN": "x" * 30}
    assert write_first_env(configured, env_file=fresh) is None
    assert not fresh.exists()


def test_the_env_file_follows_the_example(tmp_path: Path) -> None:
    example = tmp_path / ".env.example"
    shutil.copy(ROOT / ".env.example", example)
    written = write_first_env({}, env_file=tmp_path / ".env", example=example)
    assert written is not None
    text = (tmp_path / ".env").read_text()
    assert f"LEADRELAY_WEBHOOK_TOKEN={written.webhook_token}\n" in text
    assert f"LEADRELAY_ADMIN_TOKEN={written.admin_token}\n" in text
    assert "LEADRELAY_TELEGRAM_BOT_TOKEN=" in text  # every other setting, still to fill
    assert text.count("LEADRELAY_WEBHOOK_TOKEN=") == 1


def test_an_install_from_before_the_secret_key_gets_one_added(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("LEADRELAY_WEBHOOK_TOKEN=kept-as-it-was\nLEADRELAY_SECRET_KEY=\n")

    assert add_secret_key({}, env_file=dotenv) is True
    lines = dotenv.read_text().splitlines()
    assert lines[0] == "LEADRELAY_WEBHOOK_TOKEN=kept-as-it-was"
    [key_line] = [line for line in lines if line.startswith("LEADRELAY_SECRET_KEY=")]
    assert weakness(key_line.split("=", 1)[1]) is None
    before = dotenv.read_text()
    assert add_secret_key({}, env_file=dotenv) is False, "set: never replaced"
    assert (
        add_secret_key({"LEADRELAY_SECRET_KEY": "from-the-environment"}, env_file=dotenv) is False
    )
    assert dotenv.read_text() == before

    missing = tmp_path / "none.env"
    assert add_secret_key({}, env_file=missing) is True
    assert stat.S_IMODE(missing.stat().st_mode) == 0o600
    assert "LEADRELAY_SECRET_KEY=" in missing.read_text()
