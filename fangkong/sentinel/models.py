"""Sentinel tables: reporting units and who reports for them, the registers (drug purchases and
clinic visits), daily reports, the pre-aggregated daily count series and the alerts.
Written by sentinel.services (and the aggregation in sentinel.series) alone."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangkong.accounts.models import ApiToken, User
from fangkong.core.fields import EncryptedTextField
from fangkong.core.scope import path_indexes
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.people.models import Person
from fangkong.places.models import Place
from fangkong.sentinel import rules


class UnitKind(models.TextChoices):
    PHARMACY = rules.UnitKind.PHARMACY.value, _("Pharmacy")
    CLINIC = rules.UnitKind.CLINIC.value, _("Clinic")
    VILLAGE_CLINIC = rules.UnitKind.VILLAGE_CLINIC.value, _("Village clinic")
    FEVER_CLINIC = rules.UnitKind.FEVER_CLINIC.value, _("Fever clinic")


class DrugClass(models.TextChoices):
    ANTIPYRETIC = rules.DrugClass.ANTIPYRETIC.value, _("Antipyretic")
    COUGH = rules.DrugClass.COUGH.value, _("Cough medicine")
    ANTIVIRAL = rules.DrugClass.ANTIVIRAL.value, _("Antiviral")
    ANTIBIOTIC = rules.DrugClass.ANTIBIOTIC.value, _("Antibiotic")


class Stream(models.TextChoices):
    ANTIPYRETIC = rules.Stream.ANTIPYRETIC.value, _("Antipyretic")
    COUGH = rules.Stream.COUGH.value, _("Cough medicine")
    ANTIVIRAL = rules.Stream.ANTIVIRAL.value, _("Antiviral")
    ANTIBIOTIC = rules.Stream.ANTIBIOTIC.value, _("Antibiotic")
    VISIT = rules.Stream.VISIT.value, _("Visit without fever")
    FEVER_VISIT = rules.Stream.FEVER_VISIT.value, _("Fever visit")


class Unit(models.Model):
    """A reporting unit (哨点): a pharmacy, clinic, village clinic or hospital fever clinic."""

    code = models.CharField(max_length=24, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=UnitKind.choices)
    # The registry place it is, when there is one (the synthetic city's pharmacies are).
    place = models.OneToOneField(
        Place, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    jurisdiction_path = models.CharField(max_length=255)
    # The town and district it aggregates into (codes, "" above that level).
    town_code = models.CharField(max_length=12, blank=True)
    district_code = models.CharField(max_length=12, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            *path_indexes("sentinelunit"),
            models.Index(fields=["active", "jurisdiction_path"], name="sentinelunit_active_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def record_kind(self) -> str:
        return rules.RECORD_KIND_OF_UNIT[rules.UnitKind(self.kind)].value


class UnitOperator(models.Model):
    """A staff account (role pharmacy) that reports for a unit at its counter page."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="operators")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "unit"], name="sentinel_operator_unique")
        ]

    def __str__(self) -> str:
        return f"Operator {self.user_id} of unit {self.unit_id}"


class UnitToken(models.Model):
    """An API token a unit's point-of-sale or hospital system uses for its batches."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="tokens")
    token = models.OneToOneField(ApiToken, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Token {self.token_id} of unit {self.unit_id}"


class Registration(models.Model):
    """One register line: a drug purchase (one drug class) or a clinic visit.

    The buyer's or patient's identity is stored encrypted with blind indexes (as in people),
    because a pharmacy may not register persons; `person` links the registry's person with
    that document number when there is one, and `home_path` is where they live (their grid).
    """

    class Kind(models.TextChoices):
        PURCHASE = rules.RecordKind.PURCHASE.value, _("Drug purchase")
        VISIT = rules.RecordKind.VISIT.value, _("Clinic visit")

    class Source(models.TextChoices):
        COUNTER = "counter", _("Counter page")
        API = "api", _("Point-of-sale or hospital system")
        UPLOAD = "upload", _("Daily file")

    class Test(models.TextChoices):
        RECENT_NEGATIVE = rules.TestStatus.RECENT_NEGATIVE.value, _("Negative within lookback")
        ASSIGNED = rules.TestStatus.ASSIGNED.value, _("Test required (assigned to grid)")
        SAMPLED = rules.TestStatus.SAMPLED.value, _("Sampled on the spot")

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    jurisdiction_path = models.CharField(max_length=255)  # the unit's
    kind = models.CharField(max_length=10, choices=Kind.choices)
    stream = models.CharField(max_length=16, choices=Stream.choices)
    source = models.CharField(max_length=10, choices=Source.choices)
    # The reporting system's own id; a retried batch is matched on it. NULL: none given.
    client_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    occurred_at = models.DateTimeField()
    day = models.DateField()  # local (Asia/Shanghai) date of occurred_at: the series day
    doc_type = models.CharField(max_length=16)
    doc_number = EncryptedTextField()
    doc_bidx = models.CharField(max_length=32)
    name = EncryptedTextField()
    phone = EncryptedTextField(blank=True)
    phone_bidx = models.CharField(max_length=32, blank=True)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    home_grid = models.ForeignKey(
        Jurisdiction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    home_path = models.CharField(max_length=255, blank=True)
    drug_class = models.CharField(max_length=12, choices=DrugClass.choices, blank=True)
    product = models.CharField(max_length=100, blank=True)  # name or barcode
    quantity = models.PositiveSmallIntegerField(default=1)
    fever = models.BooleanField(default=False)
    cough = models.BooleanField(default=False)
    sore_throat = models.BooleanField(default=False)
    other_symptoms = models.CharField(max_length=200, blank=True)
    temperature = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    travel_history = models.CharField(max_length=200, blank=True)
    contact_history = models.CharField(max_length=200, blank=True)
    for_other = models.BooleanField(default=False)
    for_name = EncryptedTextField(blank=True)
    for_doc_bidx = models.CharField(max_length=32, blank=True)
    for_relation = models.CharField(max_length=32, blank=True)
    repeat_buyer = models.BooleanField(default=False)
    proxy_buyer = models.BooleanField(default=False)
    test_status = models.CharField(max_length=16, choices=Test.choices)
    assignment_id = models.BigIntegerField(null=True, blank=True)
    sampled_at = models.DateTimeField(null=True, blank=True)
    sample_ref = models.CharField(max_length=64, blank=True)
    reported_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "client_id"],
                condition=Q(client_id__isnull=False),
                name="sentinel_registration_client_unique",
            ),
            models.CheckConstraint(
                condition=Q(kind="visit") | ~Q(drug_class=""),
                name="sentinel_purchase_has_class",
            ),
        ]
        indexes = [
            *path_indexes("sentinelreg"),
            models.Index(fields=["unit", "day", "stream"], name="sentinelreg_unit_day_idx"),
            models.Index(fields=["day", "stream"], name="sentinelreg_day_idx"),
            models.Index(fields=["doc_bidx", "occurred_at"], name="sentinelreg_doc_idx"),
        ]

    def __str__(self) -> str:
        return f"Registration {self.pk} ({self.kind}, {self.stream})"


class DailyReport(models.Model):
    """A unit's filing for a day: its records, or an explicit zero report (零报告)."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    jurisdiction_path = models.CharField(max_length=255)
    day = models.DateField()
    records = models.PositiveIntegerField(default=0)
    zero = models.BooleanField(default=False)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    filed_by = models.CharField(max_length=150)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "day"], name="sentinel_daily_report_unique"),
            models.CheckConstraint(
                condition=Q(zero=False) | Q(records=0), name="sentinel_zero_report_empty"
            ),
        ]
        indexes = [
            *path_indexes("sentineldaily"),
            models.Index(fields=["day", "unit"], name="sentineldaily_day_idx"),
        ]

    def __str__(self) -> str:
        return f"Daily report {self.unit_id} {self.day}"


class SeriesCount(models.Model):
    """One day of one count series (pre-aggregated by sentinel.series): per unit, town or
    district and per stream. Days without records have no row: a missing row is zero."""

    level = models.CharField(max_length=8)
    ref = models.CharField(max_length=24)  # unit code, or town/district code
    jurisdiction_path = models.CharField(max_length=255)  # unit's, town's or district's path
    stream = models.CharField(max_length=16, choices=Stream.choices)
    day = models.DateField()
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["level", "ref", "stream", "day"], name="sentinel_series_unique"
            )
        ]
        indexes = [
            *path_indexes("sentinelseries"),
            models.Index(fields=["day", "level"], name="sentinelseries_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.ref} {self.stream} {self.day}: {self.count}"


class Alert(models.Model):
    """An alarm of the detection run on one series and day, and its verification."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open (being verified)")
        CLOSED = "closed", _("Closed")

    class Outcome(models.TextChoices):
        FALSE_ALARM = rules.Outcome.FALSE_ALARM.value, _("False alarm")
        CLUSTER_SUSPECTED = rules.Outcome.CLUSTER_SUSPECTED.value, _("Cluster suspected")
        EXPLAINED = rules.Outcome.EXPLAINED.value, _("Explained")

    level = models.CharField(max_length=8)
    ref = models.CharField(max_length=24)
    name = models.CharField(max_length=120)  # the unit's or node's name, for lists
    jurisdiction_path = models.CharField(max_length=255)
    stream = models.CharField(max_length=16, choices=Stream.choices)
    day = models.DateField()
    count = models.PositiveIntegerField()
    threshold = models.FloatField()
    method = models.CharField(max_length=16)
    params = models.JSONField(default=dict)
    policy_version = models.PositiveIntegerField()
    # The evaluated series around the alarm: [[iso day, count, threshold or null], ...].
    evidence = models.JSONField(default=list)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    outcome_reason = models.CharField(max_length=500, blank=True)
    cluster_ref = models.CharField(max_length=64, blank=True)
    assignment_id = models.BigIntegerField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=150, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["level", "ref", "stream", "day"], name="sentinel_alert_unique"
            ),
            models.CheckConstraint(
                condition=Q(status="open", outcome="") | Q(status="closed") & ~Q(outcome=""),
                name="sentinel_alert_outcome_when_closed",
            ),
        ]
        indexes = [
            *path_indexes("sentinelalert"),
            models.Index(fields=["status", "jurisdiction_path"], name="sentinelalert_status_idx"),
            models.Index(fields=["day"], name="sentinelalert_day_idx"),
        ]

    def __str__(self) -> str:
        return f"Alert {self.pk} ({self.level} {self.ref} {self.stream} {self.day})"
