"""The 5CRM deal button as a team uses it: the deal (or the form), the company, the contact
and the follow-up task, each once per lead, credited to the manager who tapped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from config.mappings import Crm5Mapping
from storage.clock import utcnow
from storage.database import Database
from storage.models import Manager
from storage.queries.crm5 import crm5_link_of
from testkit.factories import lead_event
from testkit.fakes.crm5 import Crm5Fake
from tests.e2e.conftest import Stack, buttons, card_of, card_text, eventually, more_of, open_stack
from tests.e2e.team import ADMIN, GROUP, MANAGER, RUSSIAN

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

MAPPING = Crm5Mapping(
    funnel_id=1,
    stage_id=1,
    manager_id=7,
    custom_fields={1: "name:Комментарий"},
    task_name="Перезвонить: {client_name}",
    task_type_id=3,
    task_priority_id=2,
    task_due_hours=24,
)
DEAL_EN, DEAL_RU = "📇 5CRM deal", "📇 Сделка в 5CRM"
MADE_EN = "Max: 5CRM deal: done — made in 5CRM: deal, company, contact, task"
MADE_RU = "Иван: сделка в 5CRM: готово — создано в 5CRM: сделка, компания, контакт, задача"


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[Stack]:
    async with open_stack(database, crm5_mapping=MAPPING) as running:
        yield running


async def lead_with_company(
    stack: Stack, lead_id: int = 1414, company: str = "ООО «Ромашка»"
) -> int:
    """A lead whose form names the client's company; returns its number."""
    event = lead_event(lead_id)
    event["data"]["form_data"]["fco"] = {
        "id": "fco",
        "name": "Компания",
        "value": company,
        "type": "text",
    }
    stack.flexbe.leads[lead_id] = event["data"]
    response = await stack.webhook(event)
    assert response.status_code == 200, response.text
    num = int(event["data"]["num"])
    await eventually(lambda: card_of(stack.telegram, GROUP, num) is not None)
    return num


async def tap(stack: Stack, user: int, chat: int, label: str, num: int = 414) -> None:
    """Tap `label` on the card, opening its "More…" page first when the button is there."""
    card = card_of(stack.telegram, chat, num)
    assert card is not None, f"no card #{num} in chat {chat}"
    if label not in buttons(card):
        card = await more_of(stack, chat, user=user, num=num, showing=label)
    stack.telegram.callback_update(user, chat, card["message_id"], buttons(card)[label])


def made(crm5: Crm5Fake) -> tuple[int, int, int, int]:
    return len(crm5.deals), len(crm5.companies), len(crm5.contacts), len(crm5.tasks)


async def test_the_deal_button_makes_deal_company_contact_and_task(stack: Stack) -> None:
    await lead_with_company(stack)

    await tap(stack, MANAGER, GROUP, DEAL_EN)

    await eventually(lambda: MADE_EN in card_text(stack))
    [deal], [company], [contact], [task] = (
        stack.crm5.deals,
        stack.crm5.companies,
        stack.crm5.contacts,
        stack.crm5.tasks,
    )
    assert deal["funnel_id"] == "1" and deal["stage_id"] == "1"
    assert deal["manager_id"] == "7", "nobody linked: the site's manager"
    assert deal["name"] == "Заявка на замер №414"
    assert deal["f_1"] == "Окно 2×1.5 м & подоконник, цена=?"
    assert company == {"name": "ООО «Ромашка»", "manager_id": "7"}
    assert (contact["name"], contact["surname"]) == ("Иван", "Петров")
    assert contact["phone"] == "+79991234567" and contact["email"] == "ivan@example.ru"
    assert contact["manager_id"] == "7"
    assert task["name"] == "Перезвонить: Иван Петров"
    assert (task["type_id"], task["priority_id"], task["manager_id"]) == ("3", "2", "7")
    moscow = ZoneInfo(MAPPING.timezone)
    due = datetime.strptime(task["date_expired"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=moscow)
    assert abs(due - utcnow() - timedelta(hours=24)) < timedelta(minutes=5), "24 h, Moscow time"
    assert "Компания: ООО «Ромашка»" in task["description"]


async def test_russian_manager_sees_the_deal_in_russian(stack: Stack) -> None:
    await lead_with_company(stack)
    await eventually(lambda: card_of(stack.telegram, RUSSIAN) is not None)

    await tap(stack, RUSSIAN, RUSSIAN, DEAL_RU)

    await eventually(lambda: MADE_RU in card_text(stack, RUSSIAN))
    await eventually(lambda: "Иван: 5CRM deal: done — made in 5CRM" in card_text(stack))
    assert made(stack.crm5) == (1, 1, 1, 1)


async def test_a_double_tap_makes_one_of_each(stack: Stack) -> None:
    await lead_with_company(stack)

    for user in (MANAGER, ADMIN, MANAGER, ADMIN):
        await tap(stack, user, GROUP, DEAL_EN)

    await eventually(lambda: "5CRM deal: done" in card_text(stack))
    assert made(stack.crm5) == (1, 1, 1, 1)
    assert len(stack.crm5.calls("public/deal/add")) == 1


async def test_a_retry_resumes_after_the_steps_done(stack: Stack) -> None:
    """The contact is refused: the deal and company stay made once; Retry makes the rest."""
    await lead_with_company(stack)
    stack.crm5.fail_next_on("public/contact/add", {"ans": "false", "error": "no"})

    await tap(stack, MANAGER, GROUP, DEAL_EN)

    await eventually(lambda: "🔁 Retry" in buttons(card_of(stack.telegram, GROUP) or {}))
    assert (
        "Max: 5CRM deal: failed — 5CRM refused the request: ask an admin to check the settings"
        in card_text(stack)
    )
    assert made(stack.crm5) == (1, 1, 0, 0), "nothing after the refused step"
    await eventually(lambda: "5CRM" in stack.telegram.chat(ADMIN)[-1]["text"])

    await tap(stack, MANAGER, GROUP, "🔁 Retry")

    await eventually(lambda: MADE_EN in card_text(stack))
    assert made(stack.crm5) == (1, 1, 1, 1)
    assert len(stack.crm5.calls("public/deal/add")) == 1
    assert len(stack.crm5.calls("public/company/add")) == 1
    assert len(stack.crm5.calls("public/contact/add")) == 2


async def test_refused_fields_are_named_in_both_languages(stack: Stack) -> None:
    await lead_with_company(stack)
    laravel = {
        "message": "The given data was invalid.",
        "errors": {"date_expired": ["The date expired is not a valid date."]},
    }
    stack.crm5.fail_next_on("public/task/add", (422, laravel))

    await tap(stack, MANAGER, GROUP, DEAL_EN)

    await eventually(lambda: "5CRM refused the lead — date_expired" in card_text(stack))
    assert "The date expired is not a valid date." in card_text(stack)
    await eventually(lambda: "5CRM отклонил заявку — date_expired" in card_text(stack, RUSSIAN))
    assert made(stack.crm5) == (1, 1, 1, 0)


async def test_company_id_reaches_the_contact_when_5crm_sends_one(stack: Stack) -> None:
    stack.crm5.answer_ids = True
    await lead_with_company(stack)

    await tap(stack, MANAGER, GROUP, DEAL_EN)

    await eventually(lambda: MADE_EN in card_text(stack))
    assert stack.crm5.contacts[0]["company_id"] == "1"


async def test_no_company_field_no_company(stack: Stack) -> None:
    await stack.new_card()

    await tap(stack, MANAGER, GROUP, DEAL_EN)

    await eventually(lambda: "made in 5CRM: deal, contact, task" in card_text(stack))
    assert made(stack.crm5) == (1, 0, 1, 1)


async def test_form_mode_sends_ctm_form_send(database: Database) -> None:
    form_mode = MAPPING.model_copy(update={"send_as": "form"})
    async with open_stack(database, crm5_mapping=form_mode) as stack:
        await lead_with_company(stack)

        await tap(stack, MANAGER, GROUP, DEAL_EN)

        await eventually(lambda: "made in 5CRM: form, company, task" in card_text(stack))
        [form] = stack.crm5.forms
        assert form["name"] == "Иван Петров" and form["phone"] == "+79991234567"
        assert form["email"] == "ivan@example.ru" and form["url"] == "https://okna-spb.ru/zamer"
        assert form["utm_source"] == "yandex"
        assert "Комментарий: Окно" in form["description"]
        assert stack.crm5.deals == [] and stack.crm5.contacts == [], "5CRM makes them"
        assert len(stack.crm5.tasks) == 1


async def last_message_after(stack: Stack, chat: int, before: int) -> dict[str, Any]:
    await eventually(lambda: len(stack.telegram.chat(chat)) > before)
    return stack.telegram.chat(chat)[-1]


async def test_admin_links_a_manager_to_5crm_and_their_deals_follow(stack: Stack) -> None:
    before = len(stack.telegram.chat(ADMIN))
    stack.telegram.message_update(ADMIN, "/managers")
    team = await last_message_after(stack, ADMIN, before)
    assert "Max → the site's manager" in team["text"]

    before = len(stack.telegram.chat(ADMIN))
    stack.telegram.callback_update(
        ADMIN, ADMIN, team["message_id"], buttons(team)["🔗 5CRM managers"]
    )
    members = await last_message_after(stack, ADMIN, before)
    before = len(stack.telegram.chat(ADMIN))
    stack.telegram.callback_update(ADMIN, ADMIN, members["message_id"], buttons(members)["Max"])
    accounts = await last_message_after(stack, ADMIN, before)
    assert "Max's deals" in accounts["text"]
    assert set(buttons(accounts)) == {"Ivanov", "Петрова", "The site's manager"}, "managers/get"
    assert stack.crm5.calls("public/managers/get")[0].fields["secret_token"]

    stack.telegram.callback_update(
        ADMIN, ADMIN, accounts["message_id"], buttons(accounts)["Петрова"]
    )
    await eventually(
        lambda: (
            "Max's deals are credited to Петрова in 5CRM."
            in stack.telegram.message(ADMIN, accounts["message_id"])["plain"]
        )
    )

    before = len(stack.telegram.chat(ADMIN))
    stack.telegram.message_update(ADMIN, "/managers")
    assert "Max → Петрова" in (await last_message_after(stack, ADMIN, before))["text"]

    await lead_with_company(stack)
    await tap(stack, MANAGER, GROUP, DEAL_EN)
    await eventually(lambda: f"{MADE_EN}; manager Петрова" in card_text(stack))
    assert {made["manager_id"] for made in (*stack.crm5.deals, *stack.crm5.contacts)} == {"2"}
    assert {made["manager_id"] for made in (*stack.crm5.companies, *stack.crm5.tasks)} == {"2"}

    await lead_with_company(stack, lead_id=1415)
    await tap(stack, ADMIN, GROUP, DEAL_EN, num=415)
    await eventually(lambda: "5CRM deal: done" in card_text(stack, num=415))
    assert stack.crm5.deals[1]["manager_id"] == "7", "Ada is not linked: the site's manager"


async def test_a_manager_cannot_open_the_5crm_links(stack: Stack) -> None:
    from bot.handlers.crm5_team import Crm5Link

    answered = len(stack.telegram.calls_of("answerCallbackQuery"))
    forged = Crm5Link(telegram_id=MANAGER, crm5_id=2).pack()
    stack.telegram.callback_update(MANAGER, MANAGER, 1, forged)
    await eventually(lambda: len(stack.telegram.calls_of("answerCallbackQuery")) > answered)
    assert stack.crm5.calls("public/managers/get") == []
    async with stack.database.read() as session:
        assert await crm5_link_of(session, MANAGER) is None


async def test_the_links_speak_russian_to_a_russian_admin(stack: Stack) -> None:
    async with stack.database.write() as session:
        admin = await session.get(Manager, ADMIN)
        assert admin is not None
        admin.language, admin.language_chosen = "ru", True
        session.add(admin)

    before = len(stack.telegram.chat(ADMIN))
    stack.telegram.message_update(ADMIN, "/managers")
    team = await last_message_after(stack, ADMIN, before)
    assert "Max → менеджер сайта" in team["text"]
    before = len(stack.telegram.chat(ADMIN))
    stack.telegram.callback_update(
        ADMIN, ADMIN, team["message_id"], buttons(team)["🔗 Менеджеры 5CRM"]
    )
    members = await last_message_after(stack, ADMIN, before)
    assert "Кому назначить менеджера 5CRM?" in members["text"]
    before = len(stack.telegram.chat(ADMIN))
    stack.telegram.callback_update(ADMIN, ADMIN, members["message_id"], buttons(members)["Max"])
    accounts = await last_message_after(stack, ADMIN, before)
    assert "На кого в 5CRM записывать сделки Max?" in accounts["text"]

    stack.telegram.callback_update(
        ADMIN, ADMIN, accounts["message_id"], buttons(accounts)["Ivanov"]
    )
    await eventually(
        lambda: (
            "Сделки Max записываются в 5CRM на Ivanov."
            in stack.telegram.message(ADMIN, accounts["message_id"])["plain"]
        )
    )
    async with stack.database.read() as session:
        link = await crm5_link_of(session, MANAGER)
    assert link is not None and (link.crm5_manager_id, link.linked_by) == (1, ADMIN)
