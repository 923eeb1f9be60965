"""Logging in and out: with the admin token, or with a one-time link from the bot."""

from __future__ import annotations

import hmac
import time

from fastapi import APIRouter, Request, Response

from console.access import Console, ConsoleDep, Form, MaybeSession
from console.i18n import LANGUAGES
from console.render import LANGUAGE_COOKIE
from console.security import COOKIE, Session
from storage.queries.console_logins import redeem_login_link

router = APIRouter(prefix="/admin", include_in_schema=False)


def safe_next(target: str) -> str:
    """Only a page of the console: never another site (`//evil`, `/\\evil`)."""
    if target.startswith("/admin") and not target.startswith(("//", "/\\")) and "\\" not in target:
        return target[:500]
    return "/admin"


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _logged_in(request: Request, console: Console, target: str) -> Response:
    console.failed_logins.succeeded(_client(request))
    # A new session id: whatever id the visitor had before is worth nothing now.
    session = console.renderer.signer.new(authenticated=True, now=time.time())
    response = console.renderer.redirect(request, safe_next(target))
    console.renderer.set_session(response, request, session)
    return response


def _login_again(
    request: Request,
    console: Console,
    session: Session,
    form: dict[str, str],
    *,
    status_code: int,
    problem: str,
) -> Response:
    """The login page once more, saying why the last try failed."""
    return console.renderer.page(
        request,
        "login.html",
        session=session,
        status_code=status_code,
        next=safe_next(form.get("next", "")),
        problem=problem,
    )


@router.get("/login")
async def login_page(request: Request, console: ConsoleDep, session: MaybeSession) -> Response:
    visitor, new = console.renderer.visitor(session)
    return console.renderer.page(
        request,
        "login.html",
        session=visitor,
        set_session=new,
        next=safe_next(request.query_params.get("next", "/admin")),
    )


@router.post("/login")
async def login(request: Request, console: ConsoleDep, form: Form) -> Response:
    address = _client(request)
    # The session the form's CSRF check passed with (it may expire just after).
    session, _new = console.renderer.visitor(console.renderer.session_of(request))
    _ = console.renderer.gettext(request)
    if console.failed_logins.locked_out(address):
        problem = _("Too many failed logins: wait a quarter of an hour and try again.")
        return _login_again(request, console, session, form, status_code=429, problem=problem)
    expected = console.settings.admin_token
    given = form.get("token", "")[:256]
    if expected is not None and hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.get_secret_value().encode()
    ):
        return _logged_in(request, console, form.get("next", "/admin"))
    await console.failed_logins.failed(address)
    problem = _("Wrong admin token.")
    return _login_again(request, console, session, form, status_code=401, problem=problem)


@router.get("/link/{link}")
async def link_page(
    link: str, request: Request, console: ConsoleDep, session: MaybeSession
) -> Response:
    """A page with one button: a link preview fetching the URL must not use the link up."""
    visitor, new = console.renderer.visitor(session)
    return console.renderer.page(
        request, "login_link.html", session=visitor, set_session=new, link=link[:128]
    )


@router.post("/link")
async def use_link(request: Request, console: ConsoleDep, form: Form) -> Response:
    address = _client(request)
    session, _new = console.renderer.visitor(console.renderer.session_of(request))
    _ = console.renderer.gettext(request)
    if not console.failed_logins.locked_out(address):
        async with console.database.write() as db:
            valid = await redeem_login_link(db, token=form.get("link", ""))
        if valid:
            return _logged_in(request, console, "/admin")
        await console.failed_logins.failed(address)
    return console.renderer.message(
        request,
        session=session,
        status_code=410,
        heading=_("This login link cannot be used"),
        message=_(
            "It was used already, is older than 10 minutes, or is not a link of this "
            "console. Send /admin to the bot for a new one, or log in with the admin token."
        ),
        back="/admin/login",
    )


@router.post("/logout")
async def logout(request: Request, console: ConsoleDep, _form: Form) -> Response:
    response = console.renderer.redirect(request, "/admin/login")
    response.delete_cookie(COOKIE, path="/admin")
    return response


@router.get("/lang")
async def choose_language(request: Request, console: ConsoleDep) -> Response:
    chosen = request.query_params.get("to", "")
    response = console.renderer.redirect(
        request, safe_next(request.query_params.get("next", "/admin"))
    )
    if chosen in LANGUAGES:
        console.renderer.set_cookie(response, request, LANGUAGE_COOKIE, chosen, max_age=365 * 86400)
    return response
