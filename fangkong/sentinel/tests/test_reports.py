"""Daily reports: zero reports are reports, missing days are visible; the daily file is
atomic with row/column/reason errors and idempotent; the counter page and its htmx answer."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client

from conftest import Tree, actor_of, signed_in
from fangkong.accounts.models import User
from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, Invalid
from fangkong.people.tests.factories import resident_id
from fangkong.sentinel import selectors, services
from fangkong.sentinel.imports import registrations_upload
from fangkong.sentinel.models import DailyReport, Registration, Unit
from fangkong.sentinel.tests import factories
from fangkong.sentinel.tests.factories import NOW, purchase

pytestmark = pytest.mark.django_db
TODAY = NOW.date()
YESTERDAY = TODAY - dt.timedelta(days=1)


def test_zero_reports_count_as_filed_and_missing_units_are_listed(
    pharmacy: Unit, fever_clinic: Unit, pharmacist: User, system: Actor, two_districts: Tree
) -> None:
    silent = factories.unit(system, two_districts.grid_a2, code="SILENT")
    services.zero_report_file(actor=actor_of(pharmacist), unit=pharmacy, day=YESTERDAY)
    services.registrations_submit(
        actor=system,
        unit=fever_clinic,
        items=[{"doc_number": resident_id(), "name": "李四", "phone": "13900139000",
                "occurred_at": (NOW - dt.timedelta(days=1)).isoformat()}],
        source="api",
    )  # fmt: skip
    city = Actor(kind="system", id=None, label="t", role="x", scope=system.scope)
    missing = selectors.missing_reports(scope=city.scope, day=YESTERDAY)
    assert [u.code for u in missing.items] == [silent.code]
    figures = selectors.report_figures(scope=city.scope, day=YESTERDAY)
    assert (figures.units, figures.filed, figures.zero, figures.missing) == (3, 2, 1, 1)
    report = DailyReport.objects.get(unit=pharmacy, day=YESTERDAY)
    assert (report.zero, report.records) == (True, 0)


def test_a_zero_report_is_refused_once_records_exist_and_records_replace_it(
    pharmacy: Unit, pharmacist: User
) -> None:
    actor = actor_of(pharmacist)
    services.zero_report_file(actor=actor, unit=pharmacy, day=TODAY)
    services.registrations_submit(actor=actor, unit=pharmacy, items=[purchase()], source="api")
    report = DailyReport.objects.get(unit=pharmacy, day=TODAY)
    assert (report.zero, report.records) == (False, 1)
    with pytest.raises(Conflict, match="Records were filed for this day: it is not zero"):
        services.zero_report_file(actor=actor, unit=pharmacy, day=TODAY)
    with pytest.raises(Invalid, match="A zero report cannot be filed for a future day"):
        services.zero_report_file(actor=actor, unit=pharmacy, day=TODAY + dt.timedelta(days=1))


def test_missing_reports_are_scoped(
    pharmacy: Unit, fever_clinic: Unit, personas: dict[str, User]
) -> None:
    scope = actor_of(personas["district_officer"]).scope
    assert [u.pk for u in selectors.missing_reports(scope=scope, day=TODAY).items] == [pharmacy.pk]


def _csv(*rows: str, header: str = "流水号,身份证号,姓名,手机号,药品类别,数量,发热,体温") -> bytes:
    return "\n".join([header, *rows]).encode("utf-8")


def test_the_daily_file_is_stored_whole_and_only_once(pharmacy: Unit, pharmacist: User) -> None:
    data = _csv(
        f"1,{resident_id()},张三,13800138000,退烧,2,是,38.5",
        f",{resident_id()},李四,13800138001,antibiotic,1,,",
    )
    actor = actor_of(pharmacist)
    first = registrations_upload(actor=actor, unit=pharmacy, file=data)
    assert (first.ok, first.rows, first.stored, first.skipped) == (True, 2, 2, 0)
    again = registrations_upload(actor=actor, unit=pharmacy, file=io.BytesIO(data))
    assert (again.stored, again.skipped) == (0, 2)
    assert set(Registration.objects.values_list("source", "stream")) == {
        ("upload", "antipyretic"),
        ("upload", "antibiotic"),
    }
    assert DailyReport.objects.get(unit=pharmacy, day=TODAY).records == 2


def test_a_bad_row_stores_nothing_and_names_row_column_and_reason(
    pharmacy: Unit, pharmacist: User
) -> None:
    data = _csv(
        f"1,{resident_id()},张三,13800138000,退烧,1,,",
        f"2,{resident_id()},李四,123,退烧,1,,",
        f"3,{resident_id()},王五,13800138002,维生素,1,,",
    )
    result = registrations_upload(actor=actor_of(pharmacist), unit=pharmacy, file=data)
    assert [(e.row, e.column, e.reason) for e in result.errors] == [
        (3, "phone", "Phone '123' is not an 11-digit mainland mobile number"),
        (
            4,
            "drug_class",
            "Unknown drug class '维生素' (antipyretic, cough, antiviral, antibiotic)",
        ),
    ]
    assert Registration.objects.count() == 0


def test_a_file_without_the_required_columns_is_refused(pharmacy: Unit, pharmacist: User) -> None:
    result = registrations_upload(
        actor=actor_of(pharmacist), unit=pharmacy, file=_csv("1,张三", header="流水号,姓名")
    )
    assert [(e.row, e.column) for e in result.errors] == [
        (1, "doc_number"),
        (1, "phone"),
        (1, "drug_class"),
    ]


def test_the_counter_page_registers_without_a_reload(
    client: Client, pharmacy: Unit, pharmacist: User
) -> None:
    signed_in(client, pharmacist, verified=True)
    page = client.get(f"/sentinel/units/{pharmacy.pk}/counter/")
    assert page.status_code == 200
    assert b"autofocus" in page.content
    assert b"counter.js" in page.content
    body = purchase(client_id="counter-1", doc_number=resident_id(), fever="1")
    answer = client.post(
        f"/sentinel/units/{pharmacy.pk}/counter/", body, headers={"HX-Request": "true"}
    )
    assert answer.status_code == 200
    assert b"<html" not in answer.content  # the partial only
    assert "检测".encode() in answer.content or b"test" in answer.content
    retry = client.post(
        f"/sentinel/units/{pharmacy.pk}/counter/", body, headers={"HX-Request": "true"}
    )
    assert retry.status_code == 200
    assert Registration.objects.count() == 1  # a double submit is stored once


def test_the_counter_page_shows_the_error_on_its_field(
    client: Client, pharmacy: Unit, pharmacist: User
) -> None:
    signed_in(client, pharmacist, verified=True)
    answer = client.post(
        f"/sentinel/units/{pharmacy.pk}/counter/",
        purchase(phone="123"),
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 422
    assert (
        b'name="phone" value="123" required inputmode="tel" aria-invalid="true"' in answer.content
    )
    assert Registration.objects.count() == 0


def test_a_pharmacist_home_goes_to_the_counter(
    client: Client, pharmacy: Unit, pharmacist: User
) -> None:
    signed_in(client, pharmacist, verified=True)
    response = client.get("/sentinel/")
    assert response.status_code == 302
    assert response["Location"] == f"/sentinel/units/{pharmacy.pk}/counter/"


def test_list_pages_use_a_bounded_number_of_queries(
    client: Client, pharmacy: Unit, personas: dict[str, User], system: Actor,
    django_assert_max_num_queries: object,
) -> None:  # fmt: skip
    services.registrations_submit(
        actor=system, unit=pharmacy, items=[purchase() for _ in range(30)], source="api"
    )
    signed_in(client, personas["district_officer"], verified=True)
    for url in (
        "/sentinel/records/",
        "/sentinel/units/",
        "/sentinel/missing/",
        "/sentinel/alerts/",
        "/sentinel/",
    ):
        with django_assert_max_num_queries(25):  # type: ignore[operator]
            assert client.get(url).status_code == 200, url
