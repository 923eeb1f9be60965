"""`POST /telegram/{path_secret}`: Telegram updates in webhook mode.

The update is committed (with the job that handles it) before the `200`; Telegram
redelivers anything not answered 2xx, and a redelivered `update_id` is stored once.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from leadrelay.telegram_webhook import TelegramWebhookSecrets
from storage.queries.updates import store_update
from webhooks.body import read_limited_body
from webhooks.deps import DatabaseDep
from webhooks.schemas import Problem

log = logging.getLogger(__name__)
router = APIRouter(tags=["telegram"])


class TelegramAnswer(BaseModel):
    ok: bool
    duplicate: bool | None = None


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())


@router.post(
    "/telegram/{path_secret}",
    summary="Receive a Telegram update (webhook mode)",
    response_model=TelegramAnswer,
    responses={
        400: {"model": Problem, "description": "Invalid Content-Length header."},
        403: {"model": Problem, "description": "Wrong X-Telegram-Bot-Api-Secret-Token."},
        404: {"model": Problem, "description": "Webhook mode is off, or the path is wrong."},
        413: {"model": Problem, "description": "Body larger than 1 MiB."},
        422: {"model": Problem, "description": "Not a Telegram update."},
        503: {"model": TelegramAnswer, "description": "Storage unavailable; sent again later."},
    },
)
async def receive_update(
    path_secret: str,
    request: Request,
    database: DatabaseDep,
    secret_token: Annotated[str | None, Header(alias="X-Telegram-Bot-Api-Secret-Token")] = None,
) -> JSONResponse:
    expected: TelegramWebhookSecrets | None = request.app.state.telegram_webhook
    if expected is None or not _same(path_secret, expected.path):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    if secret_token is None or not _same(secret_token, expected.header):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "wrong secret token")
    body = await read_limited_body(request)
    try:
        update = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        update = None
    update_id = update.get("update_id") if isinstance(update, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool) or update_id < 0:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "not a Telegram update")
    try:
        async with database.write() as session:
            stored = await store_update(session, update_id=update_id, payload=update)
    except (SQLAlchemyError, OSError) as exc:
        log.error("storage unavailable, Telegram update %s not stored: %s", update_id, type(exc))
        return JSONResponse({"ok": False}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
    if stored and request.app.state.on_jobs_enqueued is not None:
        request.app.state.on_jobs_enqueued()
    return JSONResponse({"ok": True, "duplicate": not stored})
