"""Retention: who is shredded when, what stays, and the trail it leaves."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.assignments.models import Assignment
from fangkong.audit.models import AuditEntry
from fangkong.audit.selectors import audit_verify
from fangkong.control.models import ControlOrder, OrderStatus
from fangkong.control.tests import factories
from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, NotAllowed
from fangkong.jobs.models import Job
from fangkong.maintenance import ledger, retention
from fangkong.maintenance.models import PurgeRecord
from fangkong.notifications.models import Notification, OutboundMessage
from fangkong.people import selectors
from fangkong.people import services as people
from fangkong.people.models import Person, PersonNote
from fangkong.people.tests.factories import resident_id
from fangkong.policy.models import RulebookVersion

NOW = factories.NOW
LONG_AGO = NOW - dt.timedelta(days=200)


def _ended(actor: Actor, person: Person, *, at: dt.datetime = LONG_AGO) -> ControlOrder:
    """An order for the person, released at `at`, its work closed (test setup, not a service)."""
    order = factories.order(actor, person)
    ControlOrder.objects.filter(pk=order.pk).update(
        status=OrderStatus.RELEASED, released_at=at, updated_at=at, basis_note="seen at 4 Elm St"
    )
    Assignment.objects.filter(person=person).update(closed_at=at, status="done")
    return order


def _register(system: Actor, tree: Tree, name: str, phone: str) -> tuple[Person, str]:
    number = resident_id()
    person, _ = people.person_register(
        actor=system,
        doc_type="resident_id",
        doc_number=number,
        name=name,
        phone=phone,
        address="明镜巷77号",
        grid=tree.grid_a,
    )
    return person, number


@pytest.fixture
def city(book: RulebookVersion, two_districts: Tree, system: Actor) -> dict[str, Person]:
    t = two_districts
    done, _ = _register(system, t, "欧阳明镜", "13912398765")
    _ended(system, done)
    people.person_note_add(actor=system, person=done, text="门口有狗")
    recent = factories.person(system, t.grid_a)
    _ended(system, recent, at=NOW - dt.timedelta(days=10))
    active = factories.person(system, t.grid_a)
    _ended(system, active)
    factories.order(system, active)  # under control again
    open_work = factories.person(system, t.grid_a)
    _ended(system, open_work)
    Assignment.objects.create(
        kind="home_visit",
        title="visit",
        subject_type="x",
        subject_id="1",
        person=open_work,
        jurisdiction=t.grid_a,
        jurisdiction_path=t.grid_a.path,
        jurisdiction_level=t.grid_a.level,
        due_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )
    never = factories.person(system, t.grid_a)
    return {"done": done, "recent": recent, "active": active, "open": open_work, "never": never}


def test_a_person_past_retention_is_shredded_and_only_they_are(
    city: dict[str, Person], system: Actor, tmp_path: Path
) -> None:
    done = city["done"]
    report = retention.retention_run(actor=system)

    assert report.counts["person"] == 1
    row = Person.objects.get(pk=done.pk)
    assert (row.name, row.doc_number, row.phone, row.address) == ("", "", "", "")
    assert row.birth_date is None
    assert (row.doc_bidx, row.name_bidx, row.phone_bidx) == (f"purged:{done.pk}", "", "")
    assert not PersonNote.objects.filter(person=done).exists()
    # The row and its references stay: the trail is pseudonymous, not gone.
    assert ControlOrder.objects.filter(person=done).exists()
    for key in ("recent", "active", "open", "never"):
        kept = Person.objects.get(pk=city[key].pk)
        assert kept.name == "测试人", key
        assert not kept.doc_bidx.startswith("purged:"), key


def test_a_shredded_person_is_not_found_by_any_lookup(
    city: dict[str, Person], system: Actor
) -> None:
    retention.retention_run(actor=system)
    scope = system.scope
    assert selectors.person_find_by_phone(scope=scope, phone="13912398765") == []
    assert selectors.person_find_by_name(scope=scope, name="欧阳明镜") == []


def test_the_same_document_number_can_be_registered_again_after_a_purge(
    book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    person, number = _register(system, two_districts, "皇甫雪莲", "15011223344")
    _ended(system, person)
    retention.retention_run(actor=system)
    again, created = people.person_register(
        actor=system,
        doc_type="resident_id",
        doc_number=number,
        name="皇甫雪莲",
        grid=two_districts.grid_a,
    )
    assert created
    assert again.pk != person.pk


def test_a_run_leaves_a_report_a_ledger_line_a_purge_record_and_one_audit_entry(
    city: dict[str, Person], system: Actor, tmp_path: Path
) -> None:
    before = AuditEntry.objects.count()
    report = retention.retention_run(actor=system, report_path=tmp_path / "r.json")

    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["counts"]["person"] == 1
    assert saved["run_id"] == report.run_id
    [line] = list(ledger.entries())
    assert line.ids == [city["done"].pk]
    assert line.run == report.run_id
    record = PurgeRecord.objects.get()
    assert (record.object_id, record.reason) == (city["done"].pk, "control_released")
    entries = AuditEntry.objects.filter(action="maintenance.retention_run")
    assert AuditEntry.objects.count() == before + 1
    assert entries.get().detail["counts"]["person"] == 1
    assert audit_verify().ok


def test_a_second_run_purges_nothing_more(
    city: dict[str, Person], system: Actor, two_districts: Tree
) -> None:
    more = factories.person(system, two_districts.grid_a)
    _ended(system, more)
    first = retention.retention_run(actor=system, chunk_size=1)  # one person per chunk
    assert first.counts["person"] == 2
    assert len(list(ledger.entries())) == 2
    again = retention.retention_run(actor=system)
    assert again.counts["person"] == 0
    assert len(list(ledger.entries())) == 2


def test_a_dry_run_counts_and_changes_nothing(city: dict[str, Person], system: Actor) -> None:
    audit_before = AuditEntry.objects.count()
    report = retention.retention_run(actor=system, dry_run=True)
    assert report.counts["person"] == 1
    assert Person.objects.get(pk=city["done"].pk).name == "欧阳明镜"
    assert not PurgeRecord.objects.exists()
    assert list(ledger.entries()) == []
    assert AuditEntry.objects.count() == audit_before
    assert Path(report.report_path).exists()


def test_order_notes_and_expired_records_go_recent_ones_stay(
    city: dict[str, Person], system: Actor, personas: dict[str, User]
) -> None:
    user = personas["grid_worker"]
    old, new = NOW - dt.timedelta(days=400), NOW - dt.timedelta(days=1)
    for at in (old, new):
        Notification.objects.create(user=user, subject="s", created_at=at)
        OutboundMessage.objects.create(
            channel="sms",
            recipient="13912398765",
            body="b",
            status="sent",
            delivery_key=f"k{at:%s}",
            created_at=at,
        )
        Job.objects.create(
            name="x", status=Job.Status.DONE, run_after=at, created_at=at, finished_at=at
        )
    note = people.person_note_add(actor=system, person=city["never"], text="旧笔记")
    PersonNote.objects.filter(pk=note.pk).update(created_at=old)

    report = retention.retention_run(actor=system)

    assert report.counts["notification"] == 1
    assert report.counts["outbound_message"] == 1
    assert report.counts["done_job"] == 1
    assert report.counts["person_note"] == 1
    assert Notification.objects.filter(created_at=new).count() == 1
    assert OutboundMessage.objects.filter(created_at=new).count() == 1
    # Orders ended long ago lose their free-text note but keep their accountability reason.
    ended = ControlOrder.objects.filter(person=city["recent"]).get()
    assert ended.basis_note == "seen at 4 Elm St"  # ended 10 days ago: kept
    old_order = ControlOrder.objects.filter(person=city["done"]).get()
    assert old_order.basis_note == ""
    assert old_order.reason


def test_a_merged_duplicate_is_shredded_after_the_period(
    book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    survivor = factories.person(system, two_districts.grid_a)
    duplicate = factories.person(system, two_districts.grid_a)
    people.person_merge(actor=system, survivor=survivor, duplicate=duplicate, reason="same")
    assert retention.retention_run(actor=system).counts["merged_duplicate"] == 0
    Person.objects.filter(pk=duplicate.pk).update(updated_at=LONG_AGO)
    assert retention.retention_run(actor=system).counts["merged_duplicate"] == 1
    assert Person.objects.get(pk=duplicate.pk).name == ""
    assert Person.objects.get(pk=survivor.pk).name == "测试人"


def test_an_erasure_shreds_now_but_not_someone_under_control(
    city: dict[str, Person], system: Actor
) -> None:
    assert (
        retention.person_purge(actor=system, person_ids=[city["never"].pk], reason="PIPL 47") == 1
    )
    assert Person.objects.get(pk=city["never"].pk).name == ""
    assert PurgeRecord.objects.get().reason == "erasure"
    with pytest.raises(Conflict):
        retention.person_purge(actor=system, person_ids=[city["active"].pk], reason="ask")
    assert Person.objects.get(pk=city["active"].pk).name == "测试人"


def test_only_an_operator_may_purge(city: dict[str, Person], personas: dict[str, User]) -> None:
    commander = actor_of(personas["city_commander"])
    with pytest.raises(NotAllowed):
        retention.retention_run(actor=commander)
    with pytest.raises(NotAllowed):
        retention.person_purge(actor=commander, person_ids=[city["never"].pk], reason="x")
    assert Person.objects.get(pk=city["done"].pk).name == "欧阳明镜"


def test_the_ledger_reapplies_to_the_same_row_only(
    book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    same = factories.person(system, two_districts.grid_a)
    reused = factories.person(system, two_districts.grid_a)
    ledger.append(
        run="r1",
        category=retention.PERSON,
        reason="erasure",
        ids=[same.pk, reused.pk],
        created=[ledger.stamp(same.created_at), "2021-01-01T00:00:00+00:00"],
    )
    assert retention.ledger_reapply(actor=system) == 1
    assert Person.objects.get(pk=same.pk).name == ""
    # Same id, another row (created after the entry's purge): left alone.
    assert Person.objects.get(pk=reused.pk).name == "测试人"
    assert PurgeRecord.objects.get().object_id == same.pk
    assert audit_verify().ok


def test_the_command_runs_and_shows_the_policy(
    city: dict[str, Person], capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("retention", "show")
    call_command("retention", "run", "--dry-run")
    out = capsys.readouterr().out
    assert "person: 90 days" in out
    assert "would purge: person 1" in out
