"""Flexbe's models read blank text and empty groups as missing, whatever the whitespace,
and each of Flexbe's shapes of a status and of `form_data` the same way."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from integrations.flexbe_models import Client, LeadData, describe_errors

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


def test_a_status_may_be_its_code_alone() -> None:
    for shape in (2, "2", 2.0, {"code": "2", "name": "Выполнен"}, {"code": 2}):
        lead = LeadData.model_validate({"id": 1, "status": shape, "pay": {"status": shape}})

        assert lead.status is not None and lead.status.code == 2
        assert lead.pay is not None and lead.pay.status is not None and lead.pay.status.code == 2


def test_a_status_that_is_no_code_names_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        LeadData.model_validate({"id": 1, "status": "new"})

    assert describe_errors(caught.value).startswith("status.code: ")


def test_flat_form_data_is_read_as_fields_by_name() -> None:
    lead = LeadData.model_validate(
        {
            "id": 1,
            "form_data": {
                "Имя": "Иван",
                "Площадь": 42,
                "Окна": {"0": "ПВХ", "1": "дерево"},  # a PHP list, as a form body sends one
                "Пусто": "",
                "f1": {"id": "f1", "name": "Комментарий", "value": "ок"},
            },
        }
    )

    assert lead.form_data is not None
    fields = {key: (f.name, f.display_value()) for key, f in lead.form_data.items()}
    assert fields == {
        "Имя": ("Имя", "Иван"),
        "Площадь": ("Площадь", "42"),
        "Окна": ("Окна", "ПВХ, дерево"),
        "Пусто": ("Пусто", ""),
        "f1": ("Комментарий", "ок"),
    }
