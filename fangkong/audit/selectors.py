"""Reading and verifying the audit log."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from fangkong.audit.chain import CHAINED_FIELDS, GENESIS, entry_hash
from fangkong.audit.models import AuditEntry, AuditHead
from fangkong.core.actor import Actor, require
from fangkong.core.perms import Perm
from fangkong.core.scope import Scope, within


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    problem: str = ""


def audit_verify(*, chunk_size: int = 5000) -> VerifyResult:
    """Walk the chain in sequence order; name the first entry that was edited, removed or moved."""
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    rows = AuditEntry.objects.order_by("seq").values("id", "prev_hash", "hash", *CHAINED_FIELDS)
    for row in rows.iterator(chunk_size=chunk_size):
        seq, pk = row["seq"], row["id"]
        if seq != expected_seq:
            what = "missing" if seq > expected_seq else "duplicated"
            return VerifyResult(
                False,
                checked,
                expected_seq,
                pk,
                f"entry #{expected_seq} is {what} (found #{seq} next)",
            )
        if row["prev_hash"] != prev_hash:
            return VerifyResult(
                False,
                checked,
                seq,
                pk,
                f"entry #{seq} does not follow entry #{seq - 1} (reordered or replaced)",
            )
        if entry_hash(prev_hash, row) != row["hash"]:
            return VerifyResult(
                False,
                checked,
                seq,
                pk,
                f"entry #{seq} was edited (its hash no longer matches its content)",
            )
        prev_hash, expected_seq, checked = row["hash"], seq + 1, checked + 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev_hash):
        return VerifyResult(
            False,
            checked,
            expected_seq,
            None,
            f"the chain ends at #{expected_seq - 1} but its head says #{head.seq} (entries removed from the end)",
        )
    return VerifyResult(True, checked)


def audit_list(
    *, scope: Scope, actor: Actor, action: str = "", limit: int = 100
) -> QuerySet[AuditEntry]:
    """Recent audit entries about rows in the scope (newest first)."""
    require(actor, Perm.AUDIT_VIEW)
    qs = within(AuditEntry.objects.all(), scope)
    if action:
        qs = qs.filter(action=action)
    return qs.order_by("-seq")[:limit]
