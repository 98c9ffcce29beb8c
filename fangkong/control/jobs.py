"""Background work of control orders (autodiscovered by the jobs app).

- control.order_notify: tell the grid's post holders that a person of their grid came under
  control, for orders that create no assignment (an assignment notifies by itself); one job
  per order, enqueued in the issuing transaction.
- control.test_positive_notify: a scheduled test came back positive; the grid's post holders
  hear at once (the case itself is registered by tracing, which issues the case's order).
- control.tests_mark_missed (daily): pending tests whose day has passed become missed.
- control.test_reminders (daily): each grid's post holders get one reminder listing how many of
  their persons are due a test today; set-based, one notification per grid, not per test.
- control.orders_follow_people (hourly): active orders of persons who moved follow them to
  their new jurisdiction (services.orders_follow_people).
- control.phases_advance (daily): orders whose phase changed today (centralized quarantine to
  home health monitoring) get their current measure and the person's code colour updated.

Handlers are idempotent: notifications carry dedupe keys, updates are conditional.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _

from fangkong.audit.services import record
from fangkong.control import rules
from fangkong.control.models import ControlOrder, ScheduledTest
from fangkong.control.rules import SampleStatus
from fangkong.control.services import (
    ORDER_NOTIFY_JOB,
    POSITIVE_NOTIFY_JOB,
    order_link,
    orders_follow_people,
    refresh_control_status,
)
from fangkong.core import clock
from fangkong.core.actor import system_actor
from fangkong.jobs.registry import job, periodic
from fangkong.jurisdictions.models import Post
from fangkong.notifications.services import notify
from fangkong.policy.labels import MEASURE_LABELS, label
from fangkong.policy.selectors import rulebook_in_force

DAILY = dt.timedelta(days=1)
_CHUNK = 500


def _slot_day(payload: dict[str, Any]) -> dt.date:
    slot = payload.get("slot")
    if not slot:
        return clock.local_date()
    return clock.to_local(dt.datetime.fromisoformat(str(slot))).date()


def _post_holders(grid_ids: list[int]) -> dict[int, list[int]]:
    """Account ids of the post holders at each grid (those who have an account)."""
    holders: dict[int, list[int]] = {}
    for start in range(0, len(grid_ids), _CHUNK):
        chunk = grid_ids[start : start + _CHUNK]
        rows = Post.objects.filter(jurisdiction_id__in=chunk, account_id__isnull=False)
        for jur_id, account_id in rows.values_list("jurisdiction_id", "account_id"):
            assert account_id is not None
            holders.setdefault(jur_id, []).append(account_id)
    return holders


@job(ORDER_NOTIFY_JOB)
def order_notify(payload: dict[str, Any]) -> None:
    order = (
        ControlOrder.objects.select_related("person")
        .filter(pk=int(payload["order_id"]), status__in=rules.ACTIVE)
        .first()
    )
    if order is None or order.person.grid_id is None:
        return  # superseded or released before the job ran, or nobody to tell
    users = _post_holders([order.person.grid_id]).get(order.person.grid_id, [])
    if not users:
        return
    first_test = (
        ScheduledTest.objects.filter(order=order, status=SampleStatus.PENDING)
        .order_by("due_on")
        .values_list("due_on", flat=True)
        .first()
    )
    body = _("Person %(person)s is under %(measure)s from %(start)s until %(until)s.") % {
        "person": order.person_id,
        "measure": label(MEASURE_LABELS, order.measure),
        "start": order.start_date.isoformat(),
        "until": order.release_on.isoformat() if order.release_on else _("further notice"),
    }
    if first_test is not None:
        body += " " + _("First test due %(day)s.") % {"day": first_test.isoformat()}
    notify(
        user_ids=users,
        subject=_("New control order %(id)s in your grid") % {"id": order.pk},
        body=body,
        link=order_link(order.pk),
        dedupe_key=f"{ORDER_NOTIFY_JOB}:{order.pk}",
    )


@job(POSITIVE_NOTIFY_JOB)
def test_positive_notify(payload: dict[str, Any]) -> None:
    test = (
        ScheduledTest.objects.select_related("order", "order__person")
        .filter(pk=int(payload["test_id"]), status=SampleStatus.POSITIVE)
        .first()
    )
    if test is None or test.order.person.grid_id is None:
        return
    grid_id = test.order.person.grid_id
    users = _post_holders([grid_id]).get(grid_id, [])
    if not users:
        return
    notify(
        user_ids=users,
        subject=_("Positive scheduled test under order %(id)s") % {"id": test.order_id},
        body=_("The test due %(day)s of person %(person)s is positive (%(ref)s).")
        % {"day": test.due_on.isoformat(), "person": test.order.person_id, "ref": test.result_ref},
        link=order_link(test.order_id),
        kind="warning",
        dedupe_key=f"{POSITIVE_NOTIFY_JOB}:{test.pk}",
    )


def mark_missed_tests(*, today: dt.date) -> int:
    """Pending tests of active orders due before `today` become missed. Returns how many."""
    with transaction.atomic():
        count = ScheduledTest.objects.filter(
            status=SampleStatus.PENDING, due_on__lt=today, order__status__in=rules.ACTIVE
        ).update(status=SampleStatus.MISSED)
        if count:
            record(
                actor=system_actor("control.tests_mark_missed"),
                action="control.tests_mark_missed",
                target_type="control.scheduledtest",
                reason=f"tests due before {today.isoformat()} not sampled",
                detail={"count": count, "before": today.isoformat()},
            )
    return count


@periodic("control.tests_mark_missed", every=DAILY)
def tests_mark_missed_job(payload: dict[str, Any]) -> None:
    mark_missed_tests(today=_slot_day(payload))


def send_test_reminders(*, day: dt.date) -> int:
    """One notification per grid with persons due a test on `day`. Returns grids notified."""
    per_grid = dict(
        ScheduledTest.objects.filter(
            due_on=day, status=SampleStatus.PENDING, order__status__in=rules.ACTIVE
        )
        .exclude(order__person__grid_id=None)
        .values_list("order__person__grid_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    holders = _post_holders(sorted(per_grid))
    sent = 0
    for grid_id, n in sorted(per_grid.items()):
        users = holders.get(grid_id, [])
        if not users:
            continue
        notify(
            user_ids=users,
            subject=_("Scheduled tests due today"),
            body=_("%(n)s persons under control in your grid are due a test on %(day)s.")
            % {"n": n, "day": day.isoformat()},
            link=f"{reverse('control:tests_due')}?day={day.isoformat()}",
            dedupe_key=f"control.test_reminders:{grid_id}:{day.isoformat()}",
        )
        sent += 1
    return sent


@periodic("control.test_reminders", every=DAILY)
def test_reminders_job(payload: dict[str, Any]) -> None:
    send_test_reminders(day=_slot_day(payload))


def advance_phases(*, today: dt.date) -> int:
    """Update the current measure of active orders whose phase changed. Returns how many."""
    changed = 0
    in_force = None
    qs = ControlOrder.objects.filter(status__in=rules.ACTIVE).only(
        "pk", "measure", "phases", "person_id"
    )
    for order in qs.iterator(chunk_size=_CHUNK):
        measure = rules.measure_on(rules.phases_from_json(order.phases), today)
        if measure == order.measure:
            continue
        with transaction.atomic():
            updated = ControlOrder.objects.filter(pk=order.pk, measure=order.measure).update(
                measure=measure.value, updated_at=clock.now()
            )
            if updated:
                in_force = in_force or rulebook_in_force()
                refresh_control_status(person_id=order.person_id, in_force=in_force)
                changed += 1
    if changed:
        record(
            actor=system_actor("control.phases_advance"),
            action="control.phases_advance",
            target_type="control.controlorder",
            reason=f"phase changes on {today.isoformat()}",
            detail={"count": changed},
        )
    return changed


@periodic("control.phases_advance", every=DAILY)
def phases_advance_job(payload: dict[str, Any]) -> None:
    advance_phases(today=_slot_day(payload))


@periodic("control.orders_follow_people", every=dt.timedelta(hours=1))
def orders_follow_people_job(payload: dict[str, Any]) -> None:
    orders_follow_people(actor=system_actor("control.orders_follow_people"))
