"""Arrival screening (落地排查): arrivals, where each came from, import batches, assist requests.

An `Arrival` is one person arriving, to be found, verified, sampled and put under the right
measure by the grid where they stay. The same person on two lists is one open arrival with two
`ArrivalSource` rows. Personal values are encrypted; exact lookups use the people module's
blind index of the document number. Rows are written by screening.services and
screening.imports alone; `ArrivalTally` is the per-node counter the board reads.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangkong.core.fields import EncryptedTextField
from fangkong.core.scope import path_indexes
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.people.models import Person


class SourceKind(models.TextChoices):
    PUSH_LIST = "push_list", _("Push list")
    ASSIST_REQUEST = "assist_request", _("Assist request")
    TRANSPORT = "transport", _("Railway/airport list")
    SELF_REPORT = "self_report", _("Self-report")
    CANVASS = "canvass", _("Canvass")


class ReturneeClass(models.TextChoices):
    MIGRANT_WORKER = "migrant_worker", _("Migrant worker")
    STUDENT = "student", _("Student")
    ABROAD = "abroad", _("Returnee from abroad")
    DRIVER = "driver", _("Driver")
    OTHER = "other", _("Other")


class ArrivalStatus(models.TextChoices):
    RECEIVED = "received", _("To verify")
    VERIFIED = "verified", _("Verified")
    NOT_REACHED = "not_reached", _("Not reached")
    TRANSFERRED = "transferred", _("Transferred")


class NotReachedReason(models.TextChoices):
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    NO_SUCH_PERSON = "no_such_person", _("No such person")
    NOT_IN_CITY = "not_in_city", _("Not in this city")
    LEFT = "left", _("Has left")
    REFUSED = "refused", _("Refused")


OPEN = Q(closed_at__isnull=True)


class Arrival(models.Model):
    doc_type = models.CharField(max_length=16)
    doc_number = EncryptedTextField()
    doc_bidx = models.CharField(max_length=32)
    name = EncryptedTextField()
    phone = EncryptedTextField(blank=True)
    address = EncryptedTextField(blank=True)
    # The registry's person with this document number, when there is one.
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who answers for the arrival: a grid once placed; a higher node (the town's queue) while
    # the address is not resolved to a grid.
    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    jurisdiction_path = models.CharField(max_length=255)
    placed = models.BooleanField(default=False)
    origin = models.CharField(max_length=200, blank=True)
    route = models.CharField(max_length=500, blank=True)
    risk_codes = models.JSONField(default=list, blank=True)
    risk_level = models.CharField(max_length=8, blank=True)
    category = models.CharField(max_length=32, blank=True)  # a policy Category, or ""
    measure = models.CharField(max_length=32, blank=True)  # the rulebook's first measure
    returnee_class = models.CharField(
        max_length=16, choices=ReturneeClass.choices, default=ReturneeClass.OTHER
    )
    arrival_date = models.DateField(null=True, blank=True)
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=ArrivalStatus.choices, default=ArrivalStatus.RECEIVED
    )
    not_reached_reason = models.CharField(
        max_length=16, choices=NotReachedReason.choices, blank=True
    )
    address_confirmed = models.BooleanField(default=False)
    sample_ref = models.CharField(max_length=64, blank=True)
    sampled_at = models.DateTimeField(null=True, blank=True)
    under_control = models.BooleanField(default=False)
    order_id = models.BigIntegerField(null=True, blank=True)
    notes = EncryptedTextField(blank=True)
    source_count = models.PositiveSmallIntegerField(default=1)
    # The import batch that created the row (tells "created" from "merged" after a bulk
    # insert that skipped persons someone else had just opened).
    first_batch_id = models.BigIntegerField(null=True, blank=True)
    due_at = models.DateTimeField()
    assignment_id = models.BigIntegerField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)  # transferred to another district

    class Meta:
        constraints = [
            # One open arrival per person: a second list naming them adds a source.
            models.UniqueConstraint(
                fields=["doc_bidx"], condition=OPEN, name="arrival_one_open_per_person"
            ),
        ]
        indexes = [
            *path_indexes("arrival"),
            models.Index(
                fields=["jurisdiction_path", "-created_at", "id"], name="arrival_list_idx"
            ),
            # The board's live figures (unverified arrivals overdue, and older than the
            # rulebook's hours): one scan of this index alone counts both, per child node
            # (`status` is a column too, or SQLite visits the table to re-check it).
            models.Index(
                fields=["jurisdiction_path", "due_at", "created_at", "status"],
                name="arrival_open_idx",
                condition=Q(status="received"),
                # PostgreSQL answers LIKE 'path%' from the first column (see path_indexes).
                opclasses=["varchar_pattern_ops", "timestamptz_ops", "timestamptz_ops", "text_ops"],
            ),
            models.Index(
                fields=["jurisdiction_path", "id"],
                name="arrival_unplaced_idx",
                condition=Q(placed=False, closed_at__isnull=True),
            ),
            models.Index(fields=["doc_bidx"], name="arrival_doc_idx"),
        ]

    def __str__(self) -> str:
        return f"Arrival {self.pk} ({self.status})"


class ImportBatch(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Rejected")

    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    jurisdiction_path = models.CharField(max_length=255)
    source_name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=SourceKind.choices)
    filename = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(default=0)
    content = models.BinaryField(null=True, blank=True)  # held until the job has run
    mapping = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    merged_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [{row, column, reason}]
    error_count = models.PositiveIntegerField(default=0)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # The same file imported into the same territory is the same batch.
            models.UniqueConstraint(
                fields=["jurisdiction_path", "sha256"],
                condition=Q(state="done"),
                name="importbatch_file_once",
            ),
        ]
        indexes = [
            *path_indexes("importbatch"),
            models.Index(fields=["jurisdiction_path", "-created_at"], name="importbatch_list_idx"),
        ]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.state})"


class ArrivalSource(models.Model):
    """One list (or report) that named the arrival. `key` makes a repeat a no-op."""

    arrival = models.ForeignKey(Arrival, on_delete=models.CASCADE, related_name="sources")
    kind = models.CharField(max_length=16, choices=SourceKind.choices)
    name = models.CharField(max_length=100)
    key = models.CharField(max_length=120)
    batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    row_number = models.PositiveIntegerField(null=True, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["arrival", "key"], name="arrivalsource_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


class SourceMapping(models.Model):
    """A source's saved column mapping: header text -> field, reused on its next file."""

    jurisdiction_path = models.CharField(max_length=255)
    source_name = models.CharField(max_length=100)
    mapping = models.JSONField(default=dict)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction_path", "source_name"], name="sourcemapping_once"
            ),
        ]

    def __str__(self) -> str:
        return self.source_name


class AssistRequest(models.Model):
    """协查函: persons a district sends to another district's inbox to verify."""

    class State(models.TextChoices):
        SENT = "sent", _("Sent")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        REPLIED = "replied", _("Replied")

    from_jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    from_path = models.CharField(max_length=255)
    to_jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    jurisdiction_path = models.CharField(max_length=255)  # the receiver's
    reason = models.CharField(max_length=500)
    basis_type = models.CharField(max_length=16)
    basis_id = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.SENT)
    items_total = models.PositiveIntegerField(default=0)
    items_replied = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField()
    assignment_id = models.BigIntegerField(null=True, blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=150, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["from_path", "jurisdiction_path", "basis_type", "basis_id"],
                name="assistrequest_once_per_basis",
            ),
        ]
        indexes = [
            *path_indexes("assistrequest"),
            models.Index(
                fields=["from_path"], name="assistreq_from_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["jurisdiction_path", "-created_at"], name="assistreq_inbox_idx"),
        ]

    def __str__(self) -> str:
        return f"Assist request {self.pk} ({self.state})"


class AssistItem(models.Model):
    """One person of an assist request and the receiver's structured reply about them."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")
        VERIFIED = "verified", _("Verified and under the right measure")
        NO_SUCH_PERSON = "no_such_person", _("No such person")
        NOT_IN_CITY = "not_in_city", _("Not in this city")
        LEFT = "left", _("Has left")
        NOT_REACHED = "not_reached", _("Not reached")
        TRANSFERRED = "transferred", _("Transferred to another district")

    request = models.ForeignKey(AssistRequest, on_delete=models.CASCADE, related_name="items")
    arrival = models.ForeignKey(Arrival, on_delete=models.PROTECT, related_name="assist_items")
    doc_bidx = models.CharField(max_length=32)
    category = models.CharField(max_length=32, blank=True)
    note = models.CharField(max_length=500, blank=True)
    sender_person_id = models.BigIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    outcome_note = models.CharField(max_length=500, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "doc_bidx"], name="assistitem_once"),
        ]
        indexes = [models.Index(fields=["arrival"], name="assistitem_arrival_idx")]

    def __str__(self) -> str:
        return f"Assist item {self.pk} ({self.outcome})"


class ArrivalTally(models.Model):
    """Board figures per node (the node's whole subtree): one counter per key
    (received, verified, not_reached, under_control, sampled, duplicates, not_in_city,
    unplaced, transferred). Written with every arrival change, in its transaction."""

    node_path = models.CharField(max_length=255)
    parent_path = models.CharField(max_length=255)
    key = models.CharField(max_length=16)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["node_path", "key"], name="arrivaltally_node_key"),
        ]
        indexes = [models.Index(fields=["parent_path", "key"], name="arrivaltally_parent_idx")]

    def __str__(self) -> str:
        return f"{self.node_path} {self.key}: {self.count}"


class SelfReportHit(models.Model):
    """A public self-report submission, for the per-address hourly limit."""

    client_key = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["client_key", "at"], name="selfreporthit_idx")]

    def __str__(self) -> str:
        return f"{self.client_key} {self.at}"
