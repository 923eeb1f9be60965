"""Mounting the console on the app: off (every `/admin` path a 404) without an admin token."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles

from config.settings import Settings
from console import routes_auth, routes_ops, routes_sites, routes_team, routes_view
from console.access import Console, FormRefused, LoginRequired
from console.render import STATIC, Renderer
from console.reprocessing import Reprocess
from console.security import FailedLogins, SessionSigner
from storage.database import Database

PREFIX = "/admin"


def install_console(
    app: FastAPI,
    *,
    settings: Settings,
    database: Database,
    reprocess: Reprocess,
) -> None:
    if settings.admin_token is None:
        return
    public_url = str(settings.public_url or "")
    renderer = Renderer(
        signer=SessionSigner(settings.admin_token.get_secret_value()),
        timezone=settings.timezone,
        default_language=settings.telegram_language,
        secure_cookies=public_url.startswith("https://"),
    )
    console = Console(
        settings=settings,
        database=database,
        renderer=renderer,
        failed_logins=FailedLogins(),
        reprocess=reprocess,
    )
    app.state.console = console
    app.include_router(routes_auth.router)
    app.include_router(routes_view.router)
    app.include_router(routes_ops.router)
    app.include_router(routes_sites.router)
    app.include_router(routes_team.router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-static")

    async def to_login(request: Request, _exc: Exception) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return renderer.redirect(request, f"{PREFIX}/login?next={quote(target, safe='')}")

    async def form_refused(request: Request, _exc: Exception) -> Response:
        _ = renderer.gettext(request)
        visitor, new = renderer.visitor(renderer.session_of(request))
        return renderer.message(
            request,
            session=visitor,
            status_code=403,
            set_session=new,
            heading=_("This form has expired"),
            message=_(
                "The form did not come from this page or your session has changed. Go back, "
                "reload the page and try again."
            ),
            back=PREFIX if visitor.authenticated else f"{PREFIX}/login",
        )

    async def bad_address(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not request.url.path.startswith(PREFIX + "/"):
            return await request_validation_exception_handler(request, exc)
        _ = renderer.gettext(request)
        session = renderer.session_of(request)
        if session is None or not session.authenticated:
            return await to_login(request, exc)
        where = ", ".join(str(error["loc"][-1]) for error in exc.errors())
        return renderer.message(
            request,
            session=session,
            status_code=400,
            heading=_("Something in the address is wrong"),
            message=_("Check the link: {problem}").format(problem=where[:200]),
            back=PREFIX,
        )

    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(FormRefused, form_refused)
    app.add_exception_handler(RequestValidationError, bad_address)
