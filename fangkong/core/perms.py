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
    # operations modules
    SCREENING_VIEW = "screening.view"  # arrivals, boards, assist inboxes
    SCREENING_IMPORT = "screening.import"  # push lists and assist-request files
    SCREENING_VERIFY = "screening.verify"  # record a verification outcome, register newcomers
    SCREENING_ASSIST = "screening.assist"  # send assist requests to another district, reply
    TRACING_VIEW = "tracing.view"  # cases, investigations, contacts, chains
    TRACING_WRITE = "tracing.write"  # register cases, confirm contacts, run co-presence
    LAKE_INGEST = "lake.ingest"  # machine clients sending check-ins and cell-grid dwell records
    TESTING_VIEW = "testing.view"  # rounds, coverage, positive pools
    TESTING_MANAGE = "testing.manage"  # create rounds, sites, excusals
    TESTING_SAMPLE = "testing.sample"  # sampling scans
    TESTING_RESULT = "testing.result"  # lab results
    KEYPOP_VIEW = "keypop.view"  # key populations and who is overdue
    KEYPOP_MANAGE = "keypop.manage"  # groups, employers, member lists
    SENTINEL_VIEW = "sentinel.view"  # registers, series, alerts
    SENTINEL_REPORT = "sentinel.report"  # pharmacy/clinic registration and daily reports
    SENTINEL_MANAGE = "sentinel.manage"  # reporting units, alert verification
