"""The admin read API: leads with their history, and the inbox of received events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status

from storage.models import InboxOutcome, LeadOrigin
from storage.queries import browse
from webhooks.deps import AdminDep, DatabaseDep
from webhooks.schemas import (
    InboxEventPublic,
    InboxPage,
    LeadDetail,
    LeadPage,
    LeadPublic,
    PaymentPublic,
    decode_cursor,
    encode_cursor,
    problems,
)

router = APIRouter(
    prefix="/api",
    tags=["admin"],
    dependencies=[AdminDep],
    responses=problems(
        {
            400: "A parameter has the right type but no meaning.",
            401: "Missing or wrong bearer token.",
            403: "The admin API is off (no LEADRELAY_ADMIN_TOKEN).",
        }
    ),
)

MAX_ID = 2**63 - 1  # the database's integer range
Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Cursor = Annotated[str | None, Query(max_length=64, description="`next_cursor` of the last page.")]


@router.get("/leads", response_model=LeadPage, summary="List leads, newest first")
async def list_leads(
    database: DatabaseDep,
    since: Annotated[datetime | None, Query(description="Created at or after (ISO 8601).")] = None,
    until: Annotated[datetime | None, Query(description="Created before (ISO 8601).")] = None,
    status_code: Annotated[
        int | None, Query(alias="status", ge=0, le=99, description="Flexbe status code.")
    ] = None,
    site: Annotated[str | None, Query(max_length=32, description="Site key.")] = None,
    origin: Annotated[LeadOrigin | None, Query(description="How the lead arrived.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> LeadPage:
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, f"{name} needs a time zone, e.g. 2026-01-31T00:00:00Z"
            )
    async with database.read() as session:
        rows = await browse.list_leads(
            session,
            limit=limit,
            before_id=decode_cursor(cursor),
            since=since,
            until=until,
            status=status_code,
            site_key=site,
            origin=origin.value if origin else None,
        )
    items = [LeadPublic.model_validate(row, from_attributes=True) for row in rows]
    next_cursor = encode_cursor(items[-1].id) if len(items) == limit else None
    return LeadPage(items=items, next_cursor=next_cursor)


@router.get(
    "/leads/{lead_id}",
    response_model=LeadDetail,
    summary="One lead with its payment history and every event received for it",
    responses=problems({404: "No such lead."}),
)
async def get_lead(
    lead_id: Annotated[int, Path(ge=1, le=MAX_ID, description="The lead's id.")],
    database: DatabaseDep,
) -> LeadDetail:
    async with database.read() as session:
        lead = await browse.get_lead_by_id(session, lead_id)
        if lead is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such lead")
        payments = await browse.payments_of(session, lead_id)
        events = await browse.inbox_of(session, lead_id)
    return LeadDetail(
        **LeadPublic.model_validate(lead, from_attributes=True).model_dump(),
        payments=[PaymentPublic.model_validate(p, from_attributes=True) for p in payments],
        events=[InboxEventPublic.of(e) for e in events],
    )


@router.get("/inbox", response_model=InboxPage, summary="Received events, newest first")
async def list_inbox(
    database: DatabaseDep,
    outcome: Annotated[InboxOutcome | None, Query(description="Only this outcome.")] = None,
    site: Annotated[str | None, Query(max_length=32, description="Site key.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> InboxPage:
    async with database.read() as session:
        rows = await browse.list_inbox(
            session,
            limit=limit,
            before_id=decode_cursor(cursor),
            outcome=outcome.value if outcome else None,
            site_key=site,
        )
    items = [InboxEventPublic.of(row) for row in rows]
    next_cursor = encode_cursor(items[-1].id) if len(items) == limit else None
    return InboxPage(items=items, next_cursor=next_cursor)
