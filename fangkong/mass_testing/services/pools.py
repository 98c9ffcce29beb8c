"""Positive pools: hold the members, hand out single-tube retests, resolve with the retests'
results (the positive person becomes a case, the others are released); positive single tubes.

The hold and the retest duties run as a job right after the result's transaction commits,
with the system actor: a lab's account may record results, not put people under control.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse

from fangkong.assignments import services as assignments
from fangkong.audit.services import record
from fangkong.control import services as control
from fangkong.control.models import ControlOrder
from fangkong.core import clock
from fangkong.core.actor import Actor, require, system_actor
from fangkong.core.errors import Conflict, Invalid
from fangkong.core.perms import Perm
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.mass_testing import rules
from fangkong.mass_testing.models import PositivePool, Retest, Sample, Tube
from fangkong.mass_testing.services._common import SUBJECT_RETEST, in_scope, section
from fangkong.notifications.services import notify
from fangkong.policy.schema import Duty
from fangkong.tracing import services as tracing

RETEST_KIND = "retest_positive_pool"


def _command_office_ids() -> list[int]:
    users = get_user_model().objects.filter(role="command_office", is_active=True)
    return list(users.values_list("pk", flat=True)[:200])


@transaction.atomic
def pool_hold(*, pool_id: int) -> int:
    """Hold every member of a positive pool and give each grid a retest duty with the
    rulebook's deadline; alert the command office. Idempotent (job handler). Returns the
    number of members held now."""
    actor = system_actor("mass_testing")
    pool = PositivePool.objects.select_for_update().select_related("tube").get(pk=pool_id)
    book, _version = section()
    retests = list(
        Retest.objects.filter(pool=pool, assignment_id__isnull=True)
        .select_related("person", "person__grid")
        .order_by("pk")
    )
    held = len(retests)
    if retests:
        # The whole pool in a few statements (control and assignments do each member exactly
        # as their one-person services would): a pool's members are held "immediately".
        orders = control.orders_issue_many(
            actor=actor,
            persons=[rt.person for rt in retests],
            category=book.hold_category,
            anchor=clock.local_date(),
            basis_type="test",
            basis_id=f"mt-pool:{pool.pk}",
            reason=f"member of positive pool tube {pool.tube.barcode}: held until the retest",
        )
        items = assignments.assignments_create_many(
            actor=actor,
            items=[
                assignments.NewAssignment(
                    kind=RETEST_KIND,
                    jurisdiction=(
                        rt.person.grid or Jurisdiction.objects.get(path=rt.person.jurisdiction_path)
                    ),
                    title=f"单管复核：混管 {pool.tube.barcode} 阳性",
                    subject_type=SUBJECT_RETEST,
                    subject_id=rt.pk,
                    person_id=rt.person_id,
                    duty=Duty.RETEST_POSITIVE_POOL,
                    dedupe_key=f"mt-retest:{rt.pk}",
                    detail={"pool_id": pool.pk, "barcode": pool.tube.barcode},
                )
                for rt in retests
            ],
        )
        for rt, order, item in zip(retests, orders, items, strict=True):
            # An order already as strict keeps the person (absorbed): not ours to release.
            rt.hold_order_id = None if order.absorbed else order.pk
            rt.assignment_id = item.pk
        Retest.objects.bulk_update(retests, ["hold_order_id", "assignment_id"])
    notify(
        user_ids=_command_office_ids(),
        subject=f"混管阳性：{pool.tube.barcode}（{pool.members} 人）",
        body="混管检测阳性，组内人员已管控并派发单管复核任务。",
        link=reverse("mass_testing:pool", args=[pool.pk]),
        kind="alert",
        dedupe_key=f"mt-pool:{pool.pk}",
    )
    record(
        actor=actor,
        action="mass_testing.pool_hold",
        target=pool,
        detail={"barcode": pool.tube.barcode, "held": held, "members": pool.members},
    )
    return held


def _register_case(person_id: int, *, sampled_at: dt.datetime, ref: str) -> None:
    tracing.case_register(
        system_actor("mass_testing"),
        person_id=person_id,
        kind="asymptomatic",  # clinicians confirm or reclassify in tracing
        found_by="mass_testing",
        sampled_at=sampled_at,
        basis_type="test",
        basis_id=ref,
        reason="positive single-tube nucleic-acid test (mass testing)",
    )


@transaction.atomic
def single_positive(*, tube_id: int) -> None:
    """A positive single tube: its person becomes a case; a pending retest of theirs is
    resolved positive. Idempotent (job handler; case_register returns the open case)."""
    tube = Tube.objects.get(pk=tube_id)
    sample = Sample.objects.filter(tube=tube).first()
    if sample is None or tube.result != Tube.Result.POSITIVE:
        return
    _register_case(sample.person_id, sampled_at=sample.sampled_at, ref=f"mt-tube:{tube.barcode}")
    for rt in Retest.objects.filter(person_id=sample.person_id, result=Retest.Result.PENDING):
        _resolve(rt, result="positive", sampled_at=sample.sampled_at, tube=tube)


@transaction.atomic
def retest_record(
    *, actor: Actor, retest: Retest, result: str, sampled_at: dt.datetime, barcode: str = ""
) -> Retest:
    """Record a member's single-tube retest. Positive: the person becomes a case; negative:
    the hold is lifted. The pool is resolved once every retest is back. Recording the same
    result again changes nothing; a different one raises Conflict."""
    require(actor, Perm.TESTING_RESULT)
    in_scope(actor, retest.jurisdiction_path, "mass_testing.retest_not_found")
    if result not in ("negative", "positive"):
        raise Invalid("mass_testing.result", "The result is negative or positive", field="result")
    if sampled_at.tzinfo is None or sampled_at > clock.now() + dt.timedelta(minutes=10):
        raise Invalid("mass_testing.sampled_at", "A past, aware time", field="sampled_at")
    barcode = (barcode or "").strip()
    if barcode and not rules.BARCODE_RE.match(barcode):
        raise Invalid("mass_testing.barcode", "Not a barcode", field="barcode")
    rt = Retest.objects.select_for_update().get(pk=retest.pk)
    if rt.result != Retest.Result.PENDING:
        if rt.result == result:
            return rt
        raise Conflict("mass_testing.retest_recorded", "This retest already has a result")
    rt.sampled_at = sampled_at
    if result == "positive":
        _register_case(rt.person_id, sampled_at=sampled_at, ref=f"mt-retest:{rt.pk}")
    _resolve(rt, result=result, sampled_at=sampled_at, tube=None)
    record(
        actor=actor,
        action="mass_testing.retest_record",
        target=rt,
        reason=result,
        detail={"pool_id": rt.pool_id, "person_id": rt.person_id, "barcode": barcode},
    )
    return rt


def _resolve(rt: Retest, *, result: str, sampled_at: dt.datetime, tube: Tube | None) -> None:
    actor = system_actor("mass_testing")
    now = clock.now()
    rt.result, rt.sampled_at, rt.result_at, rt.tube = result, sampled_at, now, tube
    rt.save(update_fields=["result", "sampled_at", "result_at", "tube"])
    if result == "negative" and rt.hold_order_id is not None:
        order = ControlOrder.objects.filter(pk=rt.hold_order_id).first()
        if order is not None and order.is_active and order.basis_id == f"mt-pool:{rt.pool_id}":
            control.order_change_status(
                actor=actor,
                order=order,
                to_status="cancelled",
                reason="single-tube retest negative: hold lifted",
                basis_type="test",
                basis_id=f"mt-retest:{rt.pk}",
            )
    if rt.assignment_id is not None:
        assignments.assignments_close_for_subject(
            actor=actor,
            subject_type=SUBJECT_RETEST,
            subject_id=rt.pk,
            outcome=f"retest {result}",
        )
    pool = PositivePool.objects.select_for_update().get(pk=rt.pool_id)
    results = list(Retest.objects.filter(pool=pool).values_list("result", flat=True))
    if pool.status == PositivePool.Status.OPEN and rules.pool_resolved(results):
        pool.status, pool.resolved_at = PositivePool.Status.RESOLVED, now
        pool.positives = results.count("positive")
        pool.save(update_fields=["status", "resolved_at", "positives"])
        record(
            actor=actor,
            action="mass_testing.pool_resolve",
            target=pool,
            detail={"positives": pool.positives, "members": len(results)},
        )
