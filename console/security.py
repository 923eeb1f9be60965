"""Who may see the console: signed session cookies, CSRF tokens, and slowed failed logins.

The session lives in the cookie, signed with a key derived from the admin token, so a new
admin token ends every session. A visitor gets an anonymous session at once (its id keys
the CSRF token of the login forms); logging in replaces it with a new one, so an id seen
before the login is worth nothing after it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

COOKIE = "leadrelay_console"
SESSION_SECONDS = 12 * 3600
ANONYMOUS_SECONDS = 3600
# Failed logins from one address: each waits longer, and past the limit none is checked.
FAILURE_WINDOW_SECONDS = 15 * 60
FAILURE_LIMIT = 10
MAX_DELAY_SECONDS = 4.0
_TRACKED_ADDRESSES = 10_000

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True, slots=True)
class Session:
    sid: str
    authenticated: bool
    expires: int


class SessionSigner:
    def __init__(self, admin_token: str) -> None:
        self._key = hashlib.sha256(b"leadrelay-console\0" + admin_token.encode()).digest()

    def _sign(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def new(self, *, authenticated: bool, now: float) -> Session:
        lifetime = SESSION_SECONDS if authenticated else ANONYMOUS_SECONDS
        return Session(secrets.token_urlsafe(18), authenticated, int(now) + lifetime)

    def dump(self, session: Session) -> str:
        text = f"{session.sid}.{int(session.authenticated)}.{session.expires}"
        return f"{text}.{self._sign(text)}"

    def load(self, cookie: str | None, *, now: float) -> Session | None:
        """The session the cookie holds, or None if it is missing, forged or expired."""
        if not cookie or len(cookie) > 200:
            return None
        text, _, signature = cookie.rpartition(".")
        if not hmac.compare_digest(signature.encode(), self._sign(text).encode()):
            return None
        sid, auth, expires = (text.split(".") + ["", "", ""])[:3]
        if auth not in {"0", "1"} or not expires.isdigit() or int(expires) <= now:
            return None
        return Session(sid, auth == "1", int(expires))

    def csrf_token(self, session: Session) -> str:
        return self._sign(f"csrf:{session.sid}")

    def check_csrf(self, session: Session, token: str) -> bool:
        return hmac.compare_digest(token.encode(), self.csrf_token(session).encode())


class FailedLogins:
    """Failed logins per client address: each one waits longer before it is answered,
    and past `FAILURE_LIMIT` in the window the address is refused unchecked."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock, self._sleep = clock, sleep
        self._failures: dict[str, tuple[int, float]] = {}

    def _count(self, address: str) -> int:
        count, first = self._failures.get(address, (0, 0.0))
        if self._clock() - first > FAILURE_WINDOW_SECONDS:
            self._failures.pop(address, None)
            return 0
        return count

    def locked_out(self, address: str) -> bool:
        return self._count(address) >= FAILURE_LIMIT

    async def failed(self, address: str) -> None:
        count = self._count(address)
        if count == 0 and len(self._failures) >= _TRACKED_ADDRESSES:
            self._failures.clear()  # bounded memory; the lock-outs start over
        first = self._failures.get(address, (0, self._clock()))[1]
        self._failures[address] = (count + 1, first)
        await self._sleep(min(MAX_DELAY_SECONDS, 0.25 * 2**count))

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)
