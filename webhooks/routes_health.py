"""`GET /healthz`: is the database reachable and its schema current?"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response, status
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from storage.migrate import current_revision, head_revision
from webhooks.deps import DatabaseDep

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str
    migrations: str


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
async def healthz(database: DatabaseDep, response: Response) -> Health:
    try:
        revision = await current_revision(database)
    except (SQLAlchemyError, OSError) as exc:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
        return Health(status="error", database=f"unreachable: {reason}", migrations="unknown")
    head = head_revision()
    if revision != head:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(
            status="error",
            database="ok",
            migrations=f"at {revision or 'none'}, expected {head}: run `leadrelay migrate`",
        )
    return Health(status="ok", database="ok", migrations="current")
