"""The hold of a positive pool, set-based: each member ends up exactly as the one-by-one hold
(order_issue and assignment_create per member) left them, in a bounded number of statements."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import Tree
from fangkong.assignments import services as assignments
from fangkong.assignments.models import Assignment, AssignmentEvent, AssignmentTally
from fangkong.audit.models import AuditEntry
from fangkong.audit.selectors import audit_verify
from fangkong.control import services as control
from fangkong.control.models import ControlOrder, ControlStatus, OrderEvent, ScheduledTest
from fangkong.control.tests import factories as cf
from fangkong.core import clock
from fangkong.core.actor import Actor, system_actor
from fangkong.jobs.models import Job
from fangkong.mass_testing import services
from fangkong.mass_testing.models import PositivePool, Retest, Round
from fangkong.mass_testing.services._common import SUBJECT_RETEST, section
from fangkong.mass_testing.services.pools import RETEST_KIND
from fangkong.mass_testing.tests import factories as f
from fangkong.notifications.models import Notification
from fangkong.people.models import Person
from fangkong.policy.models import RulebookVersion
from fangkong.policy.schema import Category, Duty


def _pool(system: Actor, rnd: Round, members: list[Person], barcode: str) -> PositivePool:
    scans = [f.scan(p, barcode, close_tube=i == len(members) - 1) for i, p in enumerate(members)]
    assert {a.outcome for a in f.ingest(system, rnd, scans)} == {"accepted"}
    services.results_submit(
        actor=system, lab="lab", batch_id=barcode, results=[f.result(barcode, "positive")]
    )
    return PositivePool.objects.get(tube__barcode=barcode)


def _hold_one_by_one(pool_id: int) -> None:
    """The members' part of the hold as it was before the bulk services (the reference)."""
    actor = system_actor("mass_testing")
    pool = PositivePool.objects.select_related("tube").get(pk=pool_id)
    book, _version = section()
    for rt in Retest.objects.filter(pool=pool, assignment_id__isnull=True).select_related(
        "person__grid"
    ):
        order = control.order_issue(
            actor=actor,
            person=rt.person,
            category=book.hold_category,
            anchor=clock.local_date(),
            basis_type="test",
            basis_id=f"mt-pool:{pool.pk}",
            reason=f"member of positive pool tube {pool.tube.barcode}: held until the retest",
        )
        rt.hold_order_id = None if order.absorbed else order.pk
        assert rt.person.grid is not None
        item = assignments.assignment_create(
            actor=actor,
            kind=RETEST_KIND,
            jurisdiction=rt.person.grid,
            title=f"单管复核：混管 {pool.tube.barcode} 阳性",
            subject_type=SUBJECT_RETEST,
            subject_id=rt.pk,
            person_id=rt.person_id,
            duty=Duty.RETEST_POSITIVE_POOL,
            dedupe_key=f"mt-retest:{rt.pk}",
            detail={"pool_id": pool.pk, "barcode": pool.tube.barcode},
        )
        rt.assignment_id = item.pk
        rt.save(update_fields=["hold_order_id", "assignment_id"])


def _member(rt: Retest) -> dict[str, Any]:
    """What the hold left about one member, with ids, pool and tube made relative."""
    orders = list(ControlOrder.objects.filter(person_id=rt.person_id).order_by("pk"))
    rank = {o.pk: i for i, o in enumerate(orders)}
    items = [
        *Assignment.objects.filter(subject_type="control.order", subject_id__in=rank),
        *Assignment.objects.filter(subject_type=SUBJECT_RETEST, subject_id=str(rt.pk)),
    ]

    def rel(text: str) -> str:
        text = re.sub(r"TUBE\d+", "TUBE", text).replace(f"mt-pool:{rt.pool_id}", "mt-pool:#")
        text = text.replace(f"'pool_id': {rt.pool_id}", "'pool_id': #")
        text = text.replace(f"retest:{rt.pk}'", "retest:#'").replace(f"retest:{rt.pk}", "retest:#")
        return re.sub(r"(order[ :]|措施 )(\d+)", lambda m: f"{m[1]}#{rank[int(m[2])]}", text)

    def order_row(o: ControlOrder) -> dict[str, Any]:
        skip = {"id", "person", "superseded_by"}
        row = {f.attname: getattr(o, f.attname) for f in o._meta.fields if f.name not in skip}
        return row | {"basis_id": rel(o.basis_id), "reason": rel(o.reason)}

    def audit(target_type: str, pk: int) -> list[tuple[str, str, str, str]]:
        out = []
        for e in AuditEntry.objects.filter(target_type=target_type, target_id=str(pk)):
            detail = e.detail | {"person_id": 0}
            if "superseded_by" in detail:
                detail["superseded_by"] = rank[detail["superseded_by"]]
            if "superseded" in detail:
                detail["superseded"] = [rank[o] for o in detail["superseded"]]
            out.append((e.action, rel(e.reason), e.jurisdiction_path, rel(str(detail))))
        return out

    status = ControlStatus.objects.filter(person_id=rt.person_id).first()
    fresh = Retest.objects.get(pk=rt.pk)
    return {
        "orders": [order_row(o) for o in orders],
        "tests": [
            sorted(ScheduledTest.objects.filter(order=o).values_list("due_on")) for o in orders
        ],
        "events": [
            sorted(
                (e.action, e.from_status, e.to_status, rel(e.reason), rel(e.basis_id))
                for e in OrderEvent.objects.filter(order=o)
            )
            for o in orders
        ],
        "order_audit": [audit("control.controlorder", o.pk) for o in orders],
        "status": status
        and (status.colour, status.jurisdiction_path, rank.get(status.order_id or 0)),
        "work": sorted(
            (
                a.kind,
                rel(a.title),
                a.jurisdiction_id,
                a.post_id,
                a.due_at,
                a.status,
                rel(str(a.detail)),
                rel(a.dedupe_key or ""),
                sorted(
                    AssignmentEvent.objects.filter(assignment=a).values_list("action", "to_status")
                ),
                audit("assignments.assignment", a.pk),
                Notification.objects.filter(link=f"/assignments/{a.pk}/").count(),
            )
            for a in items
        ),
        "retest": (
            rank.get(fresh.hold_order_id or 0) if fresh.hold_order_id else None,
            fresh.assignment_id in {a.pk for a in items},
        ),
    }


@pytest.fixture
def crowds(
    book: RulebookVersion, two_districts: Tree, system: Actor, personas: dict[str, Any]
) -> tuple[list[Person], list[Person]]:
    """Two alike groups of five: the same grids, one under a weaker order (superseded by the
    hold), one under a stricter one (absorbs it); grid A's post has an account and a phone."""
    from fangkong.assignments.tests.factories import post

    t = two_districts
    post(t.grid_a, "grid_worker", account_id=personas["grid_worker"].pk, phone="13800138000")
    grids = [t.grid_a, t.grid_a, t.grid_a2, t.grid_a, t.grid_a2]
    groups = ([f.person(system, g) for g in grids], [f.person(system, g) for g in grids])
    for group in groups:
        cf.order(system, group[1], Category.COPRESENCE_CONTACT, basis_id="dwell-1")
        cf.order(system, group[3], Category.CLOSE_CONTACT, basis_id="contact-1")
    return groups


def test_each_member_ends_as_the_one_by_one_hold_left_them(
    two_districts: Tree, system: Actor, crowds: tuple[list[Person], list[Person]]
) -> None:
    rnd = f.round_(system, two_districts)
    bulk = _pool(system, rnd, crowds[0], "TUBE0101")
    reference = _pool(system, rnd, crowds[1], "TUBE0102")
    assert services.pool_hold(pool_id=bulk.pk) == 5
    _hold_one_by_one(reference.pk)
    got = [_member(rt) for rt in Retest.objects.filter(pool=bulk).order_by("person_id")]
    want = [_member(rt) for rt in Retest.objects.filter(pool=reference).order_by("person_id")]
    assert got == want
    # The member under a stricter order is absorbed: no hold of ours to lift later.
    absorbed = Retest.objects.get(pool=bulk, person=crowds[0][3])
    assert absorbed.hold_order_id is None
    assert Retest.objects.filter(pool=bulk, hold_order_id__isnull=False).count() == 4
    assert audit_verify().ok


def test_every_hold_is_audited_with_its_reason_and_basis(
    two_districts: Tree, system: Actor, crowds: tuple[list[Person], list[Person]]
) -> None:
    pool = _pool(system, f.round_(system, two_districts), crowds[0], "TUBE0103")
    services.pool_hold(pool_id=pool.pk)
    holds = ControlOrder.objects.filter(basis_id=f"mt-pool:{pool.pk}", status="issued")
    assert holds.count() == 4
    for order in holds:
        entry = AuditEntry.objects.get(action="control.order_issue", target_id=str(order.pk))
        assert entry.reason == "member of positive pool tube TUBE0103: held until the retest"
        assert (entry.detail["basis_type"], entry.detail["basis_id"]) == ("test", order.basis_id)
        assert entry.jurisdiction_path == order.jurisdiction_path
        assert ControlStatus.objects.get(person_id=order.person_id).colour in {"red", "yellow"}
    absorbed = AuditEntry.objects.get(action="control.order_absorb")
    assert absorbed.detail["basis_id"] == f"mt-pool:{pool.pk}"
    created = AuditEntry.objects.filter(action="assignments.create", actor_label="mass_testing")
    assert created.count() == 5 + 4  # a retest for each, a duty for each order issued
    assert AuditEntry.objects.filter(action="mass_testing.pool_hold").count() == 1


def _counts() -> dict[str, int]:
    models = [
        ControlOrder,
        OrderEvent,
        ScheduledTest,
        ControlStatus,
        Assignment,
        AssignmentEvent,
        Notification,
        Job,
    ]
    tally = sum(AssignmentTally.objects.values_list("active", flat=True))
    return {m.__name__: m._default_manager.count() for m in models} | {"tally": tally}


def test_running_the_job_twice_holds_nobody_twice(
    two_districts: Tree, system: Actor, crowds: tuple[list[Person], list[Person]]
) -> None:
    pool = _pool(system, f.round_(system, two_districts), crowds[0], "TUBE0104")
    assert services.pool_hold(pool_id=pool.pk) == 5
    before = _counts()
    holds = dict(Retest.objects.filter(pool=pool).values_list("pk", "hold_order_id"))
    assert services.pool_hold(pool_id=pool.pk) == 0
    assert _counts() == before
    assert dict(Retest.objects.filter(pool=pool).values_list("pk", "hold_order_id")) == holds


def test_a_pool_of_ten_is_held_in_a_bounded_number_of_statements(
    book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    members = [f.person(system, two_districts.grid_a) for _ in range(10)]
    pool = _pool(system, f.round_(system, two_districts), members, "TUBE0105")
    with CaptureQueriesContext(connection) as ctx:
        assert services.pool_hold(pool_id=pool.pk) == 10
    # One by one this took 551 statements here (no post to notify). Now about 190,
    # nearly all of them the 31 audit entries (the chain is appended row by row, 5 each).
    assert len(ctx.captured_queries) <= 220
    assert Assignment.objects.filter(kind=RETEST_KIND).count() == 10
    assert Assignment.objects.filter(kind="isolate_secondary_contact").count() == 10
