"""Orders follow their person (territorial responsibility, 属地责任).

people.services moves a person to another grid without knowing about control (people sits
below control in the layers, and cross-module flows are explicit calls, not signals). This
reconciliation, run by a periodic job, moves every active order whose person now lives
elsewhere: its path, its tests' path, the status row, and the grid's work.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from fangkong.audit.services import record
from fangkong.control import rules
from fangkong.control.models import ControlOrder, ControlStatus, ScheduledTest
from fangkong.control.services._common import _close_work, _create_work, _event
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.perms import Perm

MOVE_BATCH = 1000


def orders_follow_people(*, actor: Actor) -> int:
    """Move active orders to their person's current jurisdiction. Returns how many moved.

    Each order moves in its own transaction, so one failure does not hold back the rest.
    """
    require(actor, Perm.CONTROL_CHANGE)
    ids = list(
        ControlOrder.objects.filter(status__in=rules.ACTIVE)
        .exclude(jurisdiction_path=F("person__jurisdiction_path"))
        .order_by("pk")
        .values_list("pk", flat=True)[:MOVE_BATCH]
    )
    return sum(1 for pk in ids if _move(actor, pk))


@transaction.atomic
def _move(actor: Actor, order_id: int) -> bool:
    order = (
        # Lock the order row only: the grid is on the nullable side of an outer join.
        ControlOrder.objects.select_for_update(of=("self",))
        .select_related("person", "person__grid")
        .filter(pk=order_id, status__in=rules.ACTIVE)
        .first()
    )
    if order is None or order.jurisdiction_path == order.person.jurisdiction_path:
        return False
    old, new = order.jurisdiction_path, order.person.jurisdiction_path
    order.jurisdiction_path, order.updated_at = new, clock.now()
    order.save(update_fields=["jurisdiction_path", "updated_at"])
    ScheduledTest.objects.filter(order=order).update(jurisdiction_path=new)
    ControlStatus.objects.filter(person_id=order.person_id, order=order).update(
        jurisdiction_path=new
    )
    reason = f"person moved from {old} to {new}"
    _event(
        order,
        action="moved",
        actor=actor,
        reason=reason,
        basis_type="report",
        basis_id=f"person:{order.person_id}",
    )
    record(
        actor=actor,
        action="control.order_move",
        target=order,
        reason=reason,
        detail={"from": old, "to": new},
    )
    _close_work(actor, order, "person_moved")
    _create_work(actor, order, order.person, dedupe_key=f"control.order:{order.pk}:{new}"[:200])
    return True
