"""The numbers of a lead in Comunik8's and 5CRM's requests: the site's region, the second
number, and what cannot be dialled."""

from __future__ import annotations

from typing import Any

import pytest

from config.mappings import Comunik8Mapping, Crm5Mapping
from integrations.comunik8 import NoDialablePhone
from integrations.mapping import comunik8_cancel, comunik8_lead, crm5_contact, crm5_deal
from tests.integrations.test_mapping import make_lead


def phone_field(value: str, *, key: str = "fp", kind: str = "phone") -> dict[str, Any]:
    return {key: {"id": key, "name": "Второй телефон", "value": value, "type": kind}}


def test_a_uk_sites_national_number_is_dialled_in_e164() -> None:
    lead = make_lead(client_phone="07840258823")

    request = comunik8_lead(lead, Comunik8Mapping(), lead_type="callback", region="GB")
    cancel = comunik8_cancel(lead, Comunik8Mapping(), lead_type="callback", region="GB")

    assert request.mobile == cancel.mobile == "+447840258823"
    assert crm5_deal(lead, Crm5Mapping(), region="GB").phone == "+447840258823"
    assert crm5_contact(lead, Crm5Mapping(), region="GB").phone == "+447840258823"


def test_the_same_digits_are_not_a_number_on_a_russian_site() -> None:
    lead = make_lead(client_phone="07840258823")

    with pytest.raises(NoDialablePhone):
        comunik8_lead(lead, Comunik8Mapping(), lead_type="callback", region="RU")
    assert crm5_deal(lead, Crm5Mapping(), region="RU").phone == "07840258823", (
        "5CRM keeps what was typed"
    )


@pytest.mark.parametrize("kind", ["phone", "tel", "Phone"])
def test_a_second_phone_field_fills_other_phone(kind: str) -> None:
    lead = make_lead(
        form_data=phone_field("8 912 345-67-89", kind=kind) | make_lead().form_data,
    )

    request = comunik8_lead(lead, Comunik8Mapping(), lead_type="callback")

    assert request.mobile == "+79991234567" and request.other_phone == "+79123456789"
    assert request.to_json()["other_phone"] == "+79123456789"


def test_the_clients_own_number_in_the_form_is_not_a_second_one() -> None:
    lead = make_lead(
        form_data=phone_field("+7 999 123-45-67", key="f1")
        | phone_field("нет", key="f2")
        | phone_field("٨٩١٢٣٤٥٦٧٨٩", key="f3"),
    )

    request = comunik8_lead(lead, Comunik8Mapping(), lead_type="callback")

    assert request.other_phone == "+79123456789", "the first other dialable number, in ASCII"


def test_a_site_names_where_its_second_number_is() -> None:
    lead = make_lead(
        form_data={"f5": {"id": "f5", "name": "Рабочий", "value": "8 (912) 345-67-89"}}
    )
    mapping = Comunik8Mapping(other_phone="name:Рабочий")

    assert comunik8_lead(lead, mapping, lead_type="callback").other_phone == "+79123456789"
    assert comunik8_lead(lead, Comunik8Mapping(), lead_type="callback").other_phone is None
    assert "other_phone" not in comunik8_lead(lead, Comunik8Mapping(), lead_type="c").to_json()


def test_a_bad_other_phone_source_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown lead attribute"):
        Comunik8Mapping(other_phone="lead:nope")
