"""One-time login links into the admin console: made by the bot (or at first run), used once.

Only the SHA-256 of a link's token is stored, so a copy of the database lets nobody in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.clock import utcnow
from storage.models import ConsoleLogin

LOGIN_LINK_LIFETIME = timedelta(minutes=10)
# Used or expired links are kept this long (to tell "used" from "unknown"), then deleted.
_KEEP_SPENT = timedelta(days=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


async def create_login_link(session: AsyncSession, *, created_by: int | None) -> str:
    """A new link's token (shown once, never stored as is)."""
    now = utcnow()
    await session.exec(delete(ConsoleLogin).where(col(ConsoleLogin.expires_at) < now - _KEEP_SPENT))
    token = secrets.token_urlsafe(32)
    session.add(
        ConsoleLogin(
            token_hash=hash_token(token),
            created_by=created_by,
            created_at=now,
            expires_at=now + LOGIN_LINK_LIFETIME,
        )
    )
    await session.flush()
    return token


async def redeem_login_link(session: AsyncSession, *, token: str) -> bool:
    """Mark the link used if it is valid: True once, then False (used, expired or unknown)."""
    if not token or len(token) > 128:
        return False
    now = utcnow()
    claimed = await session.exec(
        update(ConsoleLogin)
        .where(
            col(ConsoleLogin.token_hash) == hash_token(token),
            col(ConsoleLogin.used_at).is_(None),
            col(ConsoleLogin.expires_at) > now,
        )
        .values(used_at=now)
    )
    return claimed.rowcount == 1
