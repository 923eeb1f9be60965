"""Realistic Flexbe events for tests, shaped like the seed's `lead` and `pay` webhooks."""

from __future__ import annotations

import copy
from typing import Any

SITE = {"id": "174911", "sub_id": "180023", "domain": "okna-spb.ru", "name": "Окна СПб"}


def lead_event(
    lead_id: int = 1414,
    *,
    num: int | None = None,
    name: str = "Иван Петров",
    phone: str = "+7 (999) 123-45-67",
    email: str = "ivan@example.ru",
    status: tuple[int, str] = (0, "Новый"),
    time: int = 1_767_225_600,
    pay: dict[str, Any] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(lead_id),
        "num": str(num if num is not None else lead_id % 1000),
        "time": str(time),
        "status": {"code": str(status[0]), "name": status[1]},
        "client": {"name": name, "phone": phone, "email": email},
        "note": "",
        "form_name": "Заявка на замер",
        "form_data": {
            "f27b7c6e2": {
                "id": "f27b7c6e2",
                "name": "Комментарий",
                "value": "Окно 2×1.5 м & подоконник, цена=?",
                "type": "textarea",
                "orig_name": "Комментарий",
            },
            "f11aa": {
                "id": "f11aa",
                "name": "Удобное время",
                "value": ["утро", "вечер"],
                "type": "checkbox",
                "orig_name": "Удобное время",
            },
            "f5": {"id": "f5", "name": "Согласие", "value": "on", "type": "checkbox"},
        },
        "page": {"url": "https://okna-spb.ru/zamer", "name": "Замер"},
        "utm": {
            "utm_source": "yandex",
            "utm_medium": "cpc",
            "utm_campaign": "okna_spb",
            "utm_term": "пластиковые окна",
            "utm_content": "banner1",
            "url": "https://okna-spb.ru/zamer?utm_source=yandex",
            "ip": "203.0.113.7",
            "ym_client_id": "1700000000123",
            "cookies": {"_ga": "GA1.2.3.4", "roistat_visit": "12345"},
            "yclid": "98765",
        },
    }
    if pay is not None:
        data["pay"] = pay
    return {"event": "lead", "site": copy.deepcopy(SITE), "data": data}


def new_client_lead_event(lead_id: int) -> dict[str, Any]:
    """A lead from a client of its own (phone and e-mail made of its id), as a real burst
    brings: the same client thousands of times would make every card count that client's
    earlier requests (the repeat badge)."""
    phone = (
        f"+7 (999) {lead_id // 10_000 % 1000:03d}-{lead_id // 100 % 100:02d}-{lead_id % 100:02d}"
    )
    return lead_event(lead_id, phone=phone, email=f"client{lead_id}@example.ru")


def pay_event(
    lead_id: int = 1414,
    *,
    status: tuple[int, str] = (2, "Оплачен"),
    summ: str = "4990.00",
    pay_id: str = "inv-77",
) -> dict[str, Any]:
    event = lead_event(
        lead_id,
        pay={
            "id": pay_id,
            "summ": summ,
            "status": {"code": str(status[0]), "name": status[1]},
            "time_create": "1767225700",
            "time_done": "1767225800" if status[0] == 2 else "",
            "desc": "Замер и доставка",
            "pay_link": "https://okna-spb.ru/pay/inv-77",
            "test": "0",
        },
    )
    event["event"] = "pay"
    return event
