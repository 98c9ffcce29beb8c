"""Control orders (管控措施): a person under a measure, its scheduled tests, its history, and the
requests that wait for a second person's approval. Written by control.services alone."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from fangkong.control.rules import BasisType, SampleStatus, Status
from fangkong.core.scope import path_indexes
from fangkong.people.models import Person
from fangkong.places.models import Room
from fangkong.policy.labels import CATEGORY_LABELS, MEASURE_LABELS
from fangkong.policy.schema import Category, CodeColour, Measure

_ACTIVE = [Status.ISSUED.value, Status.IN_EFFECT.value]


class OrderStatus(models.TextChoices):
    PENDING_APPROVAL = Status.PENDING_APPROVAL.value, _("Pending approval")
    ISSUED = Status.ISSUED.value, _("Issued")
    IN_EFFECT = Status.IN_EFFECT.value, _("In effect")
    RELEASED = Status.RELEASED.value, _("Released")
    ESCALATED = Status.ESCALATED.value, _("Escalated")
    TRANSFERRED = Status.TRANSFERRED.value, _("Transferred")
    CANCELLED = Status.CANCELLED.value, _("Cancelled")
    SUPERSEDED = Status.SUPERSEDED.value, _("Superseded")


class Basis(models.TextChoices):
    CASE = BasisType.CASE.value, _("Case")
    CONTACT = BasisType.CONTACT.value, _("Contact")
    ARRIVAL = BasisType.ARRIVAL.value, _("Arrival")
    TEST = BasisType.TEST.value, _("Test")
    REPORT = BasisType.REPORT.value, _("Report")
    MANUAL = BasisType.MANUAL.value, _("Manual (no basis)")


CATEGORY_CHOICES = [(c.value, CATEGORY_LABELS[c]) for c in Category]
MEASURE_CHOICES = [(m.value, MEASURE_LABELS[m]) for m in Measure]


class ControlOrder(models.Model):
    class PlaceKind(models.TextChoices):
        HOME = "home", _("Home")
        FACILITY = "facility", _("Quarantine facility")
        HOSPITAL = "hospital", _("Hospital")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    # The person's jurisdiction when the order was issued: who is responsible for it.
    jurisdiction_path = models.CharField(max_length=255)
    category = models.CharField(max_length=32, choices=CATEGORY_CHOICES)
    measure = models.CharField(max_length=32, choices=MEASURE_CHOICES)  # the current phase's
    phases = models.JSONField()  # control.rules.phases_to_json(MeasurePlan)
    basis_type = models.CharField(max_length=16, choices=Basis.choices)
    basis_id = models.CharField(max_length=64, blank=True)
    basis_note = models.CharField(max_length=500, blank=True)
    policy_version = models.PositiveIntegerField()
    edition = models.CharField(max_length=64)
    anchor_date = models.DateField()
    start_date = models.DateField()
    release_on = models.DateField(null=True, blank=True)  # planned end; None: open-ended
    place_kind = models.CharField(max_length=16, choices=PlaceKind.choices)
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=OrderStatus.choices)
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=500)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)

    # Not a column: set by order_issue on the existing order it returns when that order
    # absorbed the new one (as strict or stricter), so callers can tell "created" from "kept".
    absorbed: bool = False

    class Meta:
        constraints = [
            # Supersession keeps one active order per person; this catches a race that slips
            # past the row lock (two issues for one person in parallel).
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status__in=_ACTIVE),
                name="control_one_active_order_per_person",
            ),
        ]
        indexes = [
            *path_indexes("controlorder"),
            models.Index(fields=["person", "status"], name="controlorder_person_idx"),
            models.Index(fields=["status", "jurisdiction_path"], name="controlorder_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Control order {self.pk} ({self.measure}, {self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in _ACTIVE


class ScheduledTest(models.Model):
    class Result(models.TextChoices):
        PENDING = SampleStatus.PENDING.value, _("Pending")
        NEGATIVE = SampleStatus.NEGATIVE.value, _("Negative")
        POSITIVE = SampleStatus.POSITIVE.value, _("Positive")
        MISSED = SampleStatus.MISSED.value, _("Missed")

    order = models.ForeignKey(ControlOrder, on_delete=models.CASCADE, related_name="tests")
    jurisdiction_path = models.CharField(max_length=255)
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=Result.choices, default=Result.PENDING)
    sampled_at = models.DateTimeField(null=True, blank=True)
    result_ref = models.CharField(max_length=64, blank=True)
    recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "due_on"], name="scheduledtest_order_day")
        ]
        indexes = [
            *path_indexes("scheduledtest"),
            models.Index(fields=["due_on", "status"], name="scheduledtest_due_idx"),
        ]

    def __str__(self) -> str:
        return f"Test {self.pk} of order {self.order_id} on {self.due_on} ({self.status})"


class ChangeRequest(models.Model):
    """A change that waits for a second authorised person (manual basis, bulk, downgrade)."""

    class Kind(models.TextChoices):
        MANUAL_ISSUE = "manual_issue", _("Issue without a basis")
        DOWNGRADE_ISSUE = "downgrade_issue", _("Replace a stricter order")
        STATUS_CHANGE = "status_change", _("Status change")
        BULK_STATUS_CHANGE = "bulk_status_change", _("Bulk status change")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    kind = models.CharField(max_length=24, choices=Kind.choices)
    # The deepest node covering every order concerned: only approvers covering it see it.
    jurisdiction_path = models.CharField(max_length=255)
    order = models.ForeignKey(
        ControlOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payload = models.JSONField(default=dict)
    approval_reasons = models.JSONField(default=list)
    reason = models.CharField(max_length=500)
    # "<actor kind>:<id>": user and token ids are separate sequences.
    requested_by_key = models.CharField(max_length=40)
    requested_by_label = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    decided_by_key = models.CharField(max_length=40, blank=True)
    decided_by_label = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(decided_by_key=F("requested_by_key")),
                name="changerequest_decider_not_requester",
            ),
        ]
        indexes = [
            *path_indexes("changerequest"),
            models.Index(fields=["status", "-created_at"], name="changerequest_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Change request {self.pk} ({self.kind}, {self.status})"


class OrderEvent(models.Model):
    """One line of an order's history: what changed, why, on what basis, by whom."""

    order = models.ForeignKey(ControlOrder, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=32)  # issued, absorbed, status, superseded, test, ...
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=500)
    basis_type = models.CharField(max_length=16, blank=True)
    basis_id = models.CharField(max_length=64, blank=True)
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=150)
    approval = models.ForeignKey(
        ChangeRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["order", "at"], name="orderevent_order_at_idx")]

    def __str__(self) -> str:
        return f"{self.action} on order {self.order_id}"


class ControlStatus(models.Model):
    """Denormalised: each person's health-code colour and governing order, for fast lookups
    over millions of persons. Kept in sync by control.services only; the health_code selector
    computes from the orders and is the truth when they disagree."""

    person = models.OneToOneField(
        Person, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    jurisdiction_path = models.CharField(max_length=255)
    colour = models.CharField(max_length=8, choices=[(c.value, c.value) for c in CodeColour])
    order = models.ForeignKey(
        ControlOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            *path_indexes("controlstatus"),
            models.Index(fields=["colour", "jurisdiction_path"], name="controlstatus_colour_idx"),
        ]

    def __str__(self) -> str:
        return f"Person {self.person_id}: {self.colour}"
