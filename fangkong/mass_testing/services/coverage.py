"""Coverage (应检尽检), rebuilt set-based: per grid of a round, the residents due, sampled,
with a result, in a positive tube, excused; and residents sampled per hour for the progress
chart. Boards read these rows; a periodic job and the board's "refresh" rebuild them.

Due: the registry's residents of the round's areas (persons not merged away), minus those
excused and not sampled anyway. Sampled: residents with at least one sample in the round.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction

from fangkong.assignments import services as assignments
from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.perms import Perm
from fangkong.jurisdictions.models import Jurisdiction, Level
from fangkong.mass_testing.models import Coverage, Round, RoundArea
from fangkong.mass_testing.services._common import (
    SUBJECT_ROUND,
    big_statements,
    in_round,
    paths_sql,
)

UNSAMPLED_KIND = "sample_unsampled"


def _hour_sql(column: str) -> str:
    if connection.vendor == "sqlite":
        return f"strftime('%%Y-%%m-%%d %%H:00:00', {column})"
    return f"date_trunc('hour', {column})"


# Share of the registry's grids from which a rebuild reads the whole registry unfiltered.
WHOLE_REGISTRY_SHARE = 0.5


def _most_of_registry(grids_sql: str, params: list[Any]) -> bool:
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT SUM(CASE WHEN {grids_sql} THEN 1 ELSE 0 END), COUNT(*) "  # noqa: S608
            "FROM jurisdictions_jurisdiction g WHERE g.level = %s",
            [*params, Level.GRID],
        )
        inside, total = cur.fetchone()
    return bool(total) and (inside or 0) >= WHOLE_REGISTRY_SHARE * total


@contextmanager
def _one_pass(cur: Any) -> Iterator[None]:
    """PostgreSQL: the plan the rebuild is written for. Parallel workers would each repeat
    the whole per-person pass (it is the inner side of a merge join), and the planner's guess
    of the (grid, hour) groups is far too high, so it would sort ten million rows on disk
    instead of hashing tens of thousands of groups. (Forcing the merge with the registry
    by pricing its key index as in-order reads was tried and measured slower at full scale
    when the registry is not in memory: 59 s against 31 s for the hash join.)"""
    pg = connection.vendor == "postgresql"
    if pg:
        cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cur.execute("SET LOCAL enable_sort = off")
    yield  # (after an error the transaction is aborted, and its settings end with it)
    if pg:
        cur.execute("SET LOCAL max_parallel_workers_per_gather TO DEFAULT")
        cur.execute("SET LOCAL enable_sort TO DEFAULT")


@transaction.atomic
def coverage_refresh(*, rnd: Round) -> int:
    """Rebuild the round's coverage and progress rows; returns the number of grids.
    Background work (system): no actor, no audit row (it derives, it does not decide).

    One pass: the round's samples are read in person order from the covering (round, person,
    tube, sampled_at) index and reduced to one row per resident (first sampling time, first
    tube, number of samples), joined to the residents, and summed per grid and
    first hour into a small temporary table (tens of thousands of rows for 20,000 grids);
    the coverage rows and the progress rows are both sums of it. A resident with one sample
    (nearly all) reads the result of that tube; one with several reads all their tubes."""
    Round.objects.select_for_update().filter(pk=rnd.pk).first()  # one rebuild at a time
    areas = list(RoundArea.objects.filter(round=rnd).values_list("jurisdiction_path", flat=True))
    where_params: list[Any] = []
    grids_sql = paths_sql("g.path", areas, where_params)
    # A round over most of the registry reads every resident (no filter to evaluate per
    # row); a smaller one picks its grids' residents first. Both keep only the round's
    # grids when the rows are written.
    inner_join, inner_params = "", []
    if not _most_of_registry(grids_sql, where_params):
        inner_join = f"JOIN jurisdictions_jurisdiction g ON g.id = p.grid_id AND {grids_sql}"
        inner_params = where_params
    # 2: a positive tube, 1: a result back, 0: none yet.
    state = (
        "CASE WHEN {t}.result = 'positive' THEN 2 WHEN {t}.result <> 'pending' THEN 1 ELSE 0 END"
    )
    hour = _hour_sql("q.first_at")
    if connection.vendor == "sqlite":
        # SQLite joins by nested loops: the registry in rowid order, each resident's samples
        # from the covering index, grouped per resident as they come (no sort, no hash).
        per_person = f"""
            SELECT p.grid_id AS grid_id, MIN(s.sampled_at) AS first_at, MIN(s.person_id) AS sp,
                MIN(e.person_id) AS exc, MAX({state.format(t="t")}) AS state
            FROM people_person p {inner_join}
            LEFT JOIN mass_testing_sample s ON s.round_id = %s AND s.person_id = p.id
            LEFT JOIN mass_testing_tube t ON t.id = s.tube_id
            LEFT JOIN mass_testing_excusal e ON e.round_id = %s AND e.person_id = p.id
            WHERE p.merged_into_id IS NULL AND +p.grid_id IS NOT NULL
            GROUP BY p.id
        """  # noqa: S608
        params = [*inner_params, rnd.pk, rnd.pk]
    else:
        per_person = f"""
            SELECT p.grid_id, sa.first_at, sa.person_id AS sp, e.person_id AS exc,
                CASE WHEN sa.n > 1 THEN (
                    SELECT MAX({state.format(t="t2")}) FROM mass_testing_sample s2
                    JOIN mass_testing_tube t2 ON t2.id = s2.tube_id
                    WHERE s2.round_id = %s AND s2.person_id = p.id
                ) ELSE {state.format(t="t")} END AS state
            FROM people_person p {inner_join}
            LEFT JOIN (
                SELECT s.person_id, MIN(s.sampled_at) AS first_at, MIN(s.tube_id) AS tube_id,
                    COUNT(*) AS n
                FROM mass_testing_sample s WHERE s.round_id = %s GROUP BY s.person_id
            ) sa ON sa.person_id = p.id
            LEFT JOIN mass_testing_tube t ON t.id = sa.tube_id
            LEFT JOIN mass_testing_excusal e ON e.round_id = %s AND e.person_id = p.id
            WHERE p.merged_into_id IS NULL AND p.grid_id IS NOT NULL
        """  # noqa: S608
        params = [rnd.pk, *inner_params, rnd.pk, rnd.pk]
    per_grid_hour = f"""
        CREATE TEMP TABLE mt_cover_gh AS
        SELECT q.grid_id AS grid_id, {hour} AS hour,
            SUM(CASE WHEN q.exc IS NULL OR q.sp IS NOT NULL THEN 1 ELSE 0 END) AS due,
            SUM(CASE WHEN q.sp IS NOT NULL THEN 1 ELSE 0 END) AS sampled,
            SUM(CASE WHEN q.state >= 1 THEN 1 ELSE 0 END) AS resulted,
            SUM(CASE WHEN q.state = 2 THEN 1 ELSE 0 END) AS positive,
            SUM(CASE WHEN q.exc IS NOT NULL AND q.sp IS NULL THEN 1 ELSE 0 END) AS excused
        FROM ({per_person}
        ) q
        GROUP BY q.grid_id, {hour}
    """  # noqa: S608
    with connection.cursor() as cur:
        big_statements(cur)
        cur.execute("DROP TABLE IF EXISTS mt_cover_gh")
        with _one_pass(cur):
            cur.execute(per_grid_hour, params)
        cur.execute("DELETE FROM mass_testing_coverage WHERE round_id = %s", [rnd.pk])
        cur.execute("DELETE FROM mass_testing_progress WHERE round_id = %s", [rnd.pk])
        cur.execute(
            "INSERT INTO mass_testing_coverage "  # noqa: S608 - paths_sql binds the paths
            "(round_id, grid_id, jurisdiction_path, due, sampled, resulted, positive, excused) "
            "SELECT %s, c.grid_id, g.path, c.due, c.sampled, c.resulted, c.positive, c.excused "
            "FROM (SELECT grid_id, SUM(due) AS due, SUM(sampled) AS sampled, SUM(resulted) AS resulted, "
            "SUM(positive) AS positive, SUM(excused) AS excused FROM mt_cover_gh GROUP BY grid_id) c "
            f"JOIN jurisdictions_jurisdiction g ON g.id = c.grid_id AND {grids_sql}",
            [rnd.pk, *where_params],
        )
        grids = int(cur.rowcount)
        cur.execute(
            "INSERT INTO mass_testing_progress (round_id, jurisdiction_path, hour, sampled) "  # noqa: S608
            "SELECT %s, g.path, c.hour, SUM(c.sampled) FROM mt_cover_gh c "
            f"JOIN jurisdictions_jurisdiction g ON g.id = c.grid_id AND {grids_sql} "
            "WHERE c.hour IS NOT NULL GROUP BY g.path, c.hour",
            [rnd.pk, *where_params],
        )
        cur.execute("DROP TABLE mt_cover_gh")
    Round.objects.filter(pk=rnd.pk).update(coverage_at=clock.now())
    return grids


@transaction.atomic
def unsampled_to_inbox(*, actor: Actor, rnd: Round) -> int:
    """Give each grid of the round with residents not yet sampled one work item listing them
    (the list is the grid's page, read through the selectors). Idempotent per grid and
    round. Returns the number of items created or found."""
    require(actor, Perm.TESTING_MANAGE)
    in_round(actor, rnd)
    rows = (
        Coverage.objects.filter(round=rnd)
        .exclude(due__lte=0)
        .values_list("grid_id", "jurisdiction_path", "due", "sampled")
    )
    gaps = [(g, p, due - sampled) for g, p, due, sampled in rows if due > sampled]
    gaps = [x for x in gaps if actor.scope.covers(x[1])]
    nodes = {j.pk: j for j in Jurisdiction.objects.filter(pk__in=[g for g, _, _ in gaps])}
    made = 0
    for grid_id, _path, missing in gaps:
        node = nodes.get(grid_id)
        if node is None or node.level != Level.GRID:
            continue
        assignments.assignment_create(
            actor=actor,
            kind=UNSAMPLED_KIND,
            jurisdiction=node,
            title=f"{rnd.name}：本网格尚有 {missing} 人未采样",
            subject_type=SUBJECT_ROUND,
            subject_id=rnd.pk,
            due_at=rnd.deadline,
            dedupe_key=f"mt-unsampled:{rnd.pk}:{grid_id}",
            detail={"round_id": rnd.pk, "missing": missing},
        )
        made += 1
    record(
        actor=actor,
        action="mass_testing.unsampled_to_inbox",
        target=rnd,
        detail={"grids": made},
    )
    return made
