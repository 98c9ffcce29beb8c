"""Every write of arrival screening. Each function checks the actor's permission and scope,
runs in one transaction, keeps the board's tally and writes an audit row in it.

Cross-module entry point (decision 0010): `assist_request_send(actor, *, to_code, persons,
reason, basis_type, basis_id) -> AssistRequest`, with `AssistPerson`.
"""

from fangkong.screening.services.assist import (
    AssistPerson,
    assist_request_acknowledge,
    assist_request_send,
)

__all__ = [
    "AssistPerson",
    "assist_request_acknowledge",
    "assist_request_send",
]
