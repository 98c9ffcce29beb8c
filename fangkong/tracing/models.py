"""Cases, their investigations and trajectories, contacts as typed and dated edges, clusters,
and the co-presence runs that proposed candidates. Written by tracing.services alone.

Scope: a case, its investigation and its contact edges carry the case's jurisdiction (the
territory investigating it), not the contact's: an investigator sees every contact of their
case, and a contact staying in another district reaches that district through its assist
inbox (`assist_request_id`), which is where that district sees them.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangkong.core.fields import EncryptedTextField
from fangkong.core.scope import path_indexes
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.people.models import Person
from fangkong.tracing.rules import (
    CaseKind,
    ContactCategory,
    ContactStatus,
    ExposureKind,
    FoundBy,
)


class Cluster(models.Model):
    """A named group of linked cases (聚集性疫情), tracked until closed."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    name = models.CharField(max_length=120)
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    jurisdiction_path = models.CharField(max_length=255)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    basis_type = models.CharField(max_length=32)
    basis_id = models.CharField(max_length=64)
    reason = models.CharField(max_length=500)
    created_by = models.CharField(max_length=150)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # sentinel's retried "verify as cluster" finds the cluster it opened.
            models.UniqueConstraint(
                fields=["basis_type", "basis_id"], name="tracing_cluster_basis_uniq"
            ),
        ]
        indexes = [
            *path_indexes("tracingcluster"),
            models.Index(fields=["status", "-opened_at"], name="tracingcluster_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Cluster {self.pk} ({self.name})"


class Case(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    # The person's jurisdiction when the case was registered: the territory investigating it.
    jurisdiction_path = models.CharField(max_length=255)
    kind = models.CharField(
        max_length=16,
        choices=[
            (CaseKind.CONFIRMED.value, _("Confirmed case")),
            (CaseKind.ASYMPTOMATIC.value, _("Asymptomatic infection")),
        ],
    )
    found_by = models.CharField(
        max_length=16,
        choices=[
            (FoundBy.SCREENING.value, _("Arrival screening")),
            (FoundBy.FEVER_CLINIC.value, _("Fever clinic")),
            (FoundBy.SENTINEL.value, _("Sentinel surveillance")),
            (FoundBy.CONTACT_TESTING.value, _("Close-contact testing")),
            (FoundBy.MASS_TESTING.value, _("Mass testing")),
            (FoundBy.OTHER.value, _("Other")),
        ],
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    sampled_at = models.DateTimeField()
    onset_date = models.DateField(null=True, blank=True)
    isolated_at = models.DateTimeField()
    # The infectious window (rulebook in force at registration), kept for the engine.
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    cluster = models.ForeignKey(
        Cluster, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    # The transmission chain: who infected this case (as far as the investigation knows),
    # and the first case of its chain (itself for a chain's first case).
    infected_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    chain_root = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The contact edge this person had before turning positive (a "known contact").
    from_contact = models.ForeignKey(
        "tracing.Contact", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    imported = models.BooleanField(default=False)  # infected outside the city (an arrival)
    order_id = models.PositiveBigIntegerField(null=True, blank=True)  # control.ControlOrder
    basis_type = models.CharField(max_length=32)
    basis_id = models.CharField(max_length=64)
    reason = models.CharField(max_length=500)
    policy_version = models.PositiveIntegerField()
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    # Not a column: case_register sets it on the case it created (False: the open case that
    # was already there), so callers can tell "registered" from "already open".
    registered_now: bool = False

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(status="open"), name="tracing_one_open_case"
            ),
        ]
        indexes = [
            *path_indexes("tracingcase"),
            models.Index(fields=["jurisdiction_path", "-created_at"], name="tracingcase_list_idx"),
            models.Index(fields=["chain_root", "created_at"], name="tracingcase_chain_idx"),
            models.Index(fields=["cluster", "created_at"], name="tracingcase_cluster_idx"),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk} ({self.kind})"


class Investigation(models.Model):
    """The investigation of a case and its three clocks (first report, contact list, full
    report), each also an assignment with the rulebook's deadline."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="investigation")
    jurisdiction_path = models.CharField(max_length=255)
    policy_version = models.PositiveIntegerField()
    first_report_due = models.DateTimeField()
    contact_list_due = models.DateTimeField()
    full_report_due = models.DateTimeField()
    first_report_at = models.DateTimeField(null=True, blank=True)
    contact_list_at = models.DateTimeField(null=True, blank=True)
    full_report_at = models.DateTimeField(null=True, blank=True)
    # The narrative (where the case went, whom they met): personal data, encrypted.
    report = EncryptedTextField(blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        indexes = path_indexes("tracinginvestigation")

    def __str__(self) -> str:
        return f"Investigation of case {self.case_id}"


class ClusterMember(models.Model):
    """A person behind a cluster: a case, or a suspected one (sentinel opened the cluster)."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    jurisdiction_path = models.CharField(max_length=255)  # the cluster's
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "person"], name="tracing_member_uniq"),
        ]
        indexes = [models.Index(fields=["person"], name="tracingmember_person_idx")]

    def __str__(self) -> str:
        return f"Person {self.person_id} in cluster {self.cluster_id}"


EXPOSURE_CHOICES = [
    (ExposureKind.HOUSEHOLD.value, _("Household")),
    (ExposureKind.WORKPLACE.value, _("Workplace")),
    (ExposureKind.VENUE.value, _("Venue")),
    (ExposureKind.VEHICLE.value, _("Vehicle")),
    (ExposureKind.MEAL.value, _("Shared meal")),
    (ExposureKind.CARE.value, _("Care")),
    (ExposureKind.COPRESENCE.value, _("Co-presence (cell grid)")),
]

CONTACT_CATEGORY_CHOICES = [
    (ContactCategory.CLOSE.value, _("Close contact")),
    (ContactCategory.SECONDARY.value, _("Secondary contact")),
    (ContactCategory.COPRESENCE.value, _("Co-presence contact")),
    (ContactCategory.GENERAL.value, _("General contact")),
]

CONTACT_STATUS_CHOICES = [
    (ContactStatus.CANDIDATE.value, _("Candidate")),
    (ContactStatus.CONFIRMED.value, _("Confirmed")),
    (ContactStatus.DISMISSED.value, _("Dismissed")),
]


class Contact(models.Model):
    """One typed, dated edge: a person exposed to a case (first degree) or to one of its
    close contacts (second degree, `via`). A person may have edges to several cases."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Investigator")
        ENGINE = "engine", _("Co-presence engine")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="contacts")
    via = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="secondaries"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    jurisdiction_path = models.CharField(max_length=255)  # the case's (who investigates)
    person_path = models.CharField(max_length=255)  # where the contact stays
    degree = models.PositiveSmallIntegerField(default=1)
    category = models.CharField(max_length=12, choices=CONTACT_CATEGORY_CHOICES)
    status = models.CharField(max_length=10, choices=CONTACT_STATUS_CHOICES)
    exposure = models.CharField(max_length=12, choices=EXPOSURE_CHOICES)
    source = models.CharField(max_length=8, choices=Source.choices)
    first_exposure_at = models.DateTimeField()
    last_exposure_at = models.DateTimeField()
    venue_id = models.PositiveBigIntegerField(null=True, blank=True)  # places.Place / lake venue
    cell_id = models.CharField(max_length=32, blank=True)
    encounters = models.PositiveIntegerField(default=1)
    overlap_seconds = models.PositiveIntegerField(default=0)
    score = models.FloatField(default=0)
    note = EncryptedTextField(blank=True)
    order_id = models.PositiveBigIntegerField(null=True, blank=True)  # control.ControlOrder
    assist_request_id = models.PositiveBigIntegerField(null=True, blank=True)
    isolated_at = models.DateTimeField(null=True, blank=True)  # when the order was issued
    decided_by = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    followed_up_at = models.DateTimeField(null=True, blank=True)
    became_case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "person"], name="tracing_contact_edge_uniq"),
            models.CheckConstraint(
                condition=Q(degree=1, via__isnull=True) | Q(degree=2, via__isnull=False),
                name="tracing_contact_degree_via",
            ),
            models.CheckConstraint(
                condition=Q(last_exposure_at__gte=models.F("first_exposure_at")),
                name="tracing_contact_exposure_order",
            ),
        ]
        indexes = [
            *path_indexes("tracingcontact"),
            models.Index(fields=["case", "status", "-score"], name="tracingcontact_case_idx"),
            models.Index(fields=["person", "status"], name="tracingcontact_person_idx"),
            models.Index(
                fields=["status", "jurisdiction_path", "followed_up_at"],
                name="tracingcontact_followup_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Contact {self.pk} ({self.category}) of case {self.case_id}"


class TrajectoryEntry(models.Model):
    """Where the case says they were (self-report, interview); check-ins come from the lake."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="trajectory")
    jurisdiction_path = models.CharField(max_length=255)
    place = EncryptedTextField()  # may be a home address: personal data
    venue_id = models.PositiveBigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["case", "started_at"], name="tracingtraj_case_idx")]

    def __str__(self) -> str:
        return f"Trajectory entry {self.pk} of case {self.case_id}"


class CopresenceRun(models.Model):
    """One run of the co-presence engine for a case (or a close contact's second degree).

    A run asked for from the page is queued and done by the worker (`tracing.copresence` job):
    it shows its progress meanwhile (services.copresence.run_progress)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        DONE = "done", _("Finished")  # not "Done": the clocks' column already says that
        FAILED = "failed", _("Failed")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DONE)
    error = models.CharField(max_length=300, blank=True)  # why a run failed
    jurisdiction_path = models.CharField(max_length=255)
    degree = models.PositiveSmallIntegerField(default=1)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    params = models.JSONField(default=dict)
    candidates = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)  # new edges (the rest were known)
    seconds = models.FloatField(default=0)
    actor_label = models.CharField(max_length=150)
    ran_at = models.DateTimeField()  # asked for (a queued run), or ran
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["case", "-ran_at"], name="tracingrun_case_idx")]

    def __str__(self) -> str:
        return f"Co-presence run {self.pk} for case {self.case_id}"
