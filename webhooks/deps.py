"""FastAPI dependencies: the services a route needs, reached by name from app state.

All are `async def`: FastAPI runs a plain `def` dependency in a thread, a costly hop per request.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from storage.database import Database

_bearer = HTTPBearer(auto_error=False, description="LEADRELAY_ADMIN_TOKEN")


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    expected: str | None = request.app.state.admin_token
    if expected is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "the admin API is off: set LEADRELAY_ADMIN_TOKEN to enable it",
        )
    _check_bearer(credentials, expected)


_metrics_bearer = HTTPBearer(auto_error=False, description="LEADRELAY_METRICS_TOKEN")


async def require_metrics_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_metrics_bearer)],
) -> None:
    """Open while LEADRELAY_METRICS_TOKEN is unset (as before it existed); else its bearer."""
    expected: str | None = request.app.state.metrics_token
    if expected is None:
        return
    _check_bearer(credentials, expected)


def _check_bearer(credentials: HTTPAuthorizationCredentials | None, expected: str) -> None:
    """401 unless the bearer token is `expected` (compared in constant time)."""
    given = credentials.credentials if credentials else ""
    if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or wrong bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )


DatabaseDep = Annotated[Database, Depends(get_database)]
AdminDep = Depends(require_admin)
MetricsAuthDep = Depends(require_metrics_token)
