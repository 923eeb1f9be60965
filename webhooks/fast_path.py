"""The intake fast path: `POST /flexbe/{site_token}` answered ahead of FastAPI's machinery.

It is the busiest route by far, and FastAPI's per-request work costs more than the route
does (storing goes through the group-commit writer, `webhooks.intake`). So `IntakeFirstApp`
serves it itself, skipping:

- the middleware stack, the exception layers and routing over every route: `serve_intake`
  runs before them, matching the path as the route `/flexbe/{site_token}` would;
- dependency solving and the response-model pass: the endpoint is called with the request
  and the token, reaches its services through `request.app.state` and answers with a plain
  `JSONResponse`;
- FastAPI's OpenTelemetry look-ups on every request: turned off (leadrelay sets up no
  providers and serves its own /metrics).

Nothing else changes: the route is still declared in `webhooks.routes_flexbe`, so OpenAPI
documents it, and errors come out as FastAPI's would (an `HTTPException` as its JSON
answer, anything else as a plain 500 and raised on to the server, which logs it).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.types import Receive, Scope, Send

from webhooks.routes_flexbe import INTAKE_PREFIX, receive_flexbe_event


class IntakeFirstApp(FastAPI):
    """FastAPI, with the webhook intake answered before everything else it does."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(telemetry={"tracing": False, "metrics": False, "logs": False}, **kwargs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["app"] = self
            if await serve_intake(scope, receive, send):
                return
        await super().__call__(scope, receive, send)


async def serve_intake(scope: Scope, receive: Receive, send: Send) -> bool:
    """Answer an intake request straight from the endpoint. False: not such a request,
    and nothing was done."""
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
