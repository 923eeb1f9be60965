"""The console's dependencies: its state, the visitor's session, and checked forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends, Request

from config.settings import Settings
from console.past_days import PastDays
from console.render import Renderer
from console.reprocessing import Reprocess
from console.security import FailedLogins, Session
from storage.database import Database

MAX_FORM_BYTES = 64 * 1024


class LoginRequired(Exception):
    """No authenticated session: the visitor is sent to the login page."""


class FormRefused(Exception):
    """A form without a valid CSRF token (forged, from another session, or too large)."""


@dataclass
class Console:
    settings: Settings
    database: Database
    renderer: Renderer
    failed_logins: FailedLogins
    reprocess: Reprocess
    past_days: PastDays = field(default_factory=PastDays)

    def base_url(self, request: Request) -> str:
        if self.settings.public_url is not None:
            return str(self.settings.public_url).rstrip("/")
        return str(request.base_url).rstrip("/")


async def get_console(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


ConsoleDep = Annotated[Console, Depends(get_console)]


async def require_session(request: Request, console: ConsoleDep) -> Session:
    session = console.renderer.session_of(request)
    if session is None or not session.authenticated:
        raise LoginRequired
    return session


async def any_session(request: Request, console: ConsoleDep) -> Session | None:
    return console.renderer.session_of(request)


AdminSession = Annotated[Session, Depends(require_session)]
MaybeSession = Annotated[Session | None, Depends(any_session)]


async def read_form(request: Request, console: Console) -> dict[str, str]:
    """The posted fields (first value of each), once the CSRF token matched the session."""
    session = console.renderer.session_of(request)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormRefused
    try:
        fields = parse_qs(body.decode(), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        raise FormRefused from None
    form = {name: values[0] for name, values in fields.items()}
    token = form.get("csrf", "")
    if session is None or not console.renderer.signer.check_csrf(session, token):
        raise FormRefused
    return form


async def checked_form(request: Request, console: ConsoleDep) -> dict[str, str]:
    return await read_form(request, console)


Form = Annotated[dict[str, str], Depends(checked_form)]
