"""Writing the audit log. Every service that changes something calls `record` in its transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Model

from fangkong.audit.chain import GENESIS, entry_hash
from fangkong.audit.models import AuditEntry, AuditHead
from fangkong.core import clock
from fangkong.core.actor import Actor


def record(
    *,
    actor: Actor,
    action: str,
    target: Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    jurisdiction_path: str = "",
    outcome: str = AuditEntry.Outcome.OK,
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the chain, inside the caller's transaction.

    If this fails, the caller's transaction fails with it: an action is never left without
    its audit row. Writers serialize on the AuditHead row (SELECT ... FOR UPDATE on
    PostgreSQL; the IMMEDIATE write lock on SQLite).
    """
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
        jurisdiction_path = jurisdiction_path or str(getattr(target, "jurisdiction_path", "") or "")
    with transaction.atomic():
        head = AuditHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            head = AuditHead.objects.create(pk=1, seq=0, hash=GENESIS)
        fields: dict[str, Any] = {
            "seq": head.seq + 1,
            "at": clock.now(),
            "actor_kind": actor.kind,
            "actor_id": actor.id,
            "actor_label": actor.label[:150],
            "role": actor.role,
            "ip": actor.ip,
            "action": action,
            "target_type": target_type,
            "target_id": str(target_id),
            "jurisdiction_path": jurisdiction_path,
            "outcome": str(outcome),
            "reason": reason,
            "detail": detail or {},
        }
        digest = entry_hash(head.hash, fields)
        entry = AuditEntry.objects.create(prev_hash=head.hash, hash=digest, **fields)
        AuditHead.objects.filter(pk=1).update(seq=fields["seq"], hash=digest)
    return entry
