"""Jurisdiction scoping, written once. Selectors apply `within`; nothing else filters by scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from django.db import connections
from django.db.models import Index, Model, Q, QuerySet

from fangkong.core.perms import Perm

M = TypeVar("M", bound=Model)


@dataclass(frozen=True, slots=True)
class Scope:
    """The jurisdiction subtrees a caller may see, and what it may do there.

    `paths` are materialized paths such as "/4409/440902/"; a row is in scope when its
    jurisdiction path starts with one of them. The system scope is the root "/".
    """

    paths: tuple[str, ...]
    perms: frozenset[Perm] = field(default_factory=frozenset)

    @classmethod
    def system(cls) -> Scope:
        return cls(paths=("/",), perms=frozenset(Perm))

    @classmethod
    def empty(cls) -> Scope:
        return cls(paths=())

    def covers(self, path: str) -> bool:
        """Whether a jurisdiction path lies inside one of the scope's subtrees."""
        return any(path.startswith(root) for root in self.paths)


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string that starts with `prefix`."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def path_prefix_q(field_name: str, prefix: str, *, vendor: str) -> Q:
    """Rows whose path starts with `prefix`, in a form each database can answer from an index.

    SQLite's LIKE with Django's ESCAPE clause cannot use an index, so there we ask for the
    equivalent half-open range (paths hold only digits and "/", compared bytewise). PostgreSQL
    uses LIKE 'prefix%' on a varchar_pattern_ops index (see `path_indexes`).
    """
    if vendor == "sqlite":
        return Q(**{f"{field_name}__gte": prefix, f"{field_name}__lt": prefix_upper_bound(prefix)})
    return Q(**{f"{field_name}__startswith": prefix})


def within(qs: QuerySet[M], scope: Scope, *, field_name: str = "jurisdiction_path") -> QuerySet[M]:
    """Rows whose jurisdiction lies in one of the scope's subtrees."""
    if not scope.paths:
        return qs.none()
    if "/" in scope.paths:
        return qs
    vendor = connections[qs.db].vendor
    q = Q()
    for root in scope.paths:
        q |= path_prefix_q(field_name, root, vendor=vendor)
    return qs.filter(q)


def path_indexes(prefix: str, field_name: str = "jurisdiction_path") -> list[Index]:
    """The index a path column needs: varchar_pattern_ops on PostgreSQL (for LIKE 'x%');
    SQLite ignores the operator class and builds a plain index, which serves its range form."""
    return [
        Index(fields=[field_name], name=f"{prefix}_path_idx", opclasses=["varchar_pattern_ops"])
    ]
