"""Rendering a console page: Jinja2 with autoescape, the security headers, the cookies."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from console.i18n import LANGUAGES, translator
from console.security import COOKIE, SECURITY_HEADERS, Session, SessionSigner

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
LANGUAGE_COOKIE = "leadrelay_console_lang"


def build_environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def language_of(request: Request, default: str) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    accepted = request.headers.get("accept-language", "")[:200].lower()
    first = accepted.split(",")[0].strip()[:2]
    return first if first in LANGUAGES else default


class Renderer:
    """What every page needs: templates, the session signer, the time zone, the language."""

    def __init__(
        self,
        *,
        signer: SessionSigner,
        timezone: str,
        default_language: str,
        secure_cookies: bool,
    ) -> None:
        self.environment = build_environment()
        self.signer = signer
        self.zone = ZoneInfo(timezone)
        self.default_language = default_language
        self.secure_cookies = secure_cookies

    def page(
        self,
        request: Request,
        template: str,
        *,
        session: Session,
        status_code: int = 200,
        set_session: bool = False,
        helpers: Mapping[str, Any] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        language = language_of(request, self.default_language)
        gettext = translator(language)
        body = self.environment.get_template(template).render(
            _=gettext,
            language=language,
            languages=LANGUAGES,
            csrf=self.signer.csrf_token(session),
            authenticated=session.authenticated,
            path=request.url.path,
            query=request.url.query,
            when=self.when,
            **(helpers or {}),
            **{"notice": "", "problem": "", **context},
        )
        response = HTMLResponse(body, status_code=status_code)
        self.secure(response, request)
        if set_session:
            self.set_session(response, request, session)
        return response

    def message(
        self,
        request: Request,
        *,
        session: Session,
        status_code: int,
        heading: str,
        message: str,
        back: str,
        set_session: bool = False,
    ) -> HTMLResponse:
        """A page that says one thing (why something cannot be done) and links back."""
        return self.page(
            request,
            "message.html",
            session=session,
            status_code=status_code,
            set_session=set_session,
            heading=heading,
            message=message,
            back=back,
        )

    def gettext(self, request: Request) -> Callable[[str], str]:
        """`_` in the visitor's language."""
        return translator(language_of(request, self.default_language))

    def session_of(self, request: Request) -> Session | None:
        """The session the visitor's cookie holds, if it is valid and not expired."""
        return self.signer.load(request.cookies.get(COOKIE), now=time.time())

    def visitor(self, session: Session | None) -> tuple[Session, bool]:
        """The visitor's session, or a new anonymous one (then it must be set as a cookie)."""
        if session is not None:
            return session, False
        return self.signer.new(authenticated=False, now=time.time()), True

    def redirect(self, request: Request, target: str) -> Response:
        response = RedirectResponse(target, status_code=303)
        self.secure(response, request)
        return response

    def when(self, moment: datetime | None) -> str:
        """A time in the configured time zone, to the second."""
        if moment is None:
            return "—"
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S")

    @staticmethod
    def secure(response: Response, _request: Request | None = None) -> None:
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value

    def is_https(self, request: Request) -> bool:
        return self.secure_cookies or request.url.scheme == "https"

    def set_cookie(
        self, response: Response, request: Request, name: str, value: str, *, max_age: int
    ) -> None:
        """A cookie of the console's pages only, out of scripts' and other sites' reach."""
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/admin",
            httponly=True,
            samesite="strict",
            secure=self.is_https(request),
        )

    def set_session(self, response: Response, request: Request, session: Session) -> None:
        max_age = max(0, session.expires - int(time.time()))
        self.set_cookie(response, request, COOKIE, self.signer.dump(session), max_age=max_age)
