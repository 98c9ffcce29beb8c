"""Every write of investigation and source tracing.

Each function checks the actor's permission and scope, runs in one transaction and writes an
audit row in it. Person-level measures go through control.services.order_issue, duties
through assignments.services.assignment_create, and contacts staying in another district
through screening.services.assist_request_send.
"""

from fangkong.tracing.services.cases import (
    case_close,
    case_register,
    investigation_step_complete,
    trajectory_add,
)
from fangkong.tracing.services.clusters import (
    cluster_add_case,
    cluster_close,
    cluster_open,
    cluster_open_for_case,
)
from fangkong.tracing.services.contacts import (
    ConfirmResult,
    contact_add,
    contact_follow_up,
    contacts_confirm,
    contacts_dismiss,
)
from fangkong.tracing.services.copresence import (
    copresence_perform,
    copresence_request,
    copresence_run,
    run_progress,
)

__all__ = [
    "ConfirmResult",
    "case_close",
    "case_register",
    "cluster_add_case",
    "cluster_close",
    "cluster_open",
    "cluster_open_for_case",
    "contact_add",
    "contact_follow_up",
    "contacts_confirm",
    "contacts_dismiss",
    "copresence_perform",
    "copresence_request",
    "copresence_run",
    "investigation_step_complete",
    "run_progress",
    "trajectory_add",
]
