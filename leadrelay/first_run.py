"""A first start with nothing configured: write `.env` with fresh secrets, once.

`make serve` on a fresh clone should not stop at "set LEADRELAY_WEBHOOK_TOKEN". When there
is no `.env` and no site is configured in the environment, `.env` is written (mode 600,
never over an existing file) from `.env.example` with a webhook token and an admin token
generated to the rules of `config.secrets`, and the key that seals the secrets the console
keeps; the caller then prints the webhook URL and a login link to the console.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from config.secrets import weakness
from config.settings import ENV_PREFIX

ENV_FILE = Path(".env")
EXAMPLE_FILE = Path(".env.example")
PRIVATE_MODE = 0o600
# Settings that configure a site or the console already: their presence means "configured".
_CONFIGURING = ("WEBHOOK_TOKEN", "CONFIG", "ADMIN_TOKEN")
_MINIMAL = "# leadrelay settings; see .env.example in the source for every one.\n"


@dataclass(frozen=True, slots=True)
class FirstRun:
    path: Path
    webhook_token: str
    admin_token: str


def strong_token() -> str:
    """A URL-safe token that `config.secrets` accepts (it always does; checked anyway)."""
    while True:
        token = secrets.token_urlsafe(24)
        if weakness(token) is None:
            return token


def is_unconfigured(environ: Mapping[str, str], env_file: Path = ENV_FILE) -> bool:
    if env_file.exists():
        return False
    return not any(environ.get(f"{ENV_PREFIX}{name}") for name in _CONFIGURING)


def _filled(template: str, values: Mapping[str, str]) -> str:
    for name, value in values.items():
        line = re.compile(rf"^{re.escape(name)}=.*$", re.MULTILINE)
        if line.search(template):
            template = line.sub(f"{name}={value}", template, count=1)
        else:
            template += f"{name}={value}\n"
    return template


def write_first_env(
    environ: Mapping[str, str], *, env_file: Path = ENV_FILE, example: Path = EXAMPLE_FILE
) -> FirstRun | None:
    """Write `.env` with fresh tokens if nothing is configured; None if anything is."""
    if not is_unconfigured(environ, env_file):
        return None
    webhook_token, admin_token = strong_token(), strong_token()
    template = example.read_text(encoding="utf-8") if example.is_file() else _MINIMAL
    text = _filled(
        template,
        {
            f"{ENV_PREFIX}WEBHOOK_TOKEN": webhook_token,
            f"{ENV_PREFIX}ADMIN_TOKEN": admin_token,
            f"{ENV_PREFIX}SECRET_KEY": strong_token(),
        },
    )
    try:
        # O_EXCL: an `.env` that appeared meanwhile is left alone, never overwritten.
        handle = os.open(env_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_MODE)
    except FileExistsError:
        return None
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    return FirstRun(env_file, webhook_token, admin_token)


def add_secret_key(environ: Mapping[str, str], *, env_file: Path = ENV_FILE) -> bool:
    """Give an install set up before LEADRELAY_SECRET_KEY existed one, appended to `.env`
    (created mode 600 if there is none): the console needs it to keep sites and the bot
    token. Nothing is written where the key is set already. Whether it wrote."""
    name = f"{ENV_PREFIX}SECRET_KEY"
    if environ.get(name):
        return False
    if env_file.exists():
        text = env_file.read_text(encoding="utf-8")
        if re.search(rf"^{re.escape(name)}=\S", text, re.MULTILINE):
            return False
        blank = re.compile(rf"^{re.escape(name)}=\s*$", re.MULTILINE)
        line = f"{name}={strong_token()}"
        if blank.search(text):
            text = blank.sub(line, text, count=1)
        else:
            text += ("" if text.endswith("\n") or not text else "\n") + line + "\n"
        env_file.write_text(text, encoding="utf-8")
        return True
    handle = os.open(env_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_MODE)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(_MINIMAL + f"{name}={strong_token()}\n")
    return True
