"""The jobs the bot writes: card reposts, and one job per external action (their kinds are
in `domain.jobs`; the refresh of a lead's cards is `storage.queries.cards.refresh_cards`,
as actions write it too).

Dedupe keys make taps idempotent: two taps on one button, or two managers tapping,
find the job already there and nothing more happens.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.jobs import NOTIFY, ActionPayload, CardPayload, JobKind, repost_card_key
from storage.models import Job
from storage.queries.jobs import enqueue_job


async def repost_card(session: AsyncSession, *, lead_id: int, chat_id: int, request: str) -> None:
    """Post the card again as a new message (the old one may be far up the chat)."""
    card = CardPayload(lead_id=lead_id, chat_id=chat_id, reason="repost")
    await enqueue_job(
        session,
        NOTIFY,
        card,
        dedupe_key=repost_card_key(lead_id, chat_id, request),
    )


async def action_job(
    session: AsyncSession, *, kind: JobKind[ActionPayload], dedupe_key: str, payload: ActionPayload
) -> tuple[Job, bool]:
    return await enqueue_job(session, kind, payload, dedupe_key=dedupe_key, max_attempts=6)
