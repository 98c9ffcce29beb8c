"""The lake's ledger in the operational database. The records themselves live in Parquet
(layout.py); this table makes batch ingestion idempotent and tells what arrived when."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class IngestBatch(models.Model):
    """One accepted batch of check-ins or dwell records, keyed by the client's own ids."""

    class Kind(models.TextChoices):
        CHECKINS = "checkins", _("Venue check-ins")
        DWELL = "dwell", _("Cell-grid dwell records")

    class Source(models.TextChoices):
        API = "api", _("Batch API")
        FILE = "file", _("File import")
        GENERATED = "generated", _("Synthetic city")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.API)
    client_id = models.CharField(max_length=64)
    batch_id = models.CharField(max_length=64)
    digest = models.CharField(max_length=64)  # sha256 of the rows as sent
    rows = models.PositiveIntegerField()
    first_ts = models.BigIntegerField()
    last_ts = models.BigIntegerField()
    files = models.JSONField(default=list)  # paths under the lake root
    actor_label = models.CharField(max_length=150)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "client_id", "batch_id"], name="lake_batch_client_unique"
            )
        ]
        indexes = [models.Index(fields=["received_at"], name="lake_batch_received_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.client_id}/{self.batch_id}"
