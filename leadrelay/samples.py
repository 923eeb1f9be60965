"""A realistic Flexbe `lead` event, for `send-test-lead`."""

from __future__ import annotations

from typing import Any

from storage.clock import utcnow


def sample_lead_event(*, flexbe_id: int) -> dict[str, Any]:
    return {
        "event": "lead",
        "site": {"id": "0", "sub_id": "0", "domain": "example.ru", "name": "leadrelay test"},
        "data": {
            "id": str(flexbe_id),
            "num": str(flexbe_id % 100_000),
            "time": str(int(utcnow().timestamp())),
            "status": {"code": "0", "name": "Новый"},
            "client": {
                "name": "Тест Тестов",
                "phone": "+7 (900) 000-00-00",
                "email": "test@example.ru",
            },
            "note": "",
            "form_name": "Тестовая заявка leadrelay",
            "form_data": {
                "f1": {
                    "id": "f1",
                    "name": "Комментарий",
                    "value": "Это проверка пути заявки: <тег> & «кавычки»",
                    "type": "textarea",
                    "orig_name": "Комментарий",
                },
                "f2": {
                    "id": "f2",
                    "name": "Время звонка",
                    "value": ["утро", "вечер"],
                    "type": "checkbox",
                },
            },
            "page": {"url": "https://example.ru/", "name": "Главная"},
            "utm": {
                "utm_source": "leadrelay",
                "utm_medium": "test",
                "utm_campaign": "send-test-lead",
            },
        },
    }
