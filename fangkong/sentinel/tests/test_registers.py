"""Registration: validation, idempotent batches, the 48 h rule, repeat and proxy buyers,
on-the-spot sampling."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.assignments.models import Assignment
from fangkong.audit.models import AuditEntry
from fangkong.core.actor import Actor
from fangkong.core.errors import NotFound
from fangkong.people.tests.factories import person as make_person
from fangkong.people.tests.factories import resident_id
from fangkong.sentinel import services
from fangkong.sentinel.models import DailyReport, Registration, Unit
from fangkong.sentinel.tests import factories
from fangkong.sentinel.tests.factories import NOW, purchase

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


def _id(item: services.ItemResult) -> int:
    assert item.id is not None
    return item.id


def _aid(item: services.ItemResult) -> int:
    assert item.assignment_id is not None
    return item.assignment_id


def _submit(actor: Actor, unit: Unit, *records: dict[str, Any]) -> services.BatchResult:
    return services.registrations_submit(actor=actor, unit=unit, items=records, source="api")


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        ({"doc_number": ""}, "doc_number", "Document number is required"),
        ({"doc_number": "440902199001010010"}, "doc_number", "ID number fails its check digit (GB 11643 MOD 11-2)"),
        ({"name": "  "}, "name", "Name is required"),
        ({"phone": ""}, "phone", "Phone is required"),
        ({"phone": "12345"}, "phone", "Phone '12345' is not an 11-digit mainland mobile number"),
        ({"drug_class": ""}, "drug_class", "Drug class is required"),
        ({"drug_class": "vitamin"}, "drug_class", "Unknown drug class 'vitamin' (antipyretic, cough, antiviral, antibiotic)"),
        ({"quantity": "0"}, "quantity", "Quantity must lie between 1 and 100"),
        ({"quantity": "two"}, "quantity", "Quantity must be a whole number"),
        ({"temperature": "45"}, "temperature", "Temperature must lie between 34.0 and 43.0 ℃"),
        ({"temperature": "hot"}, "temperature", "Temperature must be a number in ℃"),
        ({"for_other": True}, "for_name", "Say for whom the drugs were bought"),
        ({"sampled": True}, "sample_ref", "On-the-spot sampling needs the sample barcode"),
        ({"occurred_at": "2022-01-21T12:00:00+08:00"}, "occurred_at", "The time lies in the future"),
        ({"occurred_at": "2021-11-01T12:00:00+08:00"}, "occurred_at", "The time is more than 30 days ago"),
        ({"occurred_at": "yesterday"}, "occurred_at", "Time must look like 2022-01-20 09:30 (or ISO 8601)"),
        ({"fever": "maybe"}, "fever", "fever must be yes or no"),
    ],
)  # fmt: skip
def test_a_bad_record_is_refused_with_its_field_and_message(
    pharmacy: Unit, pharmacist: User, override: dict[str, Any], field: str, message: str
) -> None:
    result = _submit(actor_of(pharmacist), pharmacy, purchase(**override))
    [item] = result.items
    assert (item.status, item.field, item.message) == ("invalid", field, message)
    assert Registration.objects.count() == 0


def test_a_batch_stores_the_valid_records_and_names_the_bad_ones(
    pharmacy: Unit, pharmacist: User
) -> None:
    result = _submit(
        actor_of(pharmacist),
        pharmacy,
        purchase(client_id="a"),
        purchase(client_id="b", phone="1"),
        purchase(client_id="c", drug_class="cough"),
    )
    assert [i.status for i in result.items] == ["accepted", "invalid", "accepted"]
    assert result.items[1].client_id == "b"
    assert Registration.objects.count() == 2
    report = DailyReport.objects.get(unit=pharmacy, day=NOW.date())
    assert (report.records, report.zero) == (2, False)


def test_a_retried_batch_is_not_counted_twice(pharmacy: Unit, pharmacist: User) -> None:
    actor = actor_of(pharmacist)
    records = [purchase(client_id=f"pos-{i}") for i in range(3)]
    first = _submit(actor, pharmacy, *records)
    again = _submit(actor, pharmacy, *records, purchase(client_id="pos-3"))
    assert [i.status for i in first.items] == ["accepted"] * 3
    assert [i.status for i in again.items] == ["duplicate"] * 3 + ["accepted"]
    assert [i.id for i in again.items[:3]] == [i.id for i in first.items]
    assert Registration.objects.count() == 4
    assert DailyReport.objects.get(unit=pharmacy, day=NOW.date()).records == 4


def test_the_same_client_id_twice_in_one_batch_is_stored_once(
    pharmacy: Unit, pharmacist: User
) -> None:
    result = _submit(
        actor_of(pharmacist), pharmacy, purchase(client_id="x"), purchase(client_id="x")
    )
    assert [i.status for i in result.items] == ["accepted", "duplicate"]
    assert result.items[0].id == result.items[1].id
    assert Registration.objects.count() == 1


def test_client_ids_are_per_unit(
    pharmacy: Unit, pharmacist: User, two_districts: Tree, system: Actor
) -> None:
    other = factories.unit(system, two_districts.grid_a2)
    _submit(actor_of(pharmacist), pharmacy, purchase(client_id="1"))
    result = _submit(system, other, purchase(client_id="1"))
    assert result.items[0].status == "accepted"


@pytest.mark.parametrize(
    ("tested_before", "result", "expected"),
    [
        (48 * H, "negative", "recent_negative"),  # exactly 48 h ago still counts
        (48 * H + dt.timedelta(seconds=1), "negative", "assigned"),
        (2 * H, "negative", "recent_negative"),
        (2 * H, "pending", "assigned"),
        (2 * H, "positive", "assigned"),
    ],
)
def test_the_48_hour_rule(  # noqa: PLR0917 - fixtures and parameters
    pharmacy: Unit,
    pharmacist: User,
    two_districts: Tree,
    system: Actor,
    tested_before: dt.timedelta,
    result: str,
    expected: str,
) -> None:
    buyer = make_person(system, two_districts.grid_b)
    factories.negative_test(buyer, NOW - tested_before, result=result)
    [item] = _submit(actor_of(pharmacist), pharmacy, purchase(doc_number=buyer.doc_number)).items
    assert item.test_status == expected
    work = Assignment.objects.filter(kind="follow_up_drug_buyer")
    if expected == "assigned":
        # The requirement lands on the grid where the buyer lives (district B), not the
        # pharmacy's grid.
        [a] = work
        assert (a.jurisdiction_path, a.person_id) == (two_districts.grid_b.path, buyer.pk)
        assert item.assignment_id == a.pk
    else:
        assert not work.exists()


def test_an_unknown_buyer_is_followed_up_by_the_pharmacy_grid(
    pharmacy: Unit, pharmacist: User, two_districts: Tree
) -> None:
    [item] = _submit(actor_of(pharmacist), pharmacy, purchase()).items
    assert item.test_status == "assigned"
    a = Assignment.objects.get(pk=_aid(item))
    assert a.jurisdiction_path == two_districts.grid_a.path
    assert a.person_id is None
    assert a.detail["registered_person"] is False


def test_one_requirement_per_buyer_and_day(pharmacy: Unit, pharmacist: User) -> None:
    doc = resident_id()
    actor = actor_of(pharmacist)
    first = _submit(actor, pharmacy, purchase(doc_number=doc)).items[0]
    second = _submit(actor, pharmacy, purchase(doc_number=doc, drug_class="cough")).items[0]
    assert first.assignment_id == second.assignment_id
    assert Assignment.objects.filter(kind="follow_up_drug_buyer").count() == 1


def test_on_the_spot_sampling_needs_no_grid_work(pharmacy: Unit, pharmacist: User) -> None:
    [item] = _submit(
        actor_of(pharmacist), pharmacy, purchase(sampled="是", sample_ref="SP-001")
    ).items
    assert item.test_status == "sampled"
    assert not Assignment.objects.exists()
    reg = Registration.objects.get(pk=_id(item))
    assert (reg.sample_ref, reg.sampled_at) == ("SP-001", NOW)


def test_sampling_recorded_later_closes_the_grid_work(pharmacy: Unit, pharmacist: User) -> None:
    actor = actor_of(pharmacist)
    [item] = _submit(actor, pharmacy, purchase()).items
    reg = Registration.objects.get(pk=_id(item))
    services.registration_sample_record(
        actor=actor, registration=reg, unit=pharmacy, sample_ref="T9"
    )
    reg.refresh_from_db()
    assert reg.test_status == "sampled"
    assert Assignment.objects.get(pk=_aid(item)).status == "done"


def test_repeat_buyers_are_flagged_within_the_window(pharmacy: Unit, pharmacist: User) -> None:
    doc = resident_id()
    actor = actor_of(pharmacist)
    old = purchase(doc_number=doc, occurred_at=(NOW - dt.timedelta(days=8)).isoformat())
    assert _submit(actor, pharmacy, old).items[0].repeat_buyer is False
    # Eight days ago is outside the 7-day window: the next one is a first purchase again.
    assert _submit(actor, pharmacy, purchase(doc_number=doc)).items[0].repeat_buyer is False
    assert _submit(actor, pharmacy, purchase(doc_number=doc)).items[0].repeat_buyer is True


def test_repeat_buyers_are_flagged_across_pharmacies_and_within_one_batch(
    pharmacy: Unit, pharmacist: User, two_districts: Tree, system: Actor
) -> None:
    doc = resident_id()
    other = factories.unit(system, two_districts.grid_b)
    _submit(system, other, purchase(doc_number=doc))
    items = _submit(
        actor_of(pharmacist), pharmacy, purchase(doc_number=doc), purchase(doc_number=doc)
    ).items
    assert [i.repeat_buyer for i in items] == [True, True]


def test_buying_for_others_is_flagged_from_the_second_time(
    pharmacy: Unit, pharmacist: User
) -> None:
    doc = resident_id()
    actor = actor_of(pharmacist)
    first = _submit(actor, pharmacy, purchase(doc_number=doc, for_other=True, for_name="母亲"))
    second = _submit(actor, pharmacy, purchase(doc_number=doc, for_other="yes", for_name="父亲"))
    assert first.items[0].proxy_buyer is False
    assert second.items[0].proxy_buyer is True
    reg = Registration.objects.get(pk=_id(second.items[0]))
    assert reg.for_other
    assert reg.for_name == "父亲"


def test_identity_is_stored_encrypted(pharmacy: Unit, pharmacist: User) -> None:
    from django.db import connection

    doc = resident_id()
    _submit(actor_of(pharmacist), pharmacy, purchase(doc_number=doc))
    with connection.cursor() as cur:
        cur.execute("SELECT doc_number, name, phone FROM sentinel_registration")
        row = cur.fetchone()
    assert doc not in row[0]
    assert "张三" not in row[1]
    assert "13800138000" not in row[2]


def test_a_pharmacist_reports_only_for_their_own_unit(
    pharmacy: Unit, pharmacist: User, two_districts: Tree, system: Actor
) -> None:
    neighbour = factories.unit(system, two_districts.grid_a)
    with pytest.raises(NotFound):
        _submit(actor_of(pharmacist), neighbour, purchase())
    assert Registration.objects.count() == 0


def test_a_clinic_files_visits_with_fever_streams(fever_clinic: Unit, system: Actor) -> None:
    result = _submit(
        system,
        fever_clinic,
        {
            "doc_number": resident_id(),
            "name": "李四",
            "phone": "13900139000",
            "temperature": "37.3",
        },
        {"doc_number": resident_id(), "name": "王五", "phone": "13900139001", "cough": True},
    )
    streams = list(Registration.objects.order_by("pk").values_list("kind", "stream"))
    assert [i.status for i in result.items] == ["accepted", "accepted"]
    assert streams == [("visit", "fever_visit"), ("visit", "visit")]


def test_every_batch_leaves_one_audit_row(pharmacy: Unit, pharmacist: User) -> None:
    _submit(actor_of(pharmacist), pharmacy, purchase(), purchase(phone=""))
    entry = AuditEntry.objects.get(action="sentinel.registrations_submit")
    assert entry.detail == {"source": "api", "accepted": 1, "duplicate": 0, "invalid": 1}
