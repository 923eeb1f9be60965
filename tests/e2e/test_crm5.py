"""The 5CRM deal button as a team uses it: the deal (or the form), the company, the contact
and the follow-up task, each once per lead, credited to the manager who tapped."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
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
from tests.e2e.conftest import Stack, buttons, card_of, card_text, eventually, open_stack, tap
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
    await stack.post_lead(event)
    num = int(event["data"]["num"])
    await eventually(lambda: card_of(stack.telegram, GROUP, num) is not None)
    return num


def made(crm5: Crm5Fake) -> tuple[int, int, int, int]:
    return len(crm5.deals), len(crm5.companies), len(crm5.contacts), len(crm5.tasks)


async def test_the_deal_button_makes_deal_company_contact_and_task(stack: Stack) -> None:
    await lead_with_company(stack)

    await tap(stack, DEAL_EN)

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

    await tap(stack, DEAL_RU, user=RUSSIAN, chat=RUSSIAN)

    await eventually(lambda: MADE_RU in card_text(stack, RUSSIAN))
    await eventually(lambda: "Иван: 5CRM deal: done — made in 5CRM" in card_text(stack))
    assert made(stack.crm5) == (1, 1, 1, 1)


async def test_a_double_tap_makes_one_of_each(stack: Stack) -> None:
    await lead_with_company(stack)

    for user in (MANAGER, ADMIN, MANAGER, ADMIN):
        await tap(stack, DEAL_EN, user=user)

    await eventually(lambda: "5CRM deal: done" in card_text(stack))
    assert made(stack.crm5) == (1, 1, 1, 1)
    assert len(stack.crm5.calls("public/deal/add")) == 1


async def test_a_retry_resumes_after_the_steps_done(stack: Stack) -> None:
    """The contact is refused: the deal and company stay made once; Retry makes the rest."""
    await lead_with_company(stack)
    stack.crm5.fail_next_on("public/contact/add", {"ans": "false", "error": "no"})

    await tap(stack, DEAL_EN)

    await eventually(lambda: "🔁 Retry" in buttons(card_of(stack.telegram, GROUP) or {}))
    assert (
        "Max: 5CRM deal: failed — 5CRM refused the request: ask an admin to check the settings"
        in card_text(stack)
    )
    assert made(stack.crm5) == (1, 1, 0, 0), "nothing after the refused step"
    await eventually(lambda: "5CRM" in stack.telegram.chat(ADMIN)[-1]["text"])

    await tap(stack, "🔁 Retry")

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

    await tap(stack, DEAL_EN)

    await eventually(lambda: "5CRM refused the lead — date_expired" in card_text(stack))
    assert "The date expired is not a valid date." in card_text(stack)
    await eventually(lambda: "5CRM отклонил заявку — date_expired" in card_text(stack, RUSSIAN))
    assert made(stack.crm5) == (1, 1, 1, 0)


async def test_company_id_reaches_the_contact_when_5crm_sends_one(stack: Stack) -> None:
    stack.crm5.answer_ids = True
    await lead_with_company(stack)

    await tap(stack, DEAL_EN)

    await eventually(lambda: MADE_EN in card_text(stack))
    assert stack.crm5.contacts[0]["company_id"] == "1"


async def test_no_company_field_no_company(stack: Stack) -> None:
    await stack.new_card()

    await tap(stack, DEAL_EN)

    await eventually(lambda: "made in 5CRM: deal, contact, task" in card_text(stack))
    assert made(stack.crm5) == (1, 0, 1, 1)


async def test_form_mode_sends_ctm_form_send(database: Database) -> None:
    form_mode = MAPPING.model_copy(update={"send_as": "form"})
    async with open_stack(database, crm5_mapping=form_mode) as stack:
        await lead_with_company(stack)

        await tap(stack, DEAL_EN)

        await eventually(lambda: "made in 5CRM: form, company, task" in card_text(stack))
        [form] = stack.crm5.forms
        assert form["name"] == "Иван Петров" and form["phone"] == "+79991234567"
        assert form["email"] == "ivan@example.ru" and form["url"] == "https://okna-spb.ru/zamer"
        assert form["utm_source"] == "yandex"
        assert "Комментарий: Окно" in form["description"]
        assert stack.crm5.deals == [] and stack.crm5.contacts == [], "5CRM makes them"
        assert len(stack.crm5.tasks) == 1


async def next_to_admin(stack: Stack, act: Callable[[], object]) -> dict[str, Any]:
    """What the bot sends the admin next, after `act` (the admin's message or tap)."""
    before = len(stack.telegram.chat(ADMIN))
    act()
    await eventually(lambda: len(stack.telegram.chat(ADMIN)) > before)
    return stack.telegram.chat(ADMIN)[-1]


async def admin_says(stack: Stack, text: str) -> dict[str, Any]:
    """The bot's answer to the admin's message."""
    return await next_to_admin(stack, lambda: stack.telegram.message_update(ADMIN, text))


async def admin_taps(stack: Stack, message: dict[str, Any], label: str) -> dict[str, Any]:
    """The bot's next message to the admin after a tap of `label` on `message`."""
    data = buttons(message)[label]
    return await next_to_admin(
        stack, lambda: stack.telegram.callback_update(ADMIN, ADMIN, message["message_id"], data)
    )


async def admin_picks(stack: Stack, message: dict[str, Any], label: str, says: str) -> None:
    """The admin taps `label` on `message`, which is then edited to say `says`."""
    stack.telegram.callback_update(ADMIN, ADMIN, message["message_id"], buttons(message)[label])
    await eventually(lambda: says in stack.telegram.message(ADMIN, message["message_id"])["plain"])


async def test_admin_links_a_manager_to_5crm_and_their_deals_follow(stack: Stack) -> None:
    team = await admin_says(stack, "/managers")
    assert "Max → the site's manager" in team["text"]

    members = await admin_taps(stack, team, "🔗 5CRM managers")
    accounts = await admin_taps(stack, members, "Max")
    assert "Max's deals" in accounts["text"]
    assert set(buttons(accounts)) == {"Ivanov", "Петрова", "The site's manager"}, "managers/get"
    assert stack.crm5.calls("public/managers/get")[0].fields["secret_token"]

    await admin_picks(stack, accounts, "Петрова", "Max's deals are credited to Петрова in 5CRM.")

    assert "Max → Петрова" in (await admin_says(stack, "/managers"))["text"]

    await lead_with_company(stack)
    await tap(stack, DEAL_EN)
    await eventually(lambda: f"{MADE_EN}; manager Петрова" in card_text(stack))
    assert {made["manager_id"] for made in (*stack.crm5.deals, *stack.crm5.contacts)} == {"2"}
    assert {made["manager_id"] for made in (*stack.crm5.companies, *stack.crm5.tasks)} == {"2"}

    await lead_with_company(stack, lead_id=1415)
    await tap(stack, DEAL_EN, user=ADMIN, num=415)
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

    team = await admin_says(stack, "/managers")
    assert "Max → менеджер сайта" in team["text"]
    members = await admin_taps(stack, team, "🔗 Менеджеры 5CRM")
    assert "Кому назначить менеджера 5CRM?" in members["text"]
    accounts = await admin_taps(stack, members, "Max")
    assert "На кого в 5CRM записывать сделки Max?" in accounts["text"]

    await admin_picks(stack, accounts, "Ivanov", "Сделки Max записываются в 5CRM на Ivanov.")
    async with stack.database.read() as session:
        link = await crm5_link_of(session, MANAGER)
    assert link is not None and (link.crm5_manager_id, link.linked_by) == (1, ADMIN)
