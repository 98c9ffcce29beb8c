"""Helpers shared by the control services: validation, scope, trail, status row."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from fangkong.assignments import services as assignments
from fangkong.audit.services import record
from fangkong.control import rules
from fangkong.control.models import (
    ChangeRequest,
    ControlOrder,
    ControlStatus,
    OrderEvent,
)
from fangkong.control.rules import BasisType
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.core.perms import Perm
from fangkong.core.scope import Scope
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.jurisdictions.selectors import jurisdiction_get
from fangkong.people.models import Person
from fangkong.policy.labels import CATEGORY_LABELS, MEASURE_LABELS, label
from fangkong.policy.rules import code_colour
from fangkong.policy.schema import Category, CodeColour, Measure
from fangkong.policy.selectors import BookInForce, rulebook_in_force

REASON_MAX = 500
SUBJECT_TYPE = "control.order"
ORDER_NOTIFY_JOB = "control.order_notify"
POSITIVE_NOTIFY_JOB = "control.test_positive_notify"


# --- small helpers ---------------------------------------------------------------------------


def _clean_reason(reason: str) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise Invalid("control.reason_required", "A reason is required", field="reason")
    if len(text) > REASON_MAX:
        raise Invalid("control.reason_too_long", "The reason is too long", field="reason")
    return text


def _clean_basis(basis_type: str, basis_id: object) -> tuple[BasisType, str]:
    try:
        kind = BasisType(basis_type)
    except ValueError as exc:
        raise Invalid(
            "control.basis_type", f"Unknown basis type {basis_type!r}", field="basis_type"
        ) from exc
    ref = "" if basis_id is None else str(basis_id).strip()
    if kind != BasisType.MANUAL and not ref:
        # A basis is the case, contact, arrival, test or report that justifies the change.
        raise Invalid(
            "control.basis_required", "Name the record that justifies this", field="basis_id"
        )
    if len(ref) > 64:
        raise Invalid("control.basis_id", "The basis reference is too long", field="basis_id")
    return kind, ref


def _issue_checks(
    actor: Actor,
    persons: Sequence[Person],
    *,
    category: Category | str,
    reason: str,
    basis_type: str,
    basis_id: object,
) -> tuple[Category, str, BasisType, str]:
    """What issuing an order checks before anything is written, for one person or many:
    permission, scope, merged records, reason, basis, category. Returns the cleaned
    (category, reason, basis type, basis reference)."""
    require(actor, Perm.CONTROL_ISSUE)
    for person in persons:
        _in_scope(actor, person.jurisdiction_path, "person.not_found")
        if person.merged_into_id is not None:
            raise Conflict("control.person_merged", "This record was merged into another person")
    reason = _clean_reason(reason)
    kind, ref = _clean_basis(basis_type, basis_id)
    try:
        category = Category(category)
    except ValueError as exc:
        raise Invalid("control.category", "Unknown category", field="category") from exc
    return category, reason, kind, ref


def _actor_key(actor: Actor) -> str:
    return f"{actor.kind}:{actor.id}"


def _in_scope(actor: Actor, path: str, code: str = "control.order_not_found") -> None:
    # "Not yours" looks exactly like "missing".
    if not actor.scope.covers(path):
        raise NotFound(code, "Not found")


def _event(
    order: ControlOrder,
    *,
    action: str,
    actor: Actor,
    reason: str,
    from_status: str = "",
    to_status: str = "",
    basis_type: str = "",
    basis_id: str = "",
    policy_version: int | None = None,
    approval: ChangeRequest | None = None,
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason[:REASON_MAX],
        basis_type=basis_type,
        basis_id=basis_id,
        policy_version=policy_version,
        actor_label=actor.label[:150],
        approval=approval,
        at=clock.now(),
    )


def _active_facts(orders: Sequence[ControlOrder]) -> list[rules.ActiveFact]:
    return [rules.ActiveFact(o.pk, rules.phases_from_json(o.phases), o.release_on) for o in orders]


def _locked_active(person_id: int) -> list[ControlOrder]:
    # Lock the person first: two issues for one person serialize here (PostgreSQL); SQLite
    # serializes all writers anyway.
    list(Person.objects.select_for_update().filter(pk=person_id).values_list("pk"))
    return list(
        ControlOrder.objects.select_for_update()
        .filter(person_id=person_id, status__in=rules.ACTIVE)
        .order_by("pk")
    )


def refresh_control_status(*, person_id: int, in_force: BookInForce | None = None) -> CodeColour:
    """Recompute the denormalised ControlStatus row of a person from their active orders."""
    today = clock.local_date()
    active = list(
        ControlOrder.objects.filter(person_id=person_id, status__in=rules.ACTIVE).order_by("pk")
    )
    if not active:
        # No row for persons without control: a merge of two such persons cannot collide.
        ControlStatus.objects.filter(person_id=person_id).delete()
        return CodeColour.GREEN
    book = (in_force or rulebook_in_force()).book
    measures = [rules.measure_on(rules.phases_from_json(o.phases), today) for o in active]
    colour = code_colour(book, measures)
    governing = max(active, key=lambda o: book.measures[Measure(o.measure)].strictness)
    ControlStatus.objects.update_or_create(
        person_id=person_id,
        defaults={
            "jurisdiction_path": governing.jurisdiction_path,
            "colour": colour.value,
            "order": governing,
            "updated_at": clock.now(),
        },
    )
    return colour


def refresh_control_statuses(*, person_ids: Collection[int], in_force: BookInForce) -> None:
    """`refresh_control_status` for many persons: one read of their active orders, one
    upsert, one delete."""
    today = clock.local_date()
    book = in_force.book
    active: dict[int, list[ControlOrder]] = defaultdict(list)
    for o in ControlOrder.objects.filter(
        person_id__in=list(person_ids), status__in=rules.ACTIVE
    ).order_by("pk"):
        active[o.person_id].append(o)
    now = clock.now()
    rows = []
    for person_id, orders in active.items():
        measures = [rules.measure_on(rules.phases_from_json(o.phases), today) for o in orders]
        governing = max(orders, key=lambda o: book.measures[Measure(o.measure)].strictness)
        rows.append(
            ControlStatus(
                person_id=person_id,
                jurisdiction_path=governing.jurisdiction_path,
                colour=code_colour(book, measures).value,
                order=governing,
                updated_at=now,
            )
        )
    ControlStatus.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["person"],
        update_fields=["jurisdiction_path", "colour", "order", "updated_at"],
    )
    if gone := [p for p in person_ids if p not in active]:
        ControlStatus.objects.filter(person_id__in=gone).delete()


def _grid_of(person: Person) -> Jurisdiction:
    if person.grid is not None:
        return person.grid
    code = person.jurisdiction_path.rstrip("/").rsplit("/", 1)[-1]
    return jurisdiction_get(scope=Scope.system(), code=code)


def _work_item(
    order: ControlOrder, person: Person, *, dedupe_key: str
) -> assignments.NewAssignment | None:
    """The duty of the order's category for the person's grid; None when it has none (cases
    are the hospital's, key populations are routine)."""
    category = Category(order.category)
    duty = rules.DUTY_OF_CATEGORY.get(category)
    if duty is None:
        return None
    # Titles are stored text: written in the platform's language (settings.LANGUAGE_CODE),
    # whatever language the acting user's page happens to be in.
    with translation.override(settings.LANGUAGE_CODE):
        title = _("%(category)s: %(measure)s from %(start)s until %(until)s (order %(order)s)") % {
            "category": label(CATEGORY_LABELS, category),
            "measure": label(MEASURE_LABELS, order.measure),
            "start": order.start_date.isoformat(),
            "until": _iso(order.release_on) or _("further notice"),
            "order": order.pk,
        }
    return assignments.NewAssignment(
        kind=duty.value,
        jurisdiction=_grid_of(person),
        title=title,
        subject_type=SUBJECT_TYPE,
        subject_id=order.pk,
        person_id=person.pk,
        duty=duty,
        dedupe_key=dedupe_key,
        detail={"measure": order.measure, "release_on": _iso(order.release_on)},
    )


def _create_work(actor: Actor, order: ControlOrder, person: Person, *, dedupe_key: str) -> bool:
    """The grid's duty for the order (`_work_item`); False when it has none. The assignment
    notifies the grid's post holder itself."""
    item = _work_item(order, person, dedupe_key=dedupe_key)
    if item is None:
        return False
    assignments.assignment_create(
        actor=actor,
        kind=item.kind,
        jurisdiction=item.jurisdiction,
        title=item.title,
        subject_type=item.subject_type,
        subject_id=item.subject_id,
        person_id=item.person_id,
        duty=item.duty,
        dedupe_key=item.dedupe_key,
        detail=item.detail,
    )
    return True


def _close_work(actor: Actor, order: ControlOrder, outcome: str) -> None:
    assignments.assignments_close_for_subject(
        actor=actor, subject_type=SUBJECT_TYPE, subject_id=order.pk, outcome=outcome
    )


def _order_detail(order: ControlOrder) -> dict[str, Any]:
    return {
        "person_id": order.person_id,
        "category": order.category,
        "measure": order.measure,
        "basis_type": order.basis_type,
        "basis_id": order.basis_id,
        "policy_version": order.policy_version,
        "edition": order.edition,
        "release_on": order.release_on.isoformat() if order.release_on else None,
    }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _request(
    actor: Actor,
    *,
    kind: str,
    path: str,
    order: ControlOrder | None,
    payload: dict[str, Any],
    needs: list[str],
    reason: str,
) -> ChangeRequest:
    request = ChangeRequest.objects.create(
        kind=kind,
        jurisdiction_path=path,
        order=order,
        payload=payload,
        approval_reasons=needs,
        reason=reason,
        requested_by_key=_actor_key(actor),
        requested_by_label=actor.label[:150],
        created_at=clock.now(),
    )
    record(
        actor=actor,
        action="control.change_request",
        target=request,
        reason=reason,
        detail={"kind": kind, "needs": needs, **payload},
    )
    return request


def order_link(order_id: int) -> str:
    return reverse("control:order", args=[order_id])
