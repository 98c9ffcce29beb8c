"""Encryption key rotation: add a key, re-encrypt every encrypted value under it, retire the old.

Every `EncryptedTextField` of every installed model is found generically, so a module that
adds one is rotated without changes here. Values are re-encrypted in chunks, each chunk in one
transaction with its rows locked, and every new ciphertext is decrypted and compared before it
is written. The blind-index key is not rotated: that would mean recomputing every index from
the clear values, a separate operation (docs/security.md).
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.db.models import Case, Count, F, TextField, Value, When
from django.db.models.functions import Cast, StrIndex, Substr

from fangkong.audit import services as audit
from fangkong.core import crypto
from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict
from fangkong.core.fields import EncryptedTextField
from fangkong.maintenance.retention import _require_operator

RAW = "_ciphertext"


@dataclass(frozen=True, slots=True)
class EncryptedColumn:
    model: type[models.Model]
    field: str

    @property
    def label(self) -> str:
        return f"{self.model._meta.label_lower}.{self.field}"

    def rows(self) -> models.QuerySet[models.Model]:
        """Rows holding a ciphertext, annotated with it as stored (not decrypted)."""
        raw = Cast(F(self.field), output_field=TextField())
        qs: models.QuerySet[models.Model] = self.model._base_manager.all()
        annotated: models.QuerySet[models.Model] = qs.annotate(**{RAW: raw})
        return annotated.exclude(**{f"{RAW}__isnull": True}).exclude(**{RAW: ""})


def encrypted_columns() -> list[EncryptedColumn]:
    """Every encrypted column of every installed, concrete, managed model."""
    return [
        EncryptedColumn(model, f.name)
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
        for f in model._meta.concrete_fields
        if isinstance(f, EncryptedTextField)
    ]


def key_usage() -> dict[str, dict[str, int]]:
    """For each encrypted column, how many values each key id encrypts (set-based)."""
    usage: dict[str, dict[str, int]] = {}
    for col in encrypted_columns():
        kid = Substr(F(RAW), 1, StrIndex(F(RAW), Value("$")) - 1)
        counts = col.rows().annotate(kid=kid).values("kid").annotate(n=Count("pk"))
        usage[col.label] = {row["kid"]: row["n"] for row in counts.order_by("kid")}
    return usage


def _reencrypt_column(col: EncryptedColumn, ring: crypto.KeyRing, *, chunk_size: int) -> int:
    stale = col.rows().exclude(**{f"{RAW}__startswith": f"{ring.current_kid}$"})
    done, last = 0, 0
    while True:
        with transaction.atomic():
            rows = list(
                stale.filter(pk__gt=last)
                .select_for_update(of=("self",))
                .order_by("pk")
                .values_list("pk", RAW)[:chunk_size]
            )
            if not rows:
                return done
            whens = []
            for pk, token in rows:
                clear = ring.decrypt(token)  # an unknown key id stops the rotation here
                fresh = ring.encrypt(clear)
                if ring.decrypt(fresh) != clear:  # pragma: no cover - AES-GCM round trip
                    raise RuntimeError(f"re-encryption check failed for {col.label} {pk}")
                whens.append(When(pk=pk, then=Value(fresh, output_field=TextField())))
            # Value(..., TextField) bypasses the field's own encryption: these are ciphertexts.
            col.model._base_manager.filter(pk__in=[pk for pk, _ in rows]).update(
                **{col.field: Case(*whens, output_field=TextField())}
            )
            done += len(rows)
            last = rows[-1][0]


def reencrypt(*, actor: Actor, chunk_size: int = 1000) -> dict[str, int]:
    """Re-encrypt every value not under the current key; returns counts per column."""
    _require_operator(actor)
    crypto.keyring.cache_clear()  # read the key files as they are now
    ring = crypto.keyring()
    counts = {
        col.label: _reencrypt_column(col, ring, chunk_size=chunk_size)
        for col in encrypted_columns()
    }
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="maintenance.keys_reencrypt",
            target_type="maintenance.keys",
            target_id=ring.current_kid,
            detail={"counts": {k: v for k, v in counts.items() if v}},
        )
    return counts


def _from_environment() -> bool:
    return bool(settings.FANGKONG_ENCRYPTION_KEYS)


def next_environment_spec() -> tuple[str, str]:
    """(new kid, new FANGKONG_ENCRYPTION_KEYS value) with a fresh key in front."""
    spec = settings.FANGKONG_ENCRYPTION_KEYS
    kids = [item.strip().partition(":")[0] for item in spec.split(",")]
    numbers = [int(k[1:]) for k in kids if k[:1] == "k" and k[1:].isdigit()]
    kid = f"k{max(numbers, default=0) + 1}"
    key = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
    return kid, f"{kid}:{key},{spec}"


def rotate(*, actor: Actor, chunk_size: int = 1000) -> tuple[str, dict[str, int]]:
    """Add the next key file, make it current, re-encrypt everything under it.

    Raises Conflict when keys come from the environment (the operator sets the new value and
    runs `fangkong keys reencrypt`; see `next_environment_spec`).
    """
    _require_operator(actor)
    if _from_environment():
        raise Conflict("keys.from_environment", "Keys come from FANGKONG_ENCRYPTION_KEYS")
    kid = crypto.key_file_add(Path(settings.KEYS_DIR))
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="maintenance.keys_add",
            target_type="maintenance.keys",
            target_id=kid,
        )
    return kid, reencrypt(actor=actor, chunk_size=chunk_size)


def retire(*, actor: Actor, kid: str) -> Path | None:
    """Stop loading key `kid` once no value uses it. Returns where its file was moved
    (keys/retired/; keep it as long as a backup made before the rotation is kept), or None
    when keys come from the environment (remove it from FANGKONG_ENCRYPTION_KEYS yourself).

    Raises Conflict when it is the current key or any value still uses it.
    """
    _require_operator(actor)
    crypto.keyring.cache_clear()
    if kid == crypto.keyring().current_kid:
        raise Conflict("keys.retire_current", "The current key cannot be retired")
    users = {label: n[kid] for label, n in key_usage().items() if n.get(kid)}
    if users:
        raise Conflict("keys.in_use", f"Values still encrypted under {kid}", columns=users)
    moved: Path | None = None
    if not _from_environment():
        source = Path(settings.KEYS_DIR) / f"encryption-{kid}.key"
        if not source.exists():
            raise Conflict("keys.unknown", f"No key file for {kid}")
        moved = source.parent / "retired" / source.name
        moved.parent.mkdir(mode=0o700, exist_ok=True)
        source.replace(moved)
        crypto.keyring.cache_clear()
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="maintenance.keys_retire",
            target_type="maintenance.keys",
            target_id=kid,
        )
    return moved
