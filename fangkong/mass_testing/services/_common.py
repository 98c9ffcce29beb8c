"""Helpers shared by the mass_testing services: scope, areas, the rulebook section."""

from __future__ import annotations

from typing import Any

from django.db import connection

from fangkong.core.actor import Actor
from fangkong.core.errors import NotFound
from fangkong.core.scope import Scope, prefix_upper_bound
from fangkong.mass_testing.models import Round, RoundArea
from fangkong.policy.sections.mass_testing import MassTestingRules
from fangkong.policy.selectors import rulebook_in_force

SUBJECT_RETEST = "mass_testing.retest"
SUBJECT_ROUND = "mass_testing.round"
POOL_HOLD_JOB = "mass_testing.pool_hold"
SINGLE_POSITIVE_JOB = "mass_testing.single_positive"
COVERAGE_JOB = "mass_testing.coverage_refresh"


def section() -> tuple[MassTestingRules, int]:
    """The rulebook section in force and the rulebook's version."""
    in_force = rulebook_in_force()
    return in_force.book.mass_testing, in_force.version


def round_visible(scope: Scope, round_path: str) -> bool:
    """A round is visible to whoever covers it, and to staff inside it (a grid's sampler
    works in a district's round): the paths overlap."""
    return any(round_path.startswith(p) or p.startswith(round_path) for p in scope.paths)


def in_round(actor: Actor, rnd: Round) -> None:
    if not round_visible(actor.scope, rnd.jurisdiction_path):
        raise NotFound("mass_testing.round_not_found", "Not found")


def in_scope(actor: Actor, path: str, code: str) -> None:
    if not actor.scope.covers(path):
        raise NotFound(code, "Not found")


def area_for(areas: list[RoundArea], path: str) -> RoundArea | None:
    """The deepest area of the round containing `path`."""
    best: RoundArea | None = None
    for a in areas:
        if path.startswith(a.jurisdiction_path) and (
            best is None or len(a.jurisdiction_path) > len(best.jurisdiction_path)
        ):
            best = a
    return best


def paths_sql(column: str, paths: list[str], params: list[Any]) -> str:
    """Rows under any of `paths`, as SQL the database can answer from the path index."""
    if not paths:
        return "1=0"
    parts = []
    for root in paths:
        if connection.vendor == "sqlite":
            parts.append(f"({column} >= %s AND {column} < %s)")
            params += [root, prefix_upper_bound(root)]
        else:
            parts.append(f"{column} LIKE %s")
            params.append(root + "%")
    return "(" + " OR ".join(parts) + ")"


def big_statements(cur: Any) -> None:
    """Memory for the round's few whole-city statements (hash joins and aggregates over
    millions of rows), for the current transaction only; SQLite needs no setting."""
    if connection.vendor == "postgresql":
        cur.execute("SET LOCAL work_mem = '256MB'")
        cur.execute("SET LOCAL jit = off")  # compiling costs more than it saves here
