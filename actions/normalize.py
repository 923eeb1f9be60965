"""From a Flexbe event to the columns of a stored lead."""

from __future__ import annotations

from typing import Any

from config.regions import DEFAULT_REGION
from domain.statuses import LEAD_STATUS_NAMES, PAY_STATUS_NAMES, LeadStatus
from integrations.emails import normalize_email
from integrations.flexbe_models import FlexbeModel, LeadData, SiteInfo, Status
from integrations.phones import normalize_phone
from storage.queries.leads import LeadSnapshot


def _dump(model: FlexbeModel | None) -> dict[str, Any]:
    if model is None:
        return {}
    # `model_dump`'s own serializer, without the wrapper's cost: four times a webhook.
    dumped: dict[str, Any] = model.__pydantic_serializer__.to_python(
        model, mode="json", exclude_none=True
    )
    return dumped


def _status_name(status: Status, names: dict[int, str]) -> str | None:
    """The name Flexbe gave, or, for a status sent as its code alone, Flexbe's own name."""
    if status.name is not None or status.code is None:
        return status.name
    return names.get(status.code)


def snapshot_from_lead(
    data: LeadData, site: SiteInfo | None = None, *, region: str = DEFAULT_REGION
) -> LeadSnapshot:
    """`site`: the webhook's `site` block (getLeads answers carry none); `region`: the
    site's, in which a national phone number is read."""
    client, status, page, pay = data.client, data.status, data.page, data.pay
    pay_status = pay.status if pay else None
    return LeadSnapshot(
        flexbe_id=data.id,
        num=data.num,
        created_at=data.time,
        status_code=status.code if status and status.code is not None else LeadStatus.NEW,
        status_name=(_status_name(status, LEAD_STATUS_NAMES) or "") if status else "",
        client_name=(client.name or "") if client else "",
        client_phone=(client.phone or "") if client else "",
        client_phone_normalized=normalize_phone(client.phone or "", region) if client else "",
        client_email=(client.email or "") if client else "",
        client_email_normalized=normalize_email(client.email or "") if client else "",
        note=data.note or "",
        form_name=data.form_name or "",
        form_data={key: _dump(field) for key, field in (data.form_data or {}).items()},
        page_url=(page.url or "") if page else "",
        page_name=(page.name or "") if page else "",
        utm=_dump(data.utm),
        pay_id=pay.id if pay else None,
        pay_summ=pay.summ if pay else None,
        pay_status_code=pay_status.code if pay_status else None,
        pay_status_name=_status_name(pay_status, PAY_STATUS_NAMES) if pay_status else None,
        pay_desc=pay.desc if pay else None,
        pay_link=pay.pay_link if pay else None,
        pay_test=pay.test if pay else None,
        pay_time_create=pay.time_create if pay else None,
        pay_time_done=pay.time_done if pay else None,
        flexbe_site_id=site.id if site else None,
        site_domain=site.domain if site else None,
        site_name=site.name if site else None,
    )
