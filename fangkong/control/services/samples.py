"""Recording the results of scheduled tests."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from fangkong.audit.services import record
from fangkong.control.models import (
    ScheduledTest,
)
from fangkong.control.rules import BasisType, SampleStatus
from fangkong.control.services._common import (
    POSITIVE_NOTIFY_JOB,
    _event,
    _in_scope,
)
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Conflict, Invalid
from fangkong.core.perms import Perm
from fangkong.jobs.services import enqueue

# --- scheduled tests -------------------------------------------------------------------------


@transaction.atomic
def scheduled_test_record(
    *,
    actor: Actor,
    test: ScheduledTest,
    result: str,
    sampled_at: dt.datetime,
    result_ref: str = "",
) -> ScheduledTest:
    """Record the result of a scheduled test (a missed test may be made up later).

    Recording the same result again is a no-op, so a retried batch does not double-record;
    a different result for a recorded test raises Conflict.
    """
    require(actor, Perm.CONTROL_CHANGE)
    _in_scope(actor, test.jurisdiction_path, "control.test_not_found")
    if result not in (SampleStatus.NEGATIVE, SampleStatus.POSITIVE):
        raise Invalid("control.test_result", "The result is negative or positive", field="result")
    if sampled_at.tzinfo is None:
        raise Invalid("control.sampled_at", "sampled_at must carry a time zone")
    if sampled_at > clock.now() + dt.timedelta(minutes=5):
        raise Invalid("control.sampled_at", "sampled_at lies in the future", field="sampled_at")
    ref = (result_ref or "").strip()[:64]
    test = ScheduledTest.objects.select_for_update().select_related("order").get(pk=test.pk)
    if test.status in (SampleStatus.NEGATIVE, SampleStatus.POSITIVE):
        if test.status == result and test.result_ref == ref:
            return test
        raise Conflict("control.test_recorded", "This test already has a result", test_id=test.pk)
    if not test.order.is_active:
        raise Conflict("control.order_closed", "The order is no longer active")
    previous = test.status
    test.status, test.sampled_at, test.result_ref = result, sampled_at, ref
    test.recorded_at = clock.now()
    test.save(update_fields=["status", "sampled_at", "result_ref", "recorded_at"])
    _event(
        test.order,
        action="test",
        actor=actor,
        reason=f"test due {test.due_on.isoformat()}: {result}",
        from_status=previous,
        to_status=result,
        basis_type=BasisType.TEST,
        basis_id=ref or f"scheduled-test:{test.pk}",
    )
    if result == SampleStatus.POSITIVE:
        enqueue(
            name=POSITIVE_NOTIFY_JOB,
            payload={"test_id": test.pk},
            dedupe_key=f"{POSITIVE_NOTIFY_JOB}:{test.pk}",
        )
    record(
        actor=actor,
        action="control.test_record",
        target=test,
        reason=f"{result}",
        detail={"order_id": test.order_id, "due_on": test.due_on.isoformat(), "ref": ref},
    )
    return test
