"""Reads of the jurisdiction tree. Every selector takes the caller's scope first.

A scope without Perm.JURISDICTION_VIEW (a lab's, a pharmacy's) sees no node and no post.
"""

from __future__ import annotations

from django.db.models import QuerySet

from fangkong.core.errors import NotFound
from fangkong.core.perms import Perm
from fangkong.core.scope import Scope, within
from fangkong.jurisdictions import rules
from fangkong.jurisdictions.models import Jurisdiction, Post


def _nodes(scope: Scope) -> QuerySet[Jurisdiction]:
    if Perm.JURISDICTION_VIEW not in scope.perms:
        return Jurisdiction.objects.none()
    return within(Jurisdiction.objects.all(), scope, field_name="path")


def jurisdiction_roots(*, scope: Scope) -> QuerySet[Jurisdiction]:
    """The top nodes the scope covers (the city for the system scope)."""
    if Perm.JURISDICTION_VIEW not in scope.perms:
        return Jurisdiction.objects.none()
    if "/" in scope.paths:
        return Jurisdiction.objects.filter(parent__isnull=True).order_by("code")
    return Jurisdiction.objects.filter(path__in=scope.paths).order_by("code")


def jurisdiction_get(*, scope: Scope, code: str) -> Jurisdiction:
    """One node by code. Raises NotFound when missing or outside the scope."""
    node = _nodes(scope).filter(code=code).first()
    if node is None:
        raise NotFound("jurisdiction.not_found", "Jurisdiction not found")
    return node


def jurisdiction_children(*, scope: Scope, node: Jurisdiction) -> QuerySet[Jurisdiction]:
    """The node's direct children inside the scope, ordered by code."""
    return _nodes(scope).filter(parent=node).order_by("code")


def jurisdiction_ancestors(*, scope: Scope, node: Jurisdiction) -> list[Jurisdiction]:
    """The breadcrumb from the top down to the node's parent, keeping only nodes the scope
    covers (a district officer's breadcrumb starts at the district, not the city)."""
    codes = rules.ancestor_codes(node.code)[:-1]
    if not codes:
        return []
    return list(_nodes(scope).filter(code__in=codes).order_by("level"))


def post_list(*, scope: Scope, node: Jurisdiction) -> QuerySet[Post]:
    """The people in charge at a node: primary holders first, then by kind."""
    if Perm.JURISDICTION_VIEW not in scope.perms:
        return Post.objects.none()
    return within(Post.objects.filter(jurisdiction=node), scope).order_by(
        "-is_primary", "kind", "holder_name", "id"
    )
