"""Every read of the mass_testing module; the first keyword argument is always `scope`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet, Sum

from fangkong.core.errors import NotFound
from fangkong.core.scope import Scope, within
from fangkong.jurisdictions.models import CODE_LENGTH, Jurisdiction, Level
from fangkong.mass_testing import rules
from fangkong.mass_testing.models import (
    Coverage,
    Excusal,
    LabReport,
    PositivePool,
    Progress,
    Retest,
    Round,
    RoundArea,
    RoundMember,
    Site,
)
from fangkong.mass_testing.selectors.last import RESULTS, PersonResult, last_results, scope_sql
from fangkong.people.models import Person
from fangkong.policy.selectors import rulebook_in_force

__all__ = ["RESULTS", "PersonResult", "last_results"]

PAGE = 50


def _visible_rounds(scope: Scope) -> QuerySet[Round]:
    """Rounds whose node lies in the scope, or that cover one of the scope's nodes."""
    if not scope.paths:
        return Round.objects.none()
    if "/" in scope.paths:
        return Round.objects.all()
    q = Q()
    for root in scope.paths:
        ancestors = [
            "/" + "".join(f"{c}/" for c in root.strip("/").split("/")[:i])
            for i in range(1, root.count("/"))
        ]
        q |= Q(jurisdiction_path__in=[*ancestors, "/"])
    return within(Round.objects.all(), scope) | Round.objects.filter(q)


def round_list(*, scope: Scope, limit: int = 100) -> list[Round]:
    return list(_visible_rounds(scope).order_by("-starts_at", "-pk")[:limit])


def round_get(*, scope: Scope, round_id: int) -> Round:
    """Raises NotFound for a missing round or one the scope neither covers nor lies in."""
    rnd = _visible_rounds(scope).filter(pk=round_id).first()
    if rnd is None:
        raise NotFound("mass_testing.round_not_found", "Not found")
    return rnd


def round_areas(*, scope: Scope, rnd: Round) -> list[RoundArea]:
    return list(
        RoundArea.objects.filter(round=rnd)
        .select_related("jurisdiction")
        .order_by("jurisdiction_path")
    )


def round_sites(*, scope: Scope, rnd: Round) -> list[Site]:
    return list(within(Site.objects.filter(round=rnd), scope).order_by("name")[:500])


@dataclass(frozen=True, slots=True)
class CoverageRow:
    node_id: int | None
    code: str
    name: str
    path: str
    due: int
    sampled: int
    resulted: int
    positive: int
    excused: int

    @property
    def unsampled(self) -> int:
        return max(0, self.due - self.sampled)

    @property
    def share(self) -> float:
        return rules.coverage_share(self.sampled, self.due)

    @property
    def percent(self) -> str:
        return f"{self.share * 100:.1f}"


def _start_node(scope: Scope, rnd: Round, node_id: int | None) -> Jurisdiction:
    if node_id is not None:
        node = Jurisdiction.objects.filter(pk=node_id).first()
        if node is None or not (
            node.path.startswith(rnd.jurisdiction_path)
            or rnd.jurisdiction_path.startswith(node.path)
        ):
            raise NotFound("jurisdiction.not_found", "Not found")
    else:
        node = Jurisdiction.objects.filter(path=rnd.jurisdiction_path).first()
        if node is None:
            raise NotFound("jurisdiction.not_found", "Not found")
    # Staff below the round's node start at their own node.
    if not scope.covers(node.path):
        mine = (
            Jurisdiction.objects.filter(
                path__in=[p for p in scope.paths if p.startswith(node.path)]
            )
            .order_by("path")
            .first()
        )
        if mine is None:
            raise NotFound("jurisdiction.not_found", "Not found")
        node = mine
    return node


def coverage(
    *, scope: Scope, rnd: Round, node_id: int | None = None
) -> tuple[CoverageRow, list[CoverageRow], Jurisdiction]:
    """(total, one row per child node, the node) of the round's coverage under a node the
    scope covers, summed from the per-grid rows in one grouped query."""
    node = _start_node(scope, rnd, node_id)
    rows = within(
        Coverage.objects.filter(round=rnd, jurisdiction_path__startswith=node.path), scope
    )
    total_agg = rows.aggregate(
        due=Sum("due"),
        sampled=Sum("sampled"),
        resulted=Sum("resulted"),
        positive=Sum("positive"),
        excused=Sum("excused"),
    )
    total = CoverageRow(
        node.pk,
        node.code,
        node.name,
        node.path,
        *(int(total_agg[k] or 0) for k in ("due", "sampled", "resulted", "positive", "excused")),
    )
    children: list[CoverageRow] = []
    if node.level < Level.GRID:
        child_len = len(node.path) + CODE_LENGTH[Level(node.level + 1)] + 1
        params: list[Any] = [rnd.pk]
        cond = scope_sql("jurisdiction_path", scope, params)
        params.append(node.path + "%")
        sql = (
            f"SELECT SUBSTR(jurisdiction_path, 1, {child_len}) AS p, SUM(due), SUM(sampled), "  # noqa: S608
            "SUM(resulted), SUM(positive), SUM(excused) FROM mass_testing_coverage "
            f"WHERE round_id = %s AND {cond} AND jurisdiction_path LIKE %s GROUP BY 1 ORDER BY 1"
        )
        with connection.cursor() as cur:
            cur.execute(sql, params)
            agg = cur.fetchall()
        names = {j.path: j for j in Jurisdiction.objects.filter(path__in=[r[0] for r in agg])}
        for p, *figures in agg:
            j = names.get(p)
            children.append(
                CoverageRow(
                    j.pk if j else None,
                    j.code if j else "",
                    j.name if j else p,
                    p,
                    *(int(x or 0) for x in figures),
                )
            )
    return total, children, node


@dataclass(frozen=True, slots=True)
class ProgressPoint:
    hour: dt.datetime
    sampled: int  # cumulative


def progress(*, scope: Scope, rnd: Round, node: Jurisdiction) -> list[ProgressPoint]:
    """Residents sampled so far, hour by hour, under a node (cumulative)."""
    rows = (
        within(Progress.objects.filter(round=rnd, jurisdiction_path__startswith=node.path), scope)
        .values("hour")
        .annotate(n=Sum("sampled"))
        .order_by("hour")
    )
    out: list[ProgressPoint] = []
    running = 0
    for r in rows:
        running += int(r["n"] or 0)
        out.append(ProgressPoint(r["hour"], running))
    return out


@dataclass(frozen=True, slots=True)
class UnsampledPage:
    items: list[Person]
    next_after: int | None


def unsampled_list(
    *, scope: Scope, rnd: Round, grid: Jurisdiction, after: int | None = None
) -> UnsampledPage:
    """Residents of a grid due in the round and not sampled yet (not excused), by id."""
    if not scope.covers(grid.path) or not any(
        grid.path.startswith(a.jurisdiction_path) for a in rnd.areas.all()
    ):
        raise NotFound("jurisdiction.not_found", "Not found")
    qs = (
        within(Person.objects.filter(grid=grid, merged_into__isnull=True), scope)
        .exclude(Exists(RoundMember.objects.filter(round=rnd, person=OuterRef("pk"))))
        .exclude(pk__in=Excusal.objects.filter(round=rnd).values("person_id"))
        .select_related("grid", "household")
        .order_by("pk")
    )
    if after is not None:
        qs = qs.filter(pk__gt=after)
    items = list(qs[: PAGE + 1])
    more = len(items) > PAGE
    items = items[:PAGE]
    return UnsampledPage(items, items[-1].pk if more and items else None)


def excusal_list(*, scope: Scope, rnd: Round, grid: Jurisdiction) -> list[Excusal]:
    return list(
        within(Excusal.objects.filter(round=rnd, jurisdiction_path__startswith=grid.path), scope)
        .select_related("person", "person__grid", "person__household")
        .order_by("-created_at")[:200]
    )


def pool_list(*, scope: Scope, status: str | None = "open", limit: int = 200) -> list[PositivePool]:
    qs = within(PositivePool.objects.select_related("tube", "round"), scope)
    if status:
        qs = qs.filter(status=status)
    return list(qs.order_by("retest_due_at", "pk")[:limit])


def pool_get(*, scope: Scope, pool_id: int) -> PositivePool:
    pool = (
        within(PositivePool.objects.select_related("tube", "round"), scope)
        .filter(pk=pool_id)
        .first()
    )
    if pool is None:
        raise NotFound("mass_testing.pool_not_found", "Not found")
    return pool


def pool_retests(*, scope: Scope, pool: PositivePool) -> list[Retest]:
    return list(
        within(Retest.objects.filter(pool=pool), scope)
        .select_related("person", "person__grid", "person__household")
        .order_by("pk")
    )


def retest_get(*, scope: Scope, retest_id: int) -> Retest:
    rt = within(Retest.objects.all(), scope).filter(pk=retest_id).first()
    if rt is None:
        raise NotFound("mass_testing.retest_not_found", "Not found")
    return rt


def lab_problems(*, scope: Scope, limit: int = 100) -> list[LabReport]:
    """Latest unknown-tube and conflicting result lines the scope may see."""
    return list(
        within(LabReport.objects.filter(outcome__in=["unknown_tube", "conflict"]), scope).order_by(
            "-received_at", "-pk"
        )[:limit]
    )


def round_plan(*, scope: Scope, rnd: Round) -> rules.Plan:
    """The planner's figures for a round, from the areas' registered population."""
    by_size: dict[int, int] = {}
    for area in RoundArea.objects.filter(round=rnd).select_related("jurisdiction"):
        by_size[area.pool_size] = by_size.get(area.pool_size, 0) + area.jurisdiction.population
    sites = Site.objects.filter(round=rnd)
    hours = (rnd.deadline - rnd.starts_at).total_seconds() / 3600
    return rules.plan(
        rulebook_in_force().book.mass_testing,
        population_by_pool_size=by_size,
        hours=hours,
        samplers_registered=int(sites.aggregate(n=Sum("samplers"))["n"] or 0),
        sites_registered=sites.count(),
    )


def person_in_grid(*, scope: Scope, grid: Jurisdiction, person_id: int) -> Person:
    person = (
        within(Person.objects.filter(grid=grid, merged_into__isnull=True), scope)
        .filter(pk=person_id)
        .first()
    )
    if person is None:
        raise NotFound("person.not_found", "Not found")
    return person


def person_due(*, scope: Scope, rnd: Round, person_id: int) -> Person:
    """A person the scope covers (the service checks they are due in the round)."""
    person = (
        within(Person.objects.filter(merged_into__isnull=True), scope).filter(pk=person_id).first()
    )
    if person is None:
        raise NotFound("person.not_found", "Not found")
    return person
