"""Mass nucleic-acid testing (核酸检测): rounds over jurisdiction nodes, sampling sites, pooled
tubes and the scans that put persons in them, lab results, positive pools and their retests,
excusals, and the pre-aggregated coverage that the boards read.

Written by mass_testing.services alone. Every row that belongs to a territory carries its
`jurisdiction_path` (indexed) so that selectors scope it with `core.scope.within`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangkong.core.scope import path_indexes
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.people.models import Person


class Round(models.Model):
    """A testing round (one campaign): nodes covered, deadline, status."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    name = models.CharField(max_length=100)
    # The deepest node covering every area of the round: who may see and run it.
    jurisdiction_path = models.CharField(max_length=255)
    starts_at = models.DateTimeField()
    deadline = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    policy_version = models.PositiveIntegerField()
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    # When the coverage counters were last recounted (None: never).
    coverage_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            *path_indexes("mtround"),
            models.Index(fields=["status", "-starts_at"], name="mtround_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Round {self.pk} {self.name}"


class RoundArea(models.Model):
    """One node a round covers, with the area type that decides its pooling rule."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="areas")
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    jurisdiction_path = models.CharField(max_length=255)
    area_type = models.CharField(max_length=20)
    pooling = models.CharField(max_length=12)
    pool_size = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "jurisdiction"], name="mtarea_round_node"),
            models.CheckConstraint(condition=Q(pool_size__gte=1), name="mtarea_pool_size_pos"),
        ]
        indexes = path_indexes("mtarea")

    def __str__(self) -> str:
        return f"{self.jurisdiction_path} ({self.area_type})"


class Site(models.Model):
    """A sampling site of a round: where, when open, how many samplers."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="sites")
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    jurisdiction_path = models.CharField(max_length=255)
    name = models.CharField(max_length=100)
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    samplers = models.PositiveSmallIntegerField(default=1)

    class Meta:
        indexes = path_indexes("mtsite")

    def __str__(self) -> str:
        return self.name


class Tube(models.Model):
    """A sample tube with its barcode: pooled (N-in-1), household, single, or a retest."""

    class Kind(models.TextChoices):
        POOLED = "pooled", _("Pooled")
        HOUSEHOLD = "household", _("Household")
        SINGLE = "single", _("Single")
        RETEST = "retest", _("Single-tube retest")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    class Result(models.TextChoices):
        PENDING = "pending", _("Pending")
        NEGATIVE = "negative", _("Negative")
        POSITIVE = "positive", _("Positive")

    # Inserted by the ingest alone, which reads the round and the batch's sites first: neither
    # is checked again by the database (decision 0011); the ORM still applies on_delete.
    round = models.ForeignKey(Round, models.CASCADE, related_name="tubes", db_constraint=False)
    # Barcodes are printed once for the whole city: a lab matches on the barcode alone.
    barcode = models.CharField(max_length=40, unique=True)
    site = models.ForeignKey(Site, models.PROTECT, null=True, blank=True, db_constraint=False)
    jurisdiction_path = models.CharField(max_length=255)  # the site's node (who ran it)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    pool_size = models.PositiveSmallIntegerField()
    members = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=8, choices=Result.choices, default=Result.PENDING)
    ct_value = models.FloatField(null=True, blank=True)
    result_at = models.DateTimeField(null=True, blank=True)
    lab = models.CharField(max_length=100, blank=True)
    # The members' grid when they share one (a site samples its neighbourhood), else None with
    # `grids_mixed` set: a result counts the members in that grid without reading samples.
    member_grid = models.BigIntegerField(null=True, blank=True)
    grids_mixed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(members__lte=models.F("pool_size")), name="mttube_within_pool_size"
            ),
        ]
        # No index reads `result` or `status`: a result or a closing tube is a HOT update in
        # place on PostgreSQL (free room kept per page: migration 0003), no new index entries.
        indexes = path_indexes("mttube")

    def __str__(self) -> str:
        return self.barcode


class Sample(models.Model):
    """One scan: a person's swab went into a tube. `client_id` is the sampling client's own id
    for the scan, so a retried batch finds its scans instead of adding them again."""

    # Ten million rows a round, written by the ingest alone, which reads the person, sites and
    # round and locks or creates the tube in its transaction: no reference is checked again by
    # the database (per row, 60 % of an insert on PostgreSQL; decision 0011); the ORM still
    # applies on_delete. No single-column index where a composite one leads with the column.
    round = models.ForeignKey(
        Round, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    tube = models.ForeignKey(
        Tube, on_delete=models.CASCADE, related_name="samples", db_constraint=False, db_index=False
    )
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    # The person's home node when sampled: coverage and scope follow where the person lives.
    jurisdiction_path = models.CharField(max_length=255)
    grid = models.ForeignKey(
        Jurisdiction,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,  # no reader by grid; deleting a grid node (rare) reads the table
    )
    site = models.ForeignKey(
        Site,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,  # no reader by site; deleting a site (rare) reads the table
    )
    sampler = models.CharField(max_length=64, blank=True)
    sampled_at = models.DateTimeField()
    client_id = models.CharField(max_length=64)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "client_id"], name="mtsample_client_id"),
            models.UniqueConstraint(fields=["tube", "person"], name="mtsample_tube_person"),
        ]
        indexes = [
            *path_indexes("mtsample"),
            models.Index(fields=["person", "sampled_at"], name="mtsample_person_idx"),
            # Covers the coverage rebuild's per-person pass (read in person order, index only).
            models.Index(
                fields=["round", "person", "tube", "sampled_at"], name="mtsample_round_person_cov"
            ),
        ]

    def __str__(self) -> str:
        return f"Sample {self.pk} in tube {self.tube_id}"


PROBLEM = Q(outcome__in=["unknown_tube", "conflict"])


class LabReport(models.Model):
    """One result line a lab sent (file row or API item), matched or not. Unknown tubes and
    conflicting repeats stay here with their outcome: reported, never guessed."""

    class Outcome(models.TextChoices):
        RECEIVED = "received", _("Received, not matched yet")
        MATCHED = "matched", _("Matched")
        REPEAT = "repeat", _("Same result again")
        UNKNOWN_TUBE = "unknown_tube", _("Unknown tube")
        CONFLICT = "conflict", _("Conflicts with the recorded result")

    barcode = models.CharField(max_length=40)
    # Set only by results_match, from the tube it joined in the same statement: no check by
    # the database per line (a million lines a round); the ORM still applies on_delete.
    tube = models.ForeignKey(
        Tube, null=True, blank=True, on_delete=models.CASCADE, db_constraint=False
    )
    # The tube's path when matched; the lab's own node otherwise (who may see the report).
    jurisdiction_path = models.CharField(max_length=255)
    result = models.CharField(max_length=8)
    ct_value = models.FloatField(null=True, blank=True)
    tested_at = models.DateTimeField()
    lab = models.CharField(max_length=100)
    source = models.CharField(max_length=120)  # "upload:<file sha256>", "api:<batch id>"
    outcome = models.CharField(max_length=14, choices=Outcome.choices)
    received_at = models.DateTimeField()

    class Meta:
        indexes = [
            *path_indexes("mtlabreport"),
            # The lines to look into (unknown tubes, conflicts): a few among millions.
            models.Index(
                fields=["-received_at"], condition=PROBLEM, name="mtlabreport_problem_idx"
            ),
            models.Index(fields=["source", "outcome"], name="mtlabreport_source_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.barcode}: {self.result} ({self.outcome})"


class PositivePool(models.Model):
    """A positive tube of several persons: held, retested one by one, then resolved."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    tube = models.OneToOneField(Tube, on_delete=models.CASCADE, related_name="pool")
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="+")
    jurisdiction_path = models.CharField(max_length=255)
    members = models.PositiveSmallIntegerField()
    detected_at = models.DateTimeField()
    retest_due_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    resolved_at = models.DateTimeField(null=True, blank=True)
    positives = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [
            *path_indexes("mtpool"),
            models.Index(fields=["status", "retest_due_at"], name="mtpool_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Positive pool {self.tube_id}"


class Retest(models.Model):
    """A pool member's single-tube retest."""

    class Result(models.TextChoices):
        PENDING = "pending", _("Pending")
        NEGATIVE = "negative", _("Negative")
        POSITIVE = "positive", _("Positive")

    pool = models.ForeignKey(PositivePool, on_delete=models.CASCADE, related_name="retests")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    jurisdiction_path = models.CharField(max_length=255)  # the member's home node
    result = models.CharField(max_length=8, choices=Result.choices, default=Result.PENDING)
    tube = models.ForeignKey(Tube, null=True, blank=True, on_delete=models.SET_NULL)
    hold_order_id = models.BigIntegerField(null=True, blank=True)  # control order holding them
    assignment_id = models.BigIntegerField(null=True, blank=True)
    sampled_at = models.DateTimeField(null=True, blank=True)
    result_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pool", "person"], name="mtretest_pool_person"),
        ]
        indexes = [
            *path_indexes("mtretest"),
            models.Index(fields=["person", "result"], name="mtretest_person_idx"),
        ]

    def __str__(self) -> str:
        return f"Retest of person {self.person_id} (pool {self.pool_id})"


class Excusal(models.Model):
    """A person due in a round who need not be sampled there, with the reason."""

    class Reason(models.TextChoices):
        BEDRIDDEN = "bedridden", _("Bedridden (sampled at home or not at all)")
        AWAY = "away", _("Away from the city")
        UNDER_CONTROL = "under_control", _("Already under control (tested by that order)")
        OTHER = "other", _("Other")

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="excusals")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    jurisdiction_path = models.CharField(max_length=255)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "person"], name="mtexcusal_round_person"),
        ]
        indexes = path_indexes("mtexcusal")

    def __str__(self) -> str:
        return f"Excusal of person {self.person_id} ({self.reason})"


class Coverage(models.Model):
    """Counters of one grid in one round, moved by the ingest, lab results and excusals, and
    corrected by the recount (services.coverage). Towns and districts sum grids by path."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="+")
    grid = models.ForeignKey(Jurisdiction, on_delete=models.CASCADE, related_name="+")
    jurisdiction_path = models.CharField(max_length=255)
    due = models.PositiveIntegerField(default=0)
    sampled = models.PositiveIntegerField(default=0)
    resulted = models.PositiveIntegerField(default=0)
    positive = models.PositiveIntegerField(default=0)
    excused = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "grid"], name="mtcoverage_round_grid"),
        ]
        indexes = path_indexes("mtcoverage")

    def __str__(self) -> str:
        return f"Coverage of {self.jurisdiction_path} in round {self.round_id}"


class Progress(models.Model):
    """Residents sampled per grid and hour of a round (first sample of each person), counted by
    the ingest and recounted with the coverage: the progress chart sums it over an area."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="+")
    jurisdiction_path = models.CharField(max_length=255)
    hour = models.DateTimeField()
    sampled = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["round", "hour", "jurisdiction_path"], name="mtprogress_round_hour_path"
            ),
        ]
        indexes = path_indexes("mtprogress")

    def __str__(self) -> str:
        return f"{self.jurisdiction_path} {self.hour}: {self.sampled}"


class RoundMember(models.Model):
    """A person sampled in a round (one row per person and round, written by the ingest): their
    latest tube, the grid their first sample counted in, sampled more than once or not. An
    open latest tube refuses a second one, even for two batches at once (the constraint).
    Coverage counts a first sample as sampled, and repeat persons' results one by one."""

    # Checked by the ingest, as the sample's; no index repeats the unique constraint's first.
    round = models.ForeignKey(
        Round, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    person = models.ForeignKey(Person, models.CASCADE, related_name="+", db_constraint=False)
    tube = models.ForeignKey(
        Tube, models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    grid_id = models.BigIntegerField(null=True, blank=True)
    repeat = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "person"], name="mtopen_round_person"),
        ]
        indexes = [
            models.Index(fields=["round"], condition=Q(repeat=True), name="mtmember_repeat_idx"),
        ]

    def __str__(self) -> str:
        return f"Person {self.person_id} in tube {self.tube_id}"
