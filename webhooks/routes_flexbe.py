"""`POST /flexbe/{site_token}`: where Flexbe sends `lead` and `pay` events."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import Receive, Scope, Send

from storage.batch_writer import WriterUnavailable
from storage.models import InboxOutcome
from webhooks.body import read_limited_body
from webhooks.intake import Intake, RejectedEvent
from webhooks.schemas import Problem
from webhooks.sites import SiteRegistry

log = logging.getLogger(__name__)


class LeanRoute(APIRoute):
    """Calls the endpoint with the request and the path parameters, as strings: no
    dependency solving, no response-model pass. On the busiest route they cost more than
    the work; the endpoint reaches its services through `request.app.state`.
    OpenAPI is still made from the signature and the route's declarations."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint: Callable[..., Coroutine[Any, Any, Response]] = self.endpoint

        async def handle(request: Request) -> Response:
            return await endpoint(request, **request.path_params)

        return handle


router = APIRouter(tags=["flexbe"], route_class=LeanRoute)


class EventAccepted(BaseModel):
    status: InboxOutcome
    event_id: int
    lead_id: int | None = None


_FORM_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A Flexbe event: PHP-style form fields (`event`, `site[...]`, "
        "`data[...]`) or the same structure as JSON. At most 1 MiB.",
        "content": {
            "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


@router.post(
    "/flexbe/{site_token}",
    summary="Receive a Flexbe webhook event",
    response_model=EventAccepted,
    responses={
        400: {"model": Problem, "description": "Invalid Content-Length header."},
        404: {"model": Problem, "description": "No site has this token; nothing is stored."},
        413: {"model": Problem, "description": "Body larger than 1 MiB."},
        422: {"model": Problem, "description": "Malformed event, stored raw as rejected."},
        503: {"model": Problem, "description": "Storage unavailable; nothing was stored."},
    },
    openapi_extra=_FORM_BODY,
)
async def receive_flexbe_event(request: Request, site_token: str) -> Response:
    sites: SiteRegistry = request.app.state.sites
    intake: Intake = request.app.state.intake
    site = sites.match(site_token)
    if site is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown site")
    body = await read_limited_body(request)
    try:
        result = await intake.receive(site, body, request.headers.get("content-type", ""))
    except RejectedEvent as exc:
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content={"detail": exc.message, "event_id": exc.event_id},
        )
    except (SQLAlchemyError, OSError, WriterUnavailable) as exc:
        # Never a 200 for what was not stored: Flexbe (or an admin) must send it again.
        log.error("storage unavailable, event for site %s not stored: %s", site.key, type(exc))
        return JSONResponse(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            content={"detail": "storage is unavailable; the event was not stored, retry later"},
            headers={"Retry-After": "5"},
        )
    # A plain response: the hot path skips response-model validation of what we just built.
    return JSONResponse(
        {"status": result.outcome.value, "event_id": result.event_id, "lead_id": result.lead_id}
    )


INTAKE_PREFIX = "/flexbe/"


async def serve_intake(scope: Scope, receive: Receive, send: Send) -> bool:
    """Answer `POST /flexbe/{site_token}` straight from the endpoint, ahead of FastAPI's
    middleware stack, exception layers and routing over every route (`webhooks.app`): on
    the busiest route they cost more than the route does. False: not such a request, and
    nothing was done. Errors come out as FastAPI's would: an `HTTPException` as its JSON
    answer, anything else as a plain 500 and raised on to the server, which logs it."""
    site_token = _intake_token(scope)
    if site_token is None:
        return False
    request = Request(scope, receive)
    try:
        response = await receive_flexbe_event(request, site_token)
    except HTTPException as exc:
        response = JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )
    except Exception:
        await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send)
        raise
    await response(scope, receive, send)
    return True


def _intake_token(scope: Scope) -> str | None:
    """The site token of an intake request, matched as the route `/flexbe/{site_token}` is."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    if not path.startswith(INTAKE_PREFIX):
        return None
    token = path[len(INTAKE_PREFIX) :]
    return token if token and "/" not in token else None
