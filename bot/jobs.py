"""The jobs the bot writes: card reposts, and one job per external action (their kinds are
`actions.kinds`; the refresh of a lead's cards is `storage.queries.cards.refresh_cards`,
as actions write it too).

Dedupe keys make taps idempotent: two taps on one button, or two managers tapping,
find the job already there and nothing more happens.
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Job
from storage.queries.cards import NOTIFY_JOB
from storage.queries.jobs import enqueue


async def repost_card(session: AsyncSession, *, lead_id: int, chat_id: int, request: str) -> None:
    """Post the card again as a new message (the old one may be far up the chat)."""
    await enqueue(
        session,
        kind=NOTIFY_JOB,
        payload={"lead_id": lead_id, "chat_id": chat_id, "reason": "repost"},
        dedupe_key=f"notify:{lead_id}:{chat_id}:r{request}"[:255],
        queue=f"tg:{chat_id}",
    )


async def action_job(
    session: AsyncSession, *, kind: str, dedupe_key: str, payload: dict[str, Any]
) -> tuple[Job, bool]:
    return await enqueue(session, kind=kind, payload=payload, dedupe_key=dedupe_key, max_attempts=6)
