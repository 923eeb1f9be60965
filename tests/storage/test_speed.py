"""Speed-to-lead figures of leads whose moments the test knows: medians, 90th percentiles
and the share within 5 minutes exact, in working time (a lead arriving at night counts from
the next morning), per manager, UTM source and form, with take-backs, lost reasons, paid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from config.working_time import WorkingHours
from domain.owners import ASSIGN, RELEASE, TAKE, TAKE_BACK, assign_action
from domain.statuses import PayStatus
from storage.models import Lead
from storage.queries.speed import is_action, percentile, speed_figures

HOURS = WorkingHours.parse("Mon-Fri 09:00-18:00", zone="UTC")
MONDAY = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


def lead(
    lead_id: int,
    received: datetime,
    acted: datetime | None,
    *,
    owner: str | None,
    source: str | None,
    form: str = "Callback",
    lost: str | None = None,
    paid: bool = False,
) -> Lead:
    return Lead(
        id=lead_id,
        flexbe_id=lead_id,
        site_key="okna",
        received_at=received,
        created_at=received,
        first_action_at=acted,
        taken_by=None if owner is None else lead_id,
        taken_by_name=owner,
        utm={"utm_source": source} if source else {},
        form_name=form,
        lost_reason=lost,
        pay_status_code=PayStatus.PAID if paid else 0,
    )


def working(_site: str, since: datetime, until: datetime) -> timedelta:
    return HOURS.working_between(since, until)


LEADS = [
    lead(1, at(0, 10), at(0, 10, 2), owner="Max", source="google"),  # 120 s
    lead(2, at(0, 10), at(0, 10, 4), owner="Max", source="google", form="Quiz"),  # 240 s
    lead(3, at(0, 11), at(0, 11, 10), owner="Anna", source="yandex"),  # 600 s
    # At 23:00, outside the hours: counted from Tuesday 09:00, acted on at 09:03.
    lead(4, at(0, 23), at(1, 9, 3), owner="Anna", source="google"),  # 180 s
    lead(5, at(0, 12), None, owner=None, source=None, lost=""),
    lead(
        6, at(0, 12), at(0, 12, 30), owner="Max", source="google", lost="too expensive", paid=True
    ),  # 1800 s
]


def test_the_figures_of_known_moments_in_working_time() -> None:
    figures = speed_figures(LEADS, working_between=working, taken_back={3: 2, 5: 1})

    total = figures.total
    assert (total.leads, total.acted) == (6, 5)
    # 120, 180, 240, 600, 1800: the night lead waited 3 working minutes, not 10 hours.
    assert total.median_seconds == 240
    assert total.p90_seconds == 1800
    assert (total.quick, total.quick_share) == (3, 0.5)
    assert total.taken_back == 3
    assert total.lost == {"": 1, "too expensive": 1}
    assert total.paid == 1

    assert list(figures.by_manager) == ["Max", "Anna", ""], "most leads first"
    max_ = figures.by_manager["Max"]
    assert (max_.leads, max_.median_seconds, max_.p90_seconds, max_.quick) == (3, 240, 1800, 2)
    assert (max_.paid, max_.lost, max_.taken_back) == (1, {"too expensive": 1}, 0)
    anna = figures.by_manager["Anna"]
    assert (anna.leads, anna.median_seconds, anna.p90_seconds, anna.quick) == (2, 390, 600, 1)
    assert anna.taken_back == 2
    nobody = figures.by_manager[""]
    assert (nobody.leads, nobody.acted, nobody.median_seconds, nobody.quick_share) == (
        1,
        0,
        None,
        0.0,
    )
    assert nobody.lost == {"": 1}

    google = figures.by_source["google"]
    assert (google.leads, google.median_seconds, google.p90_seconds) == (4, 210, 1800)
    assert google.quick_share == 0.75
    assert figures.by_source["yandex"].median_seconds == 600
    assert figures.by_source[""].leads == 1
    assert figures.by_form["Quiz"].median_seconds == 240
    assert figures.by_form["Callback"].leads == 5


def test_a_first_action_before_arrival_counts_as_none_waited() -> None:
    early = lead(7, at(0, 10), at(0, 9), owner="Max", source=None)
    figures = speed_figures([early], working_between=working, taken_back={})
    assert figures.total.median_seconds == 0 and figures.total.quick == 1


def test_no_leads_no_figures() -> None:
    figures = speed_figures([], working_between=working, taken_back={})
    assert figures.total.leads == 0 and figures.total.quick_share is None
    assert figures.by_manager == {} and figures.by_source == {}


def test_nearest_rank_percentile() -> None:
    values = [float(n) for n in range(1, 11)]
    assert percentile(values, 0.9) == 9
    assert percentile([5.0], 0.9) == 5
    assert percentile([3.0, 1.0], 0.9) == 3


def test_changing_the_owner_is_not_an_action() -> None:
    for kind in (TAKE, ASSIGN, assign_action(22), RELEASE, TAKE_BACK):
        assert not is_action(kind), kind
    for kind in ("status:1", "call:0", "call:@1767225600", "uncall", "deal", "note", "client"):
        assert is_action(kind), kind
