"""assignments_create_many: each item ends up as assignment_create would leave it, with a
few statements for the batch."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.assignments import services
from fangkong.assignments.models import Assignment, AssignmentEvent, AssignmentTally
from fangkong.assignments.services import NewAssignment, many
from fangkong.assignments.tests.factories import T0, post
from fangkong.audit.models import AuditEntry
from fangkong.audit.selectors import audit_verify
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.errors import Invalid, NotFound
from fangkong.jobs.models import Job
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.notifications.models import Notification
from fangkong.policy.models import RulebookVersion
from fangkong.policy.schema import Duty

pytestmark = pytest.mark.django_db


def _new(node: Jurisdiction, n: int, **kw: Any) -> NewAssignment:
    values: dict[str, Any] = {
        "kind": "isolate_close_contact",
        "jurisdiction": node,
        "title": f"隔离 {n}",
        "subject_type": "control.order",
        "subject_id": n,
        "person_id": None,
        "duty": Duty.ISOLATE_CLOSE_CONTACT,
        "dedupe_key": f"k:{n}",
        "detail": {"n": n},
    }
    return NewAssignment(**(values | kw))


def _one(actor: Actor, it: NewAssignment, key: str | None) -> Assignment:
    return services.assignment_create(
        actor=actor,
        kind=it.kind,
        jurisdiction=it.jurisdiction,
        title=it.title,
        subject_type=it.subject_type,
        subject_id=it.subject_id,
        person_id=it.person_id,
        due_at=it.due_at,
        duty=it.duty,
        dedupe_key=key,
        detail=it.detail,
    )


def _state(item: Assignment) -> dict[str, Any]:
    """What an item leaves behind, without its key and its id."""
    item = Assignment.objects.get(pk=item.pk)
    skip = {"id", "dedupe_key"}
    row = {
        f.attname: getattr(item, f.attname) for f in Assignment._meta.fields if f.name not in skip
    }
    events = list(
        AssignmentEvent.objects.filter(assignment=item).values_list(
            "action", "actor_label", "from_status", "to_status", "note", "detail", "at"
        )
    )
    audit = list(
        AuditEntry.objects.filter(target_type="assignments.assignment", target_id=str(item.pk))
        .order_by("seq")
        .values_list("action", "actor_label", "jurisdiction_path", "reason", "detail", "at")
    )
    notes = list(
        Notification.objects.filter(link=f"/assignments/{item.pk}/").values_list(
            "user_id", "kind", "subject", "body", "dedupe_key"
        )
    )
    jobs = Job.objects.filter(dedupe_key__contains=f"assignment:{item.pk}:assigned").count()
    return {"row": row, "events": events, "audit": audit, "notes": notes, "jobs": jobs}


@pytest.fixture
def worker_post(two_districts: Tree, personas: dict[str, User]) -> None:
    post(
        two_districts.grid_a,
        "grid_worker",
        account_id=personas["grid_worker"].pk,
        phone="13800138000",
    )


def test_each_item_is_what_assignment_create_makes(
    two_districts: Tree, system: Actor, rulebook: RulebookVersion, worker_post: None
) -> None:
    t = two_districts
    items = [_new(t.grid_a, 1), _new(t.grid_a2, 2), _new(t.grid_b, 3, due_at=T0, duty=None)]
    with clock.frozen(T0):
        many = services.assignments_create_many(actor=system, items=items)
        one = [_one(system, it, key=f"one:{n}") for n, it in enumerate(items)]
    assert [a.dedupe_key for a in many] == ["k:1", "k:2", "k:3"]
    for a, b in zip(many, one, strict=True):
        sa, sb = _state(a), _state(b)
        # The notification names its own item; everything else is the same.
        for s, item in ((sa, a), (sb, b)):
            s["notes"] = [(*n[:4], n[4].replace(str(item.pk), "#")) for n in s["notes"]]
        assert sa == sb
    assert len(_state(many[0])["notes"]) == 1
    assert sa["notes"] == []  # grid B has no post
    assert _state(many[0])["jobs"] == 1  # the SMS to grid A's post
    tally = AssignmentTally.objects.get(node_path="/4409/", kind="isolate_close_contact")
    assert tally.active == 6
    assert audit_verify().ok


def test_a_used_key_returns_the_existing_item_and_writes_nothing_for_it(
    two_districts: Tree, system: Actor, rulebook: RulebookVersion, worker_post: None
) -> None:
    first = _one(system, _new(two_districts.grid_a, 1), key="k:1")
    before = (AuditEntry.objects.count(), Notification.objects.count(), Job.objects.count())
    got = services.assignments_create_many(
        actor=system,
        items=[_new(two_districts.grid_a, 1, title="Other"), _new(two_districts.grid_a, 2)],
    )
    assert got[0].pk == first.pk
    assert got[0].title == "隔离 1"
    assert Assignment.objects.count() == 2
    after = (AuditEntry.objects.count(), Notification.objects.count(), Job.objects.count())
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, 1, 1]  # item 2 only


def test_a_key_twice_in_one_call_makes_one_item(
    two_districts: Tree, system: Actor, rulebook: RulebookVersion
) -> None:
    got = services.assignments_create_many(
        actor=system,
        items=[_new(two_districts.grid_a, 1), _new(two_districts.grid_a, 1, title="Again")],
    )
    assert got[0].pk == got[1].pk
    assert Assignment.objects.count() == 1
    assert AuditEntry.objects.filter(action="assignments.create").count() == 1


def test_a_key_taken_by_a_concurrent_call_falls_back_item_by_item(
    two_districts: Tree, system: Actor, rulebook: RulebookVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = _one(system, _new(two_districts.grid_a, 1), key="k:1")
    # As if the other transaction committed between the read of the keys and the insert.
    monkeypatch.setattr(many, "_by_key", lambda items: {})
    got = services.assignments_create_many(
        actor=system, items=[_new(two_districts.grid_a, 1), _new(two_districts.grid_a, 2)]
    )
    assert got[0].pk == taken.pk
    assert got[1].dedupe_key == "k:2"
    assert Assignment.objects.count() == 2
    assert AuditEntry.objects.filter(action="assignments.create").count() == 2
    assert AssignmentTally.objects.get(node_path="/4409/", kind="isolate_close_contact").active == 2


def test_a_node_outside_the_scope_is_not_found_and_nothing_is_written(
    two_districts: Tree, personas: dict[str, User], rulebook: RulebookVersion
) -> None:
    officer = actor_of(personas["district_officer"])
    with pytest.raises(NotFound):
        services.assignments_create_many(
            actor=officer, items=[_new(two_districts.grid_a, 1), _new(two_districts.grid_b, 2)]
        )
    assert not Assignment.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="assignments.").exists()
    assert not AssignmentTally.objects.exists()
    assert not Job.objects.exists()


def test_a_bad_item_is_invalid_and_nothing_is_written(
    two_districts: Tree, system: Actor, rulebook: RulebookVersion
) -> None:
    with pytest.raises(Invalid):
        services.assignments_create_many(
            actor=system,
            items=[_new(two_districts.grid_a, 1), _new(two_districts.grid_a, 2, kind="Bad Kind")],
        )
    with pytest.raises(Invalid):
        services.assignments_create_many(
            actor=system, items=[_new(two_districts.grid_a, 3, duty=None)]
        )
    assert not Assignment.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="assignments.").exists()


def test_each_node_gets_its_levels_primary_post(
    two_districts: Tree, system: Actor, rulebook: RulebookVersion
) -> None:
    t = two_districts
    post(t.grid_a, "building_leader")
    post(t.grid_a, "grid_worker", is_primary=False, holder_name="副职")
    grid = post(t.grid_a, "grid_worker")
    town = post(t.town_a, "town_lead")
    post(t.town_a, "grid_worker")
    got = services.assignments_create_many(
        actor=system,
        items=[_new(t.grid_a, 1), _new(t.town_a, 2), _new(t.grid_b, 3), _new(t.grid_a, 4)],
    )
    assert [a.post_id for a in got] == [grid.pk, town.pk, None, grid.pk]


def test_an_empty_batch_writes_nothing(system: Actor, db: None) -> None:
    assert services.assignments_create_many(actor=system, items=[]) == []
    assert not AuditEntry.objects.exists()
