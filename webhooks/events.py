"""The webhook events Flexbe sends: `lead` and `pay` carry a lead as `getLeads` returns it."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from integrations.flexbe_models import FlexbeModel, Group, LeadData, SiteInfo

KNOWN_EVENTS = frozenset({"lead", "pay"})
EVENT_NAME_MAX = 64


class FlexbeEvent(FlexbeModel):
    """A `lead` or `pay` event: both carry the lead's data, `pay` with the payment updated."""

    event: str
    site: Annotated[SiteInfo | None, Group] = None
    data: LeadData


class AnyEvent(FlexbeModel):
    """Just enough to route an event: its name."""

    event: str = Field(min_length=1, max_length=EVENT_NAME_MAX)
