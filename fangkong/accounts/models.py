"""Staff accounts and API tokens for machine clients, each bound to jurisdiction subtrees."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.accounts.roles import Role
from fangkong.core.fields import EncryptedTextField
from fangkong.jurisdictions.models import Jurisdiction


class User(AbstractUser):
    role = models.CharField(max_length=24, choices=Role.choices, default=Role.GRID_WORKER)
    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    jurisdictions = models.ManyToManyField(Jurisdiction, blank=True, related_name="+")
    # Bumped when the account is deactivated or moved: sessions carry the version they were
    # opened under and end on the next request when it no longer matches.
    scope_version = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.display_name or self.username


class ApiToken(models.Model):
    """A bearer token for a scanner, lab, pharmacy or hospital system. Only its hash is stored."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    token_hash = models.CharField(max_length=64)
    role = models.CharField(max_length=24, choices=Role.choices)
    jurisdictions = models.ManyToManyField(Jurisdiction, related_name="+")
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class TotpDevice(models.Model):
    """A staff account's authenticator (RFC 6238, 30 s steps, 6 digits). One per account.

    Unconfirmed until the user has typed a code from it; only a confirmed device can verify a
    session. `last_step` is the last time step accepted: a code of that step or an earlier one
    is refused, so an observed code cannot be replayed.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    secret = EncryptedTextField()  # base32, as typed into an authenticator app
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"TOTP device of {self.user}"


class BackupCode(models.Model):
    """A single-use recovery code; only its (Argon2) hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="backup_codes")
    code_hash = models.CharField(max_length=256)
    created_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"backup code of {self.user}"


class LoginThrottle(models.Model):
    """Failed sign-in attempts per username or per client address within a window.

    In the database rather than a cache: it works the same on SQLite and PostgreSQL, across
    worker processes, without another service.
    """

    class Kind(models.TextChoices):
        USERNAME = "username"
        ADDRESS = "address"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    key = models.CharField(max_length=150)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="login_throttle_kind_key_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}: {self.failures}"
