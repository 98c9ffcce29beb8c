"""The purge ledger in the database: which records retention (or an erasure) shredded, when, why.

The same entries go to an append-only file outside the database (`ledger.py`), because a
restored backup brings back an older copy of this table along with the data it purged.
"""

from __future__ import annotations

from django.db import models


class PurgeRecord(models.Model):
    # What was purged: "people.person" today; the model label of any later category.
    category = models.CharField(max_length=64)
    object_id = models.BigIntegerField()
    reason = models.CharField(max_length=64)  # control_released, merged_duplicate, erasure, ...
    run_id = models.CharField(max_length=36)
    purged_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["category", "object_id"], name="purge_once_per_record")
        ]
        indexes = [models.Index(fields=["purged_at"], name="purgerecord_purged_at_idx")]

    def __str__(self) -> str:
        return f"{self.category} {self.object_id} purged {self.purged_at:%Y-%m-%d}"
