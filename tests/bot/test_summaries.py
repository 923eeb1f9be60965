"""The burst summary's message: escaped, within Telegram's 4096 characters whatever the
leads hold, a button per lead, in English and Russian."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from aiogram.utils.i18n import I18n

from bot.callbacks import OpenLead
from bot.cards import utf16_length
from bot.i18n import build_i18n
from bot.summaries import render_summary
from domain.jobs import BurstSummaryPayload
from storage.models import Lead
from storage.queries.bursts import PER_MESSAGE

HOSTILE = '<b>Tom & "Jerry"</b> <script>alert(1)</script>'


def _leads(count: int, name: str) -> list[Lead]:
    return [
        Lead(
            id=100 + n,
            site_key="okna",
            flexbe_id=5000 + n,
            num=900 + n,
            client_name=name,
            created_at=datetime(2026, 11, 20, 9, n % 60, tzinfo=UTC),
        )
        for n in range(count)
    ]


@pytest.mark.parametrize(
    ("language", "header"), [("en", "New leads: 90"), ("ru", "Новые заявки: 90")]
)
def test_every_lead_listed_with_its_button_escaped_and_within_the_limit(
    language: str, header: str
) -> None:
    i18n: I18n = build_i18n()
    leads = _leads(PER_MESSAGE, HOSTILE * 40 + "🦄" * 2000)
    summary = BurstSummaryPayload(
        chat_id=-100, lead_ids=tuple(lead.id or 0 for lead in leads), part=2, parts=3, total=90
    )
    with i18n.context(), i18n.use_locale(language):
        rendered = render_summary(summary, leads, site_name=lambda _lead: HOSTILE, zone=UTC)

    assert rendered.text.startswith(f"<b>{header} (2/3)</b>")
    # The header's bold is the only markup: every name is text.
    assert re.findall(r"<[^>]*>", rendered.text) == ["<b>", "</b>"]
    assert "&lt;b&gt;Tom &amp; &quot;Jerry" in rendered.text
    assert utf16_length(rendered.text) <= 4096
    assert all(f"#{lead.num}" in rendered.text for lead in leads)
    keyboard = [button for row in rendered.keyboard.inline_keyboard for button in row]
    assert [button.text for button in keyboard] == [f"#{lead.num}" for lead in leads]
    assert [OpenLead.unpack(button.callback_data or "").lead_id for button in keyboard] == [
        lead.id for lead in leads
    ]
    assert all(len(row) <= 5 for row in rendered.keyboard.inline_keyboard)
