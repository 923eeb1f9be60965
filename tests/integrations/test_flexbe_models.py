"""Flexbe's models read blank text and empty groups as missing, whatever the whitespace."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from integrations.flexbe_models import Client, LeadData

WHITESPACE = " \t\n\r\x0b\x0c\u00a0\u2003\u3000"


@given(st.text(st.characters(), max_size=12) | st.text(st.sampled_from(WHITESPACE), max_size=6))
def test_text_is_missing_exactly_when_it_is_blank(text: str) -> None:
    client = Client.model_validate({"name": text})

    assert client.name == (None if not text.strip() else text)


def test_empty_groups_are_missing_and_filled_ones_kept() -> None:
    lead = LeadData.model_validate(
        {"id": "7", "client": "", "page": [], "utm": {}, "status": {"code": "0", "name": " "}}
    )

    assert (lead.client, lead.page, lead.utm) == (None, None, None)
    assert lead.status is not None
    assert (lead.status.code, lead.status.name) == (0, None)
