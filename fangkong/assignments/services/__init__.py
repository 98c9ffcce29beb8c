"""Every write to assignments: creation by other services (one by one, or many at once),
the worker's status changes, reassignment, and closing work whose duty was met elsewhere.
Escalation is in `escalation`.

Each write checks permission and scope first (a denied call changes nothing), locks the row,
keeps the per-node tally, appends an event and an audit row, and enqueues notifications, all
in one transaction.
"""

from fangkong.assignments.services._core import (
    MAX_TEXT,
    assignment_complete,
    assignment_create,
    assignment_reassign,
    assignment_reject,
    assignment_start,
    assignments_close_for_subject,
    responsible_post,
)
from fangkong.assignments.services.many import NewAssignment, assignments_create_many

__all__ = [
    "MAX_TEXT",
    "NewAssignment",
    "assignment_complete",
    "assignment_create",
    "assignment_reassign",
    "assignment_reject",
    "assignment_start",
    "assignments_close_for_subject",
    "assignments_create_many",
    "responsible_post",
]
