"""`POST /telegram/{path_secret}`: Telegram updates in webhook mode.

The update is committed (with the job that handles it) before the `200`; Telegram
redelivers anything not answered 2xx, and a redelivered `update_id` is stored once.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from config.telegram_webhook import TelegramWebhookSecrets
from storage.queries.updates import store_update
from storage.ranges import is_unstorable_value
from webhooks.body import read_limited_body
from webhooks.deps import DatabaseDep
from webhooks.forms import FormError
from webhooks.schemas import INVALID_LENGTH, TOO_LARGE, problems
from webhooks.telegram_update import parse_update

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
        **problems(
            {
                400: INVALID_LENGTH,
                403: "Wrong X-Telegram-Bot-Api-Secret-Token.",
                404: "Webhook mode is off, or the path is wrong.",
                413: TOO_LARGE,
                422: "Not a Telegram update we can store.",
            }
        ),
        503: {"model": TelegramAnswer, "description": "Storage unavailable; sent again later."},
    },
)
async def receive_update(
    path_secret: str,
    request: Request,
    database: DatabaseDep,
    secret_token: Annotated[str | None, Header(alias="X-Telegram-Bot-Api-Secret-Token")] = None,
) -> JSONResponse:
    expected: TelegramWebhookSecrets | None = request.app.state.telegram_webhook()
    if expected is None or not _same(path_secret, expected.path):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    if secret_token is None or not _same(secret_token, expected.header):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "wrong secret token")
    body = await read_limited_body(request)
    try:
        update_id, update = parse_update(body)
    except FormError as exc:
        # A 4xx, not a 200: Telegram shows it in getWebhookInfo's last_error_message, where
        # an admin sees it, and gives up on the update after a few tries.
        log.warning("refused a Telegram update: %s", exc)
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"not a Telegram update: {exc}"
        ) from None
    try:
        async with database.write() as session:
            stored = await store_update(session, update_id=update_id, payload=update)
    except Exception as exc:
        if is_unstorable_value(exc):  # the backstop behind `parse_update`'s checks
            log.warning("refused a Telegram update: a value the database cannot store")
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "not a Telegram update we can store"
            ) from None
        if not isinstance(exc, SQLAlchemyError | OSError):
            raise
        log.error("storage unavailable, Telegram update %s not stored: %s", update_id, type(exc))
        return JSONResponse({"ok": False}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
    if stored and request.app.state.on_jobs_enqueued is not None:
        request.app.state.on_jobs_enqueued()
    return JSONResponse({"ok": True, "duplicate": not stored})
