"""`POST /flexbe/{site_token}`: where Flexbe sends `lead` and `pay` events.

The route is declared here for OpenAPI; `webhooks.fast_path` calls the endpoint ahead of
FastAPI's routing, which is why it takes the request and the token and nothing else."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from storage.batch_writer import WriterUnavailable
from storage.models import InboxOutcome
from webhooks.body import read_limited_body
from webhooks.intake import Intake, RejectedEvent
from webhooks.schemas import INVALID_LENGTH, TOO_LARGE, problems
from webhooks.sites import SiteRegistry

log = logging.getLogger(__name__)


INTAKE_PREFIX = "/flexbe/"

router = APIRouter(tags=["flexbe"])


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
    INTAKE_PREFIX + "{site_token}",
    summary="Receive a Flexbe webhook event",
    response_model=EventAccepted,
    responses=problems(
        {
            400: INVALID_LENGTH,
            404: "No site has this token; nothing is stored.",
            413: TOO_LARGE,
            422: "Malformed event, stored raw as rejected.",
            503: "Storage unavailable; nothing was stored.",
        }
    ),
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
    return JSONResponse(
        {"status": result.outcome.value, "event_id": result.event_id, "lead_id": result.lead_id}
    )
