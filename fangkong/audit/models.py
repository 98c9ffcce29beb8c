"""The audit log: append-only, hash-chained.

Each entry's hash covers its own fields and the previous entry's hash, and entries carry a
gap-free sequence number, so an edited, deleted or reordered row breaks the chain at a place
`fangkong audit verify` can name. Database triggers (see the migrations) refuse UPDATE and
DELETE on the table, so tampering also needs DDL rights.
"""

from __future__ import annotations

from django.db import models


class AuditEntry(models.Model):
    class Outcome(models.TextChoices):
        OK = "ok", "ok"
        DENIED = "denied", "denied"
        FAILED = "failed", "failed"

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    actor_kind = models.CharField(max_length=16)
    actor_id = models.BigIntegerField(null=True)
    actor_label = models.CharField(max_length=150)
    role = models.CharField(max_length=32)
    ip = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    jurisdiction_path = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.OK)
    reason = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        indexes = [
            models.Index(fields=["action", "at"], name="audit_action_at_idx"),
            models.Index(fields=["actor_kind", "actor_id", "at"], name="audit_actor_at_idx"),
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_label}"


class AuditHead(models.Model):
    """One row: the last sequence number and hash. Locked by every writer of the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"head #{self.seq}"
