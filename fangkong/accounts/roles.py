"""Roles and what each may do. The only place that maps a role to permissions."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.perms import Perm


class Role(models.TextChoices):
    COMMAND_OFFICE = "command_office", _("Command office")
    DISTRICT_STAFF = "district_staff", _("District staff")
    TOWN_STAFF = "town_staff", _("Town staff")
    GRID_WORKER = "grid_worker", _("Grid worker")
    INVESTIGATOR = "investigator", _("Investigator")
    SAMPLING_SITE = "sampling_site", _("Sampling site")
    LAB = "lab", _("Laboratory")
    PHARMACY = "pharmacy", _("Pharmacy/clinic")
    FACILITY_MANAGER = "facility_manager", _("Quarantine facility manager")
    SUPERVISOR = "supervisor", _("Supervisor")
    SYSADMIN = "sysadmin", _("System administrator")
    EMPLOYER = "employer", _("Employer of a key population")


_READ = {
    Perm.PERSON_VIEW,
    Perm.JURISDICTION_VIEW,
    Perm.PLACE_VIEW,
    Perm.POLICY_VIEW,
    Perm.CONTROL_VIEW,
    Perm.ASSIGNMENT_VIEW,
}
_WORK = {Perm.ASSIGNMENT_WORK}
_CONTROL = {Perm.CONTROL_ISSUE, Perm.CONTROL_CHANGE}
# Reading the operations modules' boards and lists.
_OPS_READ = {
    Perm.SCREENING_VIEW,
    Perm.TRACING_VIEW,
    Perm.TESTING_VIEW,
    Perm.KEYPOP_VIEW,
    Perm.SENTINEL_VIEW,
}
# Running them in a territory (district and town staff, the command office).
_OPS_RUN = {
    Perm.SCREENING_IMPORT,
    Perm.SCREENING_VERIFY,
    Perm.SCREENING_ASSIST,
    Perm.TRACING_WRITE,
    Perm.TESTING_MANAGE,
    Perm.TESTING_SAMPLE,
    Perm.TESTING_RESULT,
    Perm.KEYPOP_MANAGE,
    Perm.SENTINEL_MANAGE,
}

ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.COMMAND_OFFICE: frozenset(
        _READ
        | _WORK
        | _CONTROL
        | _OPS_READ
        | _OPS_RUN
        | {
            Perm.PERSON_VIEW_FULL,
            Perm.PERSON_WRITE,
            Perm.PERSON_MERGE,
            Perm.PERSON_EXPORT,
            Perm.JURISDICTION_WRITE,
            Perm.PLACE_WRITE,
            Perm.AUDIT_VIEW,
            Perm.POLICY_WRITE,
            Perm.CONTROL_APPROVE,
            Perm.ASSIGNMENT_MANAGE,
            Perm.LAKE_INGEST,
        }
    ),
    Role.DISTRICT_STAFF: frozenset(
        _READ
        | _WORK
        | _CONTROL
        | _OPS_READ
        | _OPS_RUN
        | {
            Perm.PERSON_VIEW_FULL,
            Perm.PERSON_WRITE,
            Perm.PERSON_MERGE,
            Perm.PERSON_EXPORT,
            Perm.JURISDICTION_WRITE,
            Perm.PLACE_WRITE,
            Perm.CONTROL_APPROVE,
            Perm.ASSIGNMENT_MANAGE,
            Perm.LAKE_INGEST,  # check-ins of the district's venues (files, scanner clients)
        }
    ),
    Role.TOWN_STAFF: frozenset(
        _READ
        | _WORK
        | _CONTROL
        | _OPS_READ
        | {Perm.PERSON_VIEW_FULL, Perm.PERSON_WRITE, Perm.PLACE_WRITE, Perm.ASSIGNMENT_MANAGE}
        | {Perm.SCREENING_IMPORT, Perm.SCREENING_VERIFY, Perm.TESTING_MANAGE}
        | {Perm.TESTING_SAMPLE, Perm.SENTINEL_MANAGE, Perm.KEYPOP_MANAGE}
    ),
    # Grid workers visit people at home: they need the full phone and address of their grid.
    Role.GRID_WORKER: frozenset(
        _READ
        | _WORK
        | {Perm.PERSON_VIEW_FULL, Perm.PERSON_WRITE, Perm.CONTROL_CHANGE}
        | {Perm.SCREENING_VIEW, Perm.SCREENING_VERIFY, Perm.TESTING_VIEW, Perm.TESTING_SAMPLE}
    ),
    Role.INVESTIGATOR: frozenset(
        _READ
        | _WORK
        | _CONTROL
        | _OPS_READ
        | {Perm.PERSON_VIEW_FULL, Perm.PERSON_WRITE, Perm.TRACING_WRITE}
    ),
    Role.SAMPLING_SITE: frozenset({Perm.PERSON_VIEW, Perm.PLACE_VIEW, Perm.TESTING_SAMPLE}),
    Role.LAB: frozenset({Perm.PLACE_VIEW, Perm.TESTING_RESULT}),
    Role.PHARMACY: frozenset({Perm.PLACE_VIEW, Perm.SENTINEL_REPORT}),
    Role.FACILITY_MANAGER: frozenset(_READ | _WORK | {Perm.PERSON_VIEW_FULL, Perm.CONTROL_CHANGE}),
    Role.SUPERVISOR: frozenset(_READ | {Perm.AUDIT_VIEW}),
    # Administrators manage accounts and read the audit trail, not residents' data.
    Role.SYSADMIN: frozenset({Perm.ACCOUNT_ADMIN, Perm.AUDIT_VIEW, Perm.JURISDICTION_VIEW}),
    # An employer sees and maintains the key-population list of its own staff, nothing else.
    Role.EMPLOYER: frozenset({Perm.KEYPOP_VIEW}),
}


def perms_for(role: str) -> frozenset[Perm]:
    return ROLE_PERMS.get(role, frozenset())
