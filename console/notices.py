"""Pages that act say what was done: a change answers with a redirect back to its page
(`back`), which shows the notice once (`page`), carried by a short-lived cookie."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from console.access import Console
from console.security import Session

NOTICE_COOKIE = "leadrelay_console_notice"
MAX_NOTICE_CHARACTERS = 300


def back(request: Request, console: Console, target: str, notice: str) -> Response:
    """After a change: back to the page, which says what was done (once, by a cookie)."""
    response = console.renderer.redirect(request, target)
    hexed = notice[:MAX_NOTICE_CHARACTERS].encode("utf-8").hex()
    console.renderer.set_cookie(response, request, NOTICE_COOKIE, hexed, max_age=60)
    return response


def notice_of(request: Request) -> str:
    try:
        return bytes.fromhex(request.cookies.get(NOTICE_COOKIE, "")[:2400]).decode()
    except (ValueError, UnicodeDecodeError):
        return ""


def page(
    request: Request, console: Console, template: str, *, session: Session, **context: Any
) -> Response:
    """A page that says what the last change did (`back`'s notice), once; a `notice` in
    `context` (a page answered to a form at once) wins."""
    context.setdefault("notice", notice_of(request))
    response = console.renderer.page(request, template, session=session, **context)
    if NOTICE_COOKIE in request.cookies:
        response.delete_cookie(NOTICE_COOKIE, path="/admin")
    return response
