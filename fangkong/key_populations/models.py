"""Key populations (重点人群): employers, their members under routine testing, tests the
employer organised, member-list imports, and the link from an employer's accounts.

Written by key_populations.services and .imports alone. A member row belongs to its employer's
jurisdiction (`jurisdiction_path`, the employer's node): the employer's territory answers for
the list. Work for an overdue member goes to the grid where the person lives.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.fields import EncryptedTextField
from fangkong.core.scope import path_indexes
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.key_populations.rules import MemberStatus
from fangkong.people.models import Person
from fangkong.policy.sections.key_populations import GroupKind

GROUP_LABELS = {
    GroupKind.MAIL_EXPRESS: _("International mail and express"),
    GroupKind.COLD_CHAIN: _("Cold chain"),
    GroupKind.PORT_AIRPORT: _("Port and airport"),
    GroupKind.MEDICAL: _("Medical staff"),
    GroupKind.QUARANTINE_STAFF: _("Quarantine facility staff"),
    GroupKind.DRIVER: _("Drivers"),
}
GROUP_CHOICES = [(g.value, GROUP_LABELS[g]) for g in GroupKind]
STATUS_CHOICES = [
    (MemberStatus.OK.value, _("Tested")),
    (MemberStatus.DUE.value, _("Due")),
    (MemberStatus.OVERDUE.value, _("Overdue")),
]


class Employer(models.Model):
    """A unit whose staff are a key population (a courier depot, a cold store, a hospital)."""

    name = models.CharField(max_length=100)
    # 统一社会信用代码: 18 characters; the employer's identity across imports.
    credit_code = models.CharField(max_length=18, unique=True)
    group_kind = models.CharField(max_length=20, choices=GROUP_CHOICES)  # members' default group
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    jurisdiction_path = models.CharField(max_length=255)
    contact_name = EncryptedTextField(blank=True)
    contact_phone = EncryptedTextField(blank=True)
    active = models.BooleanField(default=True)
    # Pre-aggregated by every import, test and recompute: boards read these, never count.
    member_count = models.PositiveIntegerField(default=0)
    due_count = models.PositiveIntegerField(default=0)
    overdue_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            *path_indexes("kp_employer"),
            models.Index(fields=["name"], name="kp_employer_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class EmployerAccount(models.Model):
    """An employer's own sign-in: the user sees and maintains that employer's members only.

    Kept here rather than on accounts.User: the employer link is this module's concern.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    employer = models.ForeignKey(Employer, on_delete=models.CASCADE, related_name="accounts")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"account {self.user_id} of employer {self.employer_id}"


class Member(models.Model):
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="members")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    group_kind = models.CharField(max_length=20, choices=GROUP_CHOICES)
    jurisdiction_path = models.CharField(max_length=255)  # the employer's
    active = models.BooleanField(default=True)
    joined_on = models.DateField()
    left_on = models.DateField(null=True, blank=True)
    # The latest sampling day (Asia/Shanghai) known from mass testing or the employer.
    last_tested_on = models.DateField(null=True, blank=True)
    next_due_on = models.DateField()
    status = models.CharField(max_length=10, choices=STATUS_CHOICES)
    # The due day for which grid work was created (one work item per missed due day).
    work_due_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["employer", "person"], name="kp_member_once"),
        ]
        indexes = [
            *path_indexes("kp_member"),
            # The employer's list by status and due day; the counters' subqueries.
            models.Index(
                fields=["employer", "status", "next_due_on"],
                name="kp_member_emp_status_idx",
                condition=Q(active=True),
            ),
            # The recompute per group, and the overdue list of a subtree.
            models.Index(
                fields=["group_kind", "next_due_on"],
                name="kp_member_group_idx",
                condition=Q(active=True),
            ),
            models.Index(
                fields=["status", "jurisdiction_path", "next_due_on"],
                name="kp_member_status_path_idx",
                condition=Q(active=True),
            ),
            models.Index(fields=["person"], name="kp_member_person_idx"),
        ]

    def __str__(self) -> str:
        return f"member {self.pk} of employer {self.employer_id}"


class MemberTest(models.Model):
    """A sampling the employer organised (or staff recorded), with its day. Mass-testing
    samples are not copied here: they are read from mass_testing.selectors.last_results."""

    class Source(models.TextChoices):
        EMPLOYER = "employer", _("Employer")
        IMPORT = "import", _("Member list")
        STAFF = "staff", _("Staff")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="tests")
    jurisdiction_path = models.CharField(max_length=255)
    sampled_on = models.DateField()
    source = models.CharField(max_length=10, choices=Source.choices)
    reference = models.CharField(max_length=64, blank=True)
    recorded_by = models.CharField(max_length=150)
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            # The same sampling day twice (a re-sent list) is one test.
            models.UniqueConstraint(fields=["member", "sampled_on"], name="kp_test_once_a_day"),
        ]
        indexes = path_indexes("kp_test")

    def __str__(self) -> str:
        return f"test of member {self.member_id} on {self.sampled_on}"


class MemberImport(models.Model):
    """One member-list file, accepted or refused, with its problems (for the error report)."""

    class Outcome(models.TextChoices):
        DONE = "done", pgettext_lazy("member-list upload", "Imported")
        REFUSED = "refused", pgettext_lazy("member-list upload", "Refused")

    employer = models.ForeignKey(Employer, on_delete=models.CASCADE, related_name="imports")
    jurisdiction_path = models.CharField(max_length=255)
    filename = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    replace = models.BooleanField(default=False)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    left = models.PositiveIntegerField(default=0)
    tests = models.PositiveIntegerField(default=0)
    persons_registered = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [[row, column, reason], ...]
    error_count = models.PositiveIntegerField(default=0)
    by = models.CharField(max_length=150)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            *path_indexes("kp_import"),
            models.Index(fields=["employer", "-at"], name="kp_import_emp_idx"),
        ]

    def __str__(self) -> str:
        return f"import {self.pk} ({self.outcome})"


class RecomputeRun(models.Model):
    """The last recompute: when it ran and up to when mass-testing results were read."""

    finished_at = models.DateTimeField()
    results_since = models.DateTimeField(null=True, blank=True)
    day = models.DateField()
    members = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    work_created = models.PositiveIntegerField(default=0)
    work_closed = models.PositiveIntegerField(default=0)
    policy_version = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"recompute {self.pk} on {self.day}"
