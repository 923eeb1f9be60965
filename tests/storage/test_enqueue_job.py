"""A catalogue job is stored with its kind's name, its payload's JSON and, for a chat's
messages, the chat's queue; a second enqueue of the same key adds nothing."""

from __future__ import annotations

from datetime import timedelta

from domain.jobs import (
    NOTIFY,
    RECONCILE,
    CardPayload,
    ReconcilePayload,
    new_card_key,
    reconcile_key,
)
from storage.clock import utcnow
from storage.database import Database
from storage.queries.jobs import enqueue_job


async def test_a_catalogue_job_is_stored_as_its_kind_says(database: Database) -> None:
    card = CardPayload(lead_id=7, chat_id=-100500, reason="new")
    reconcile = ReconcilePayload(site="okna")
    async with database.write() as session:
        card_job, created = await enqueue_job(
            session, NOTIFY, card, dedupe_key=new_card_key(7, -100500)
        )
        assert created
        again, created_again = await enqueue_job(
            session, NOTIFY, card, dedupe_key=new_card_key(7, -100500)
        )
        assert not created_again and again.id == card_job.id
        reconcile_job, _ = await enqueue_job(
            session,
            RECONCILE,
            reconcile,
            dedupe_key=reconcile_key("okna", utcnow(), timedelta(minutes=5)),
            max_attempts=3,
        )

    assert (card_job.kind, card_job.queue, card_job.dedupe_key) == (
        "notify",
        "tg:-100500",
        "notify:7:-100500",
    )
    assert NOTIFY.parse(card_job.payload) == card
    assert (reconcile_job.kind, reconcile_job.queue, reconcile_job.max_attempts) == (
        "flexbe.reconcile",
        None,
        3,
    )
    assert RECONCILE.parse(reconcile_job.payload) == reconcile
