"""Reads of the jurisdiction tree. Every selector takes the caller's scope first."""

from __future__ import annotations

from django.db.models import QuerySet

from fangkong.core.errors import NotFound
from fangkong.core.scope import Scope, within
from fangkong.jurisdictions.models import Jurisdiction


def jurisdiction_roots(*, scope: Scope) -> QuerySet[Jurisdiction]:
    """The top nodes the scope covers (the city for the system scope)."""
    if "/" in scope.paths:
        return Jurisdiction.objects.filter(parent__isnull=True).order_by("code")
    return Jurisdiction.objects.filter(path__in=scope.paths).order_by("code")


def jurisdiction_get(*, scope: Scope, code: str) -> Jurisdiction:
    """One node by code. Raises NotFound when missing or outside the scope."""
    node = within(Jurisdiction.objects.filter(code=code), scope, field_name="path").first()
    if node is None:
        raise NotFound("jurisdiction.not_found", "Jurisdiction not found")
    return node
