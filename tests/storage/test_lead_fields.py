"""The lead's fields are declared once, on `LeadBase`/`Lead`: the snapshot intake writes and
the API's view are held to them (the snapshot stays a plain dataclass for intake's speed)."""

from __future__ import annotations

import dataclasses
import typing

from storage.models import Lead, LeadBase
from storage.queries.leads import LeadSnapshot
from webhooks.schemas import LeadPublic

# The service's own fields: the row's key and site, how it came, who took it, its lock and
# timestamps, its speed-to-lead moments, lost reason and open offer. Everything else is what
# Flexbe says a lead is, and intake writes all of it.
SERVICE_FIELDS = {
    "id",
    "site_key",
    "origin",
    "taken_by",
    "taken_by_name",
    "taken_at",
    "version",
    "received_at",
    "updated_at",
    "first_seen_at",
    "first_owned_at",
    "first_action_at",
    "first_call_at",
    "lost_reason",
    "offer_to",
    "offer_to_name",
    "offer_step",
    "offer_from",
    "offer_until",
    "offer_window",
}


def test_the_snapshot_has_every_field_flexbe_describes_with_the_tables_types() -> None:
    snapshot_types = typing.get_type_hints(LeadSnapshot)
    table_types = {
        name: field.annotation
        for name, field in Lead.model_fields.items()
        if name not in SERVICE_FIELDS
    }

    assert snapshot_types == table_types


def test_a_new_snapshot_starts_from_the_tables_defaults() -> None:
    snapshot = LeadSnapshot(flexbe_id=1)

    for field in dataclasses.fields(LeadSnapshot):
        if field.name == "flexbe_id":
            continue
        table_default = Lead.model_fields[field.name].get_default(call_default_factory=True)
        assert getattr(snapshot, field.name) == table_default, field.name


def test_the_api_shows_the_base_and_only_the_computed_amount_besides() -> None:
    shown = set(LeadPublic.model_json_schema(mode="serialization")["properties"])

    assert shown == set(LeadBase.model_fields) | {"pay_amount"}
    assert not shown & {"client_phone_normalized", "client_email_normalized", "version"}
