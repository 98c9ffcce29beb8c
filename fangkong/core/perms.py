"""Permissions. Roles grant sets of these (fangkong.accounts.roles); services require them."""

from __future__ import annotations

from enum import StrEnum


class Perm(StrEnum):
    PERSON_VIEW = "person.view"
    PERSON_VIEW_FULL = "person.view_full"  # see name, ID number, phone, address unmasked
    PERSON_WRITE = "person.write"
    PERSON_MERGE = "person.merge"
    PERSON_EXPORT = "person.export"
    JURISDICTION_VIEW = "jurisdiction.view"
    JURISDICTION_WRITE = "jurisdiction.write"
    PLACE_VIEW = "place.view"
    PLACE_WRITE = "place.write"
    ACCOUNT_ADMIN = "account.admin"
    AUDIT_VIEW = "audit.view"
    POLICY_VIEW = "policy.view"
    POLICY_WRITE = "policy.write"
    CONTROL_VIEW = "control.view"
    CONTROL_ISSUE = "control.issue"  # put a person under a measure, with a basis
    CONTROL_CHANGE = "control.change"  # change status, record tests, release
    CONTROL_APPROVE = "control.approve"  # second approver for manual and bulk changes
    ASSIGNMENT_VIEW = "assignment.view"
    ASSIGNMENT_WORK = "assignment.work"  # start, complete, reject work in scope
    ASSIGNMENT_MANAGE = "assignment.manage"  # reassign, create ad-hoc work
