"""Rulebook versions: every published text is kept; decisions record the version they used."""

from __future__ import annotations

from django.db import models


class RulebookVersion(models.Model):
    version = models.PositiveIntegerField(unique=True)
    edition = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    text = models.TextField()
    sha256 = models.CharField(max_length=64)
    effective_from = models.DateTimeField()
    published_at = models.DateTimeField()
    published_by = models.CharField(max_length=150)
    note = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["effective_from", "version"], name="rulebook_effective_idx")
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.edition}"
