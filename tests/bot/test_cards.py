"""Lead cards: escaped, complete, within Telegram's limits, in English and Russian."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from bot.callbacks import Act, CardPage, LeadAction, LeadWork, Work
from bot.card_view import CardView, HistoryLine, RenderedCard, site_title
from bot.cards import render_plain, utf16_length
from bot.i18n import build_i18n
from bot.keyboards import more_keyboard
from bot.notifier import render_card
from storage.models import Lead

HOSTILE = '<b>Tom & "Jerry"</b> <script>alert(1)</script>'


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return build_i18n()


@pytest.fixture
def english(i18n: I18n) -> Iterator[None]:
    with i18n.context(), i18n.use_locale("en"):
        yield


def lead(**overrides: Any) -> Lead:
    values: dict[str, Any] = {
        "id": 17,
        "site_key": "okna",
        "flexbe_id": 1414,
        "num": 414,
        "status_code": 0,
        "client_name": "Иван Петров",
        "client_phone": "+7 (999) 123-45-67",
        "client_email": "ivan@example.ru",
        "form_name": "Заявка на замер",
        "form_data": {
            "f1": {"id": "f1", "name": "Комментарий", "value": "Окно 2×1.5 м", "type": "textarea"},
            "f2": {"id": "f2", "name": "Время", "value": ["утро", "вечер"], "type": "checkbox"},
        },
        "page_url": "https://okna-spb.ru/zamer",
        "page_name": "Замер",
        "utm": {"utm_source": "yandex", "utm_medium": "cpc", "utm_campaign": "okna"},
        "pay_summ": "4990.00",
        "pay_status_code": 2,
        "pay_link": "https://okna-spb.ru/pay/1",
        "received_at": datetime(2026, 1, 1, tzinfo=UTC),
        "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    values.update(overrides)
    return Lead(**values)


class TelegramHtml(HTMLParser):
    """Collects tags, so a test can check only Telegram's own tags appear."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text += data


def parsed(card: RenderedCard) -> TelegramHtml:
    parser = TelegramHtml()
    parser.feed(card.text)
    parser.close()
    return parser


def buttons(card: RenderedCard) -> list[str]:
    """What each button does: a lead action, a page of the keyboard, or a copy."""
    return keys(card.keyboard)


def keys(markup: InlineKeyboardMarkup) -> list[str]:
    found = []
    for row in markup.inline_keyboard:
        for button in row:
            data = button.callback_data or ""
            if button.copy_text is not None:
                found.append(f"copy:{button.copy_text.text}")
            elif data.startswith("la:"):
                found.append(LeadAction.unpack(data).act.value)
            elif data.startswith("cp:"):
                found.append(f"page:{CardPage.unpack(data).page.value}")
            else:
                found.append(data)
    return found


@pytest.mark.usefixtures("english")
def test_card_shows_the_lead() -> None:
    card = render_card(
        CardView(
            lead=lead(
                taken_by=5, taken_by_name="Anna", taken_at=datetime(2026, 1, 1, 14, 5, tzinfo=UTC)
            ),
            site_name="Окна СПб",
            history=[HistoryLine(datetime(2026, 1, 1, 14, 6, tzinfo=UTC), "5CRM deal created")],
        )
    )
    text = parsed(card).text

    for expected in (
        "Lead #414",
        "Окна СПб",
        "Status: New",
        "Замер",
        "Иван Петров",
        "+7 (999) 123-45-67",
        "ivan@example.ru",
        "Заявка на замер",
        "Комментарий: Окно 2×1.5 м",
        "Время: утро, вечер",
        "UTM: yandex / cpc / okna",
        "4990.00 — paid",
        "Taken by Anna at 01.01 14:05",
        "14:06 5CRM deal created",
    ):
        assert expected in text, expected
    assert '<a href="tel:+79991234567">' in card.text
    assert '<a href="https://okna-spb.ru/pay/1">' in card.text
    # Taken already: the next status and the phone stay in view, the rest is on "More…".
    assert buttons(card) == [Act.PROCESSED, "copy:+79991234567", "page:more"]


@pytest.mark.usefixtures("english")
def test_everything_from_outside_is_escaped() -> None:
    card = render_card(
        CardView(
            lead=lead(
                client_name=HOSTILE,
                client_email=HOSTILE,
                note=HOSTILE,
                form_name=HOSTILE,
                form_data={"x": {"name": HOSTILE, "value": HOSTILE}},
                page_url="javascript:alert(1)",
                page_name=HOSTILE,
                utm={"utm_source": HOSTILE},
                pay_summ=HOSTILE,
                pay_link='https://x.ru/"><script>',
            ),
            site_name=HOSTILE,
        )
    )

    html_card = parsed(card)
    assert set(html_card.tags) <= {"b", "a"}
    assert "<script>" not in card.text
    assert "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt; &lt;script&gt;" in card.text
    assert HOSTILE in html_card.text, "the manager still reads what the client typed"
    assert 'href="javascript' not in card.text
    assert 'href="https://x.ru/&quot;&gt;&lt;script&gt;"' in card.text


@pytest.mark.usefixtures("english")
def test_huge_lead_fits_4096_and_keeps_every_button() -> None:
    long = "Щ" * 300
    fields = {f"f{i}": {"name": f"Поле {i} {long}", "value": long + "😀"} for i in range(120)}
    history = [HistoryLine(datetime(2026, 1, 1, tzinfo=UTC), long) for _ in range(40)]
    card = render_card(
        CardView(
            lead=lead(
                client_name=long, note="\n".join([long] * 50), form_data=fields, client_email=long
            ),
            site_name=long,
            history=history,
            can_deal=True,
            can_call=True,
            retry=Act.DEAL,
        )
    )

    assert utf16_length(card.text) <= 4096
    assert "more fields" in parsed(card).text
    assert buttons(card) == [
        Act.RETRY,
        Act.TAKE,
        Act.PROCESSED,
        Act.CALL_NOW,
        "copy:+79991234567",
        "page:more",
    ]
    for row in card.keyboard.inline_keyboard:
        for button in row:
            assert len((button.callback_data or "").encode()) <= 64


@pytest.mark.usefixtures("english")
def test_deleted_lead_offers_restore_and_untaken_lead_offers_take() -> None:
    card = render_card(CardView(lead=lead(status_code=11), site_name="s"))

    assert buttons(card) == [Act.TAKE, Act.RESTORE, "copy:+79991234567", "page:more"]
    assert "Status: Deleted" in parsed(card).text


@pytest.mark.usefixtures("english")
def test_plain_fallback_has_no_markup() -> None:
    plain = render_plain(CardView(lead=lead(client_name=HOSTILE), site_name="s"))

    assert HOSTILE in plain
    assert "<a href" not in plain


def test_russian_card(i18n: I18n) -> None:
    with i18n.context(), i18n.use_locale("ru"):
        card = render_card(CardView(lead=lead(status_code=1), site_name="Окна", can_deal=True))

    text = parsed(card).text
    assert "Заявка №414" in text
    assert "Статус: Обработан" in text
    assert "4990.00 — оплачен" in text
    labels = [button.text for row in card.keyboard.inline_keyboard for button in row]
    assert labels == ["✋ Взять", "Выполнен", "📋 Скопировать номер", "Ещё…"]


def test_the_site_is_named_never_by_a_placeholder() -> None:
    block = {"site_name": "Двери Москвы", "site_domain": "dveri-msk.ru"}

    assert site_title(lead(**block), "Окна СПб") == "Окна СПб"
    assert site_title(lead(**block), None) == "Двери Москвы"
    assert site_title(lead(site_domain="dveri-msk.ru", site_name=" "), None) == "dveri-msk.ru"
    assert site_title(lead(site_key="default"), None) == "okna-spb.ru", "the page domain"
    assert site_title(lead(site_key="default", page_url="javascript:x"), None) == "default"


def work_buttons(view: CardView) -> list[LeadWork]:
    """The lead work's buttons, on the "More…" page."""
    return [
        LeadWork.unpack(button.callback_data or "")
        for row in more_keyboard(view).inline_keyboard
        for button in row
        if (button.callback_data or "").startswith(f"{LeadWork.__prefix__}:")
    ]


@pytest.mark.usefixtures("english")
def test_the_note_shows_its_newest_lines_escaped() -> None:
    note = "\n".join(f"02.12.2026 10:{minute:02} Max: line {minute}" for minute in range(9))
    card = render_card(CardView(lead=lead(note=note + "\n" + HOSTILE), site_name="s"))

    text = parsed(card).text
    assert "Note" in text and "…" in text
    assert "line 0" not in text, "the oldest lines give way"
    assert "line 8" in text and HOSTILE in text
    assert "<script>" not in card.text


@pytest.mark.usefixtures("english")
def test_payment_marks_appear_while_an_invoice_awaits_payment() -> None:
    awaiting = CardView(lead=lead(pay_status_code=0), site_name="s")
    paid = CardView(lead=lead(pay_status_code=2), site_name="s")
    none = CardView(lead=lead(pay_summ=None, pay_status_code=None), site_name="s")

    note_client_invoice = [Work.NOTE, Work.CLIENT, Work.INVOICE]
    assert [b.act for b in work_buttons(awaiting)] == [
        *note_client_invoice,
        Work.PAID,
        Work.PAY_ERROR,
    ]
    assert [b.act for b in work_buttons(paid)] == note_client_invoice
    assert [b.act for b in work_buttons(none)] == note_client_invoice
