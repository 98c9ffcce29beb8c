"""orders_issue_many: each person ends up as order_issue would leave them."""

from __future__ import annotations

import re
from typing import Any

import pytest

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.assignments.models import Assignment
from fangkong.assignments.tests.factories import post
from fangkong.audit.models import AuditEntry
from fangkong.audit.selectors import audit_verify
from fangkong.control import services
from fangkong.control.models import (
    ChangeRequest,
    ControlOrder,
    ControlStatus,
    OrderEvent,
    ScheduledTest,
)
from fangkong.control.tests import factories
from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.jobs.models import Job
from fangkong.people.models import Person
from fangkong.policy.models import RulebookVersion
from fangkong.policy.schema import Category
from fangkong.policy.selectors import rulebook_in_force

BASIS = {"basis_type": "test", "basis_id": "mt-pool:1", "reason": "member of a positive pool"}


def _many(actor: Actor, persons: list[Person], category: Category, **kw: Any) -> list[ControlOrder]:
    return services.orders_issue_many(
        actor=actor,
        persons=persons,
        category=category,
        anchor=factories.TODAY,
        **(BASIS | kw),
    )


def _one(actor: Actor, person: Person, category: Category, **kw: Any) -> ControlOrder:
    return services.order_issue(
        actor=actor, person=person, category=category, anchor=factories.TODAY, **(BASIS | kw)
    )


def _state(person: Person) -> dict[str, Any]:
    """Everything an issue leaves about a person, with ids replaced by their order's rank."""
    orders = list(ControlOrder.objects.filter(person=person).order_by("pk"))
    rank = {o.pk: i for i, o in enumerate(orders)}

    def ids(text: str) -> str:
        # "(order 12)" in titles and reasons, "control.order:12" in keys: the rank instead.
        return re.sub(r"(order[ :]|措施 )(\d+)", lambda m: f"{m[1]}#{rank[int(m[2])]}", text)

    def detail(d: dict[str, Any]) -> dict[str, Any]:
        d = {**d, "person_id": None}
        if "superseded" in d:
            d["superseded"] = [rank[pk] for pk in d["superseded"]]
        if "superseded_by" in d:
            d["superseded_by"] = rank[d["superseded_by"]]
        return d

    skip = {"id", "person", "superseded_by"}
    rows = [
        {f.attname: getattr(o, f.attname) for f in ControlOrder._meta.fields if f.name not in skip}
        | {"superseded_by": rank.get(o.superseded_by_id or 0)}
        for o in orders
    ]
    tests = [
        list(
            ScheduledTest.objects.filter(order=o).order_by("due_on").values_list("due_on", "status")
        )
        for o in orders
    ]
    events = [
        [
            (e.action, e.from_status, e.to_status, ids(e.reason), e.basis_type, e.basis_id)
            for e in OrderEvent.objects.filter(order=o).order_by("pk")
        ]
        for o in orders
    ]
    audit = [
        [
            (e.action, ids(e.reason), e.jurisdiction_path, detail(e.detail))
            for e in AuditEntry.objects.filter(
                target_type="control.controlorder", target_id=str(o.pk)
            ).order_by("seq")
        ]
        for o in orders
    ]
    work = [
        [
            {
                "kind": a.kind,
                "title": ids(a.title),
                "node": a.jurisdiction_id,
                "post": a.post_id,
                "due_at": a.due_at,
                "status": a.status,
                "detail": a.detail,
                "key": ids(a.dedupe_key or ""),
            }
            for a in Assignment.objects.filter(subject_type="control.order", subject_id=str(o.pk))
        ]
        for o in orders
    ]
    jobs = [Job.objects.filter(payload__order_id=o.pk).count() for o in orders]
    status = ControlStatus.objects.filter(person=person).first()
    code = None if status is None else (status.colour, status.jurisdiction_path)
    governing = None if status is None else rank.get(status.order_id or 0)
    return {
        "orders": rows,
        "tests": tests,
        "events": events,
        "audit": audit,
        "work": work,
        "jobs": jobs,
        "code": code,
        "governing": governing,
    }


@pytest.fixture
def grid_worker_post(two_districts: Tree, personas: dict[str, User]) -> None:
    post(two_districts.grid_a, "grid_worker", account_id=personas["grid_worker"].pk)


@pytest.mark.parametrize(
    "category",
    [Category.SECONDARY_CONTACT, Category.CLOSE_CONTACT, Category.KEY_POPULATION],
)
def test_each_person_gets_what_order_issue_gives(
    two_districts: Tree,
    system: Actor,
    book: RulebookVersion,
    grid_worker_post: None,
    category: Category,
) -> None:
    grids = [two_districts.grid_a, two_districts.grid_a2, two_districts.grid_b]
    mine = [factories.person(system, g) for g in grids]
    twins = [factories.person(system, g) for g in grids]
    # One of each starts under a weaker order (superseded), one under a stricter one (absorbs).
    for group in (mine, twins):
        factories.order(system, group[1], Category.COPRESENCE_CONTACT, basis_id="dwell-1")
        factories.order(system, group[2], Category.CONFIRMED_CASE, basis_type="case", basis_id="c1")
    got = _many(system, mine, category)
    want = [_one(system, p, category) for p in twins]
    assert [o.absorbed for o in got] == [o.absorbed for o in want]
    assert [o.person_id for o in got] == [p.pk for p in mine]
    for p, q in zip(mine, twins, strict=True):
        assert _state(p) == _state(q)
    assert audit_verify().ok


def test_fresh_persons_get_an_issued_order_a_duty_and_a_red_or_yellow_code(
    two_districts: Tree, system: Actor, book: RulebookVersion
) -> None:
    persons = [factories.person(system, two_districts.grid_a) for _ in range(3)]
    orders = _many(system, persons, Category.SECONDARY_CONTACT)
    assert {o.status for o in orders} == {"issued"}
    assert not any(o.absorbed for o in orders)
    assert Assignment.objects.filter(kind="isolate_secondary_contact").count() == 3
    assert AuditEntry.objects.filter(action="control.order_issue").count() == 3
    assert ControlStatus.objects.filter(person__in=persons).count() == 3
    assert OrderEvent.objects.filter(action="issued", order__in=orders).count() == 3


def test_a_manual_basis_makes_each_order_wait_for_approval(
    two_districts: Tree, system: Actor, book: RulebookVersion
) -> None:
    persons = [factories.person(system, two_districts.grid_a) for _ in range(2)]
    orders = _many(system, persons, Category.SECONDARY_CONTACT, basis_type="manual", basis_id="")
    assert {o.status for o in orders} == {"pending_approval"}
    assert ChangeRequest.objects.count() == 2
    assert not ControlStatus.objects.exists()


def test_a_person_listed_twice_is_held_once(
    two_districts: Tree, system: Actor, book: RulebookVersion
) -> None:
    p = factories.person(system, two_districts.grid_a)
    first, second = _many(system, [p, p], Category.SECONDARY_CONTACT)
    assert second.pk == first.pk
    assert second.absorbed
    assert ControlOrder.objects.filter(person=p).count() == 1


def test_a_person_outside_the_scope_is_not_found_and_nobody_is_held(
    two_districts: Tree, personas: dict[str, User], book: RulebookVersion, system: Actor
) -> None:
    officer = actor_of(personas["district_officer"])
    inside = factories.person(system, two_districts.grid_a)
    outside = factories.person(system, two_districts.grid_b)
    audit_before = AuditEntry.objects.count()
    with pytest.raises(NotFound):
        _many(officer, [inside, outside], Category.SECONDARY_CONTACT)
    assert not ControlOrder.objects.exists()
    assert not Assignment.objects.exists()
    assert AuditEntry.objects.count() == audit_before


def test_a_merged_person_is_a_conflict_and_nobody_is_held(
    two_districts: Tree, system: Actor, book: RulebookVersion
) -> None:
    kept = factories.person(system, two_districts.grid_a)
    merged = factories.person(system, two_districts.grid_a)
    merged.merged_into_id = kept.pk
    with pytest.raises(Conflict):
        _many(system, [kept, merged], Category.SECONDARY_CONTACT)
    assert not ControlOrder.objects.exists()


def test_a_plan_already_over_is_invalid(
    two_districts: Tree, system: Actor, book: RulebookVersion
) -> None:
    p = factories.person(system, two_districts.grid_a)
    with pytest.raises(Invalid):
        services.orders_issue_many(
            actor=system,
            persons=[p],
            category=Category.ARRIVAL_HIGH_RISK,
            anchor=factories.TODAY.replace(year=2021),
            **BASIS,
        )
    assert not ControlOrder.objects.exists()


def test_statuses_follow_the_active_orders(
    two_districts: Tree, system: Actor, book: RulebookVersion
) -> None:
    held, free = (factories.person(system, two_districts.grid_a) for _ in range(2))
    order = factories.order(system, held)
    ControlStatus.objects.create(
        person=free,
        jurisdiction_path=free.jurisdiction_path,
        colour="red",
        updated_at=order.created_at,
    )
    ControlStatus.objects.filter(person=held).delete()
    services.refresh_control_statuses(person_ids=[held.pk, free.pk], in_force=rulebook_in_force())
    status = ControlStatus.objects.get(person=held)
    assert (status.colour, status.order_id) == ("red", order.pk)
    assert not ControlStatus.objects.filter(person=free).exists()
