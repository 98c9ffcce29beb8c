"""Every write of arrival screening. Each function checks the actor's permission and scope,
runs in one transaction, keeps the board's tally and writes an audit row in it.

Cross-module entry point (decision 0010): `assist_request_send(actor, *, to_code, persons,
reason, basis_type, basis_id) -> AssistRequest`, with `AssistPerson`.
"""

from fangkong.screening.services._common import Entry, entry_of, hand_out_pending
from fangkong.screening.services.assist import (
    AssistPerson,
    assist_request_acknowledge,
    assist_request_send,
)
from fangkong.screening.services.intake import canvass_register, self_report_submit
from fangkong.screening.services.verify import Verification, arrival_place, arrival_verify

__all__ = [
    "AssistPerson",
    "Entry",
    "Verification",
    "arrival_place",
    "arrival_verify",
    "assist_request_acknowledge",
    "assist_request_send",
    "canvass_register",
    "entry_of",
    "hand_out_pending",
    "self_report_submit",
]
