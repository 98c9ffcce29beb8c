"""Every read of the mass_testing module; the first keyword argument is always `scope`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet, Sum

from fangkong.core.errors import NotFound
from fangkong.core.scope import Scope, prefix_upper_bound, within
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
    Sample,
    Site,
)
from fangkong.people.models import Person
from fangkong.policy.selectors import rulebook_in_force

RESULTS = ("negative", "positive", "pending")


@dataclass(frozen=True, slots=True)
class PersonResult:
    """A person's latest nucleic-acid test, from mass testing and from control orders' tests."""

    person_id: int
    last_sampled_at: dt.datetime
    last_result: str  # "negative" | "positive" | "pending" (of the latest sample)
    last_negative_at: dt.datetime | None  # when the latest negative sample was taken
    last_result_at: dt.datetime | None  # when the latest sample's result came back


def _scope_sql(column: str, scope: Scope, params: list[Any]) -> str:
    """The scope as a SQL condition on a path column (the same test as core.scope.within)."""
    if "/" in scope.paths:
        return "1=1"
    if not scope.paths:
        return "1=0"
    parts = []
    for root in scope.paths:
        if connection.vendor == "sqlite":
            parts.append(f"({column} >= %s AND {column} < %s)")
            params += [root, prefix_upper_bound(root)]
        else:
            parts.append(f"{column} LIKE %s")
            params.append(root + "%")  # paths hold digits and "/" only: nothing to escape
    return "(" + " OR ".join(parts) + ")"


def _ids_sql(person_ids: Sequence[int], params: list[Any]) -> str:
    """The ids as one parameter (an array or a JSON list), whatever their number."""
    ids = sorted({int(p) for p in person_ids})
    if connection.vendor == "postgresql":
        params.append(ids)
        return "SELECT unnest(%s::bigint[]) AS pid"
    params.append(json.dumps(ids))
    return "SELECT CAST(value AS INTEGER) AS pid FROM json_each(%s)"


def _aware(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite hands back text from a UNION
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    assert isinstance(value, dt.datetime)
    return value


def last_results(
    *, scope: Scope, person_ids: Sequence[int], since: dt.datetime | None = None
) -> dict[int, PersonResult]:
    """Each person's latest test sampled at or after `since` (persons without one are absent).

    Counts mass-testing samples (the result of the tube the swab went into, or of the
    single-tube retest) and scheduled tests recorded on control orders. A sample is in scope
    by the person's home node when sampled. One query, whatever the number of persons.
    """
    if not person_ids or not scope.paths:
        return {}
    params: list[Any] = []
    ids = _ids_sql(person_ids, params)
    s_scope = _scope_sql("s.jurisdiction_path", scope, params)
    s_since = ""
    if since is not None:
        s_since = " AND s.sampled_at >= %s"
        params.append(connection.ops.adapt_datetimefield_value(since))
    r_scope = _scope_sql("r.jurisdiction_path", scope, params)
    r_since = ""
    if since is not None:
        r_since = " AND r.sampled_at >= %s"
        params.append(connection.ops.adapt_datetimefield_value(since))
    c_scope = _scope_sql("c.jurisdiction_path", scope, params)
    c_since = ""
    if since is not None:
        c_since = " AND c.sampled_at >= %s"
        params.append(connection.ops.adapt_datetimefield_value(since))
    # Only fixed fragments are interpolated; every value is a parameter.
    sql = f"""
        WITH ids AS ({ids}),
        tests AS (
            SELECT s.person_id AS pid, s.sampled_at AS sampled_at, t.result AS result,
                   t.result_at AS result_at, 0 AS src, s.id AS rid
            FROM mass_testing_sample s JOIN mass_testing_tube t ON t.id = s.tube_id
            WHERE s.person_id IN (SELECT pid FROM ids) AND {s_scope}{s_since}
            UNION ALL
            SELECT r.person_id, r.sampled_at, r.result, r.result_at, 1, r.id
            FROM mass_testing_retest r
            WHERE r.person_id IN (SELECT pid FROM ids) AND r.sampled_at IS NOT NULL
              AND r.tube_id IS NULL AND {r_scope}{r_since}
            UNION ALL
            SELECT o.person_id, c.sampled_at, c.status, c.recorded_at, 2, c.id
            FROM control_scheduledtest c JOIN control_controlorder o ON o.id = c.order_id
            WHERE o.person_id IN (SELECT pid FROM ids) AND c.sampled_at IS NOT NULL
              AND c.status IN ('negative', 'positive') AND {c_scope}{c_since}
        ),
        ranked AS (
            SELECT pid, sampled_at, result, result_at,
                   row_number() OVER (
                       PARTITION BY pid ORDER BY sampled_at DESC, src DESC, rid DESC
                   ) AS rn,
                   max(CASE WHEN result = 'negative' THEN sampled_at END)
                       OVER (PARTITION BY pid) AS last_negative_at
            FROM tests
        )
        SELECT pid, sampled_at, result, result_at, last_negative_at FROM ranked WHERE rn = 1
    """  # noqa: S608
    out: dict[int, PersonResult] = {}
    with connection.cursor() as cur:
        cur.execute(sql, params)
        for pid, sampled_at, result, result_at, last_negative_at in cur.fetchall():
            sampled = _aware(sampled_at)
            assert sampled is not None
            out[int(pid)] = PersonResult(
                person_id=int(pid),
                last_sampled_at=sampled,
                last_result=result if result in RESULTS else "pending",
                last_negative_at=_aware(last_negative_at),
                last_result_at=_aware(result_at) if result in ("negative", "positive") else None,
            )
    return out


# --- rounds, coverage, pools -----------------------------------------------------------------

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
        cond = _scope_sql("jurisdiction_path", scope, params)
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
        .exclude(pk__in=Sample.objects.filter(round=rnd, grid=grid).values("person_id"))
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
