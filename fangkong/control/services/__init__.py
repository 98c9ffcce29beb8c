"""Every change to a person's control status: issue, status change, release, tests, approval.

Each function checks the actor's permission and scope, runs in one transaction, writes the
order's event and an audit row in it, and enqueues its jobs in it (the jobs table is an
outbox: a rolled-back change leaves no job). A change without a documentary basis, a bulk
change over the rulebook's threshold, or replacing a stricter order by a weaker one becomes a
ChangeRequest that a second authorised person decides.
"""

from fangkong.control.services._common import (
    ORDER_NOTIFY_JOB,
    POSITIVE_NOTIFY_JOB,
    SUBJECT_TYPE,
    order_link,
    refresh_control_status,
    refresh_control_statuses,
)
from fangkong.control.services.approval import change_request_decide
from fangkong.control.services.issue import order_issue
from fangkong.control.services.issue_many import orders_issue_many
from fangkong.control.services.moves import orders_follow_people
from fangkong.control.services.samples import scheduled_test_record
from fangkong.control.services.status import (
    BulkChange,
    StatusChange,
    order_change_status,
    order_release,
    orders_bulk_change,
)

__all__ = [
    "ORDER_NOTIFY_JOB",
    "POSITIVE_NOTIFY_JOB",
    "SUBJECT_TYPE",
    "BulkChange",
    "StatusChange",
    "change_request_decide",
    "order_change_status",
    "order_issue",
    "order_link",
    "order_release",
    "orders_bulk_change",
    "orders_follow_people",
    "orders_issue_many",
    "refresh_control_status",
    "refresh_control_statuses",
    "scheduled_test_record",
]
