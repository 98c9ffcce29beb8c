"""Staff accounts and API tokens for machine clients, each bound to jurisdiction subtrees."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.accounts.roles import Role
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
