"""Model fields for personal data: encrypted at rest, decrypted on read."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression

from fangkong.core import crypto


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Text stored as AES-GCM ciphertext; the clear value lives only in memory.

    It cannot be filtered, ordered or searched in the database; exact lookups go through a
    blind index column maintained by the owning service.
    """

    description = "Encrypted text"

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in {"isnull"}:
            # Comparing ciphertexts is meaningless (random nonces); fail loudly instead.
            raise TypeError(f"EncryptedTextField does not support the {lookup_name!r} lookup")
        return super().get_lookup(lookup_name)
