"""Coverage (应检尽检): per grid of a round, the residents due, sampled, with a result, in a
positive tube, excused; and residents sampled per hour for the progress chart. Boards read
these rows. They are counters: the round's creation counts the residents (due), the ingest
adds first samples, lab results add results (services.results), excusals move a resident
between due and excused; `coverage_refresh` recounts everything set-based and corrects the
counters by the difference (a periodic job and the board's "recount").

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
    """Recount the round's coverage and progress from its samples, results, excusals and the
    registry, and correct the counters by the difference (residents who moved or were merged,
    a registry import); creates the rows of a new round. Returns the number of grids with
    residents. Background work (system): no actor, no audit row (it derives, it does not
    decide).

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
    # The recount and the counters as they stand, read in one statement (one snapshot on
    # PostgreSQL): the difference is added to the counters, so what batches and results add
    # while the recount runs is kept, not overwritten.
    per_grid_hour = f"""
        CREATE TEMP TABLE mt_cover_gh AS
        SELECT 0 AS src, q.grid_id AS grid_id, '' AS path, {hour} AS hour,
            SUM(CASE WHEN q.exc IS NULL OR q.sp IS NOT NULL THEN 1 ELSE 0 END) AS due,
            SUM(CASE WHEN q.sp IS NOT NULL THEN 1 ELSE 0 END) AS sampled,
            SUM(CASE WHEN q.state >= 1 THEN 1 ELSE 0 END) AS resulted,
            SUM(CASE WHEN q.state = 2 THEN 1 ELSE 0 END) AS positive,
            SUM(CASE WHEN q.exc IS NOT NULL AND q.sp IS NULL THEN 1 ELSE 0 END) AS excused
        FROM ({per_person}
        ) q
        GROUP BY q.grid_id, {hour}
        UNION ALL
        SELECT 1, c.grid_id, '', NULL, c.due, c.sampled, c.resulted, c.positive, c.excused
        FROM mass_testing_coverage c WHERE c.round_id = %s
        UNION ALL
        SELECT 2, NULL, r.jurisdiction_path, r.hour, 0, r.sampled, 0, 0, 0
        FROM mass_testing_progress r WHERE r.round_id = %s
    """  # noqa: S608
    counts = "due, sampled, resulted, positive, excused"
    cover_delta = f"""
        CREATE TEMP TABLE mt_cover_d AS
        SELECT COALESCE(n.grid_id, c.grid_id) AS grid_id, n.path AS path,
            CASE WHEN c.grid_id IS NULL THEN 1 ELSE 0 END AS fresh,
            {", ".join(f"COALESCE(n.{k}, 0) - COALESCE(c.{k}, 0) AS {k}" for k in counts.split(", "))}
        FROM (
            SELECT q.grid_id, g.path, {", ".join(f"SUM(q.{k}) AS {k}" for k in counts.split(", "))}
            FROM mt_cover_gh q JOIN jurisdictions_jurisdiction g ON g.id = q.grid_id AND {grids_sql}
            WHERE q.src = 0 GROUP BY q.grid_id, g.path
        ) n FULL OUTER JOIN (SELECT * FROM mt_cover_gh WHERE src = 1) c ON c.grid_id = n.grid_id
    """  # noqa: S608
    progress_delta = f"""
        CREATE TEMP TABLE mt_prog_d AS
        SELECT COALESCE(n.path, c.path) AS path, COALESCE(n.hour, c.hour) AS hour,
            CASE WHEN c.path IS NULL THEN 1 ELSE 0 END AS fresh,
            COALESCE(n.sampled, 0) - COALESCE(c.sampled, 0) AS sampled
        FROM (
            SELECT g.path, q.hour, SUM(q.sampled) AS sampled FROM mt_cover_gh q
            JOIN jurisdictions_jurisdiction g ON g.id = q.grid_id AND {grids_sql}
            WHERE q.src = 0 AND q.hour IS NOT NULL GROUP BY g.path, q.hour
        ) n FULL OUTER JOIN (SELECT * FROM mt_cover_gh WHERE src = 2) c
            ON c.path = n.path AND c.hour = n.hour
    """  # noqa: S608
    pg = connection.vendor == "postgresql"
    add = ", ".join(f"{k} = mass_testing_coverage.{k} + d.{k}" for k in counts.split(", "))
    if pg:
        # Counter rows locked in grid order, as the ingest locks them.
        update = (
            "WITH l AS (SELECT c.id, c.grid_id FROM mass_testing_coverage c "  # noqa: S608
            "WHERE c.round_id = %s ORDER BY c.grid_id FOR UPDATE) "
            f"UPDATE mass_testing_coverage SET {add} FROM l JOIN mt_cover_d d "
            "ON d.grid_id = l.grid_id WHERE mass_testing_coverage.id = l.id AND d.fresh = 0"
        )
    else:
        update = (
            f"UPDATE mass_testing_coverage SET {add} FROM mt_cover_d d "  # noqa: S608
            "WHERE mass_testing_coverage.round_id = %s "
            "AND d.grid_id = mass_testing_coverage.grid_id AND d.fresh = 0"
        )
    with connection.cursor() as cur:
        big_statements(cur)
        for table in ("mt_cover_gh", "mt_cover_d", "mt_prog_d"):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        with _one_pass(cur):
            cur.execute(per_grid_hour, [*params, rnd.pk, rnd.pk])
        cur.execute(cover_delta, where_params)
        cur.execute(progress_delta, where_params)
        cur.execute(
            f"INSERT INTO mass_testing_coverage (round_id, grid_id, jurisdiction_path, {counts}) "  # noqa: S608
            f"SELECT %s, grid_id, path, {counts} FROM mt_cover_d WHERE fresh = 1 AND path IS NOT NULL",
            [rnd.pk],
        )
        cur.execute(update, [rnd.pk])
        _progress_apply(cur, rnd.pk, pg=pg)
        cur.execute(
            "SELECT COUNT(*) FROM mt_cover_d d WHERE d.path IS NOT NULL"  # grids with residents
        )
        grids = int(cur.fetchone()[0])
        for table in ("mt_cover_gh", "mt_cover_d", "mt_prog_d"):
            cur.execute(f"DROP TABLE {table}")
    Round.objects.filter(pk=rnd.pk).update(coverage_at=clock.now())
    return grids


def _progress_apply(cur: Any, round_id: int, *, pg: bool) -> None:
    """Add the recount's differences (mt_prog_d) to the progress rows: new hours inserted
    (or added to, when a batch inserted the row meanwhile), the others updated, locked in
    the ingest's order."""
    cur.execute(
        "INSERT INTO mass_testing_progress (round_id, jurisdiction_path, hour, sampled) "
        "SELECT %s, path, hour, sampled FROM mt_prog_d WHERE fresh = 1 AND sampled > 0 "
        "ORDER BY path, hour ON CONFLICT (round_id, hour, jurisdiction_path) "
        "DO UPDATE SET sampled = mass_testing_progress.sampled + excluded.sampled",
        [round_id],
    )
    if pg:
        cur.execute(
            "SELECT COUNT(*) FROM (SELECT r.id FROM mass_testing_progress r JOIN mt_prog_d d "
            "ON d.path = r.jurisdiction_path AND d.hour = r.hour AND d.fresh = 0 "
            "AND d.sampled <> 0 WHERE r.round_id = %s "
            "ORDER BY r.jurisdiction_path, r.hour FOR UPDATE OF r) x",
            [round_id],
        )
    cur.execute(
        "UPDATE mass_testing_progress SET sampled = mass_testing_progress.sampled + d.sampled "
        "FROM mt_prog_d d WHERE mass_testing_progress.round_id = %s AND d.fresh = 0 "
        "AND d.sampled <> 0 AND d.path = mass_testing_progress.jurisdiction_path "
        "AND d.hour = mass_testing_progress.hour",
        [round_id],
    )


_STATE = "CASE WHEN t.result = 'positive' THEN 2 WHEN t.result <> 'pending' THEN 1 ELSE 0 END"
_IN_BATCH = (
    "CASE WHEN EXISTS (SELECT 1 FROM mass_testing_labreport b WHERE b.tube_id = t.id "
    "AND b.source = %s AND b.outcome = 'matched') THEN 1 ELSE 0 END"
)


def count_results(cur: Any, matched: str, source: str) -> None:
    """Add the tubes that just took a result (the temporary table `matched`: id, round_id,
    member_grid, grids_mixed, members, result; their lines matched from `source`) to the
    coverage counters of the members' grids, in the caller's transaction.

    A tube's members count once each: by the tube's grid when they share one (no samples
    read), by their samples' grids when mixed. A person sampled more than once in the round
    (the member table marks them; few) is then corrected person by person: their result
    counts only if none of their other tubes had one, their positive only if none was
    positive."""
    pos = "CASE WHEN t.result = 'positive' THEN {n} ELSE 0 END"
    cur.execute("DROP TABLE IF EXISTS mt_res_d")
    cur.execute(
        "CREATE TEMP TABLE mt_res_d AS "  # noqa: S608
        f"SELECT t.round_id, t.member_grid AS grid_id, t.members AS resulted, "
        f"{pos.format(n='t.members')} AS positive FROM {matched} t "
        "WHERE t.member_grid IS NOT NULL"
    )
    cur.execute(
        "INSERT INTO mt_res_d (round_id, grid_id, resulted, positive) "  # noqa: S608
        f"SELECT s.round_id, s.grid_id, 1, {pos.format(n='1')} FROM {matched} t "
        "JOIN mass_testing_sample s ON s.tube_id = t.id "
        "WHERE t.grids_mixed AND s.grid_id IS NOT NULL",
    )
    cur.execute(f"SELECT DISTINCT round_id FROM {matched}")  # noqa: S608
    rounds = sorted(int(r[0]) for r in cur.fetchall())
    if rounds:
        # Persons sampled more than once, with samples among this batch's tubes: what the
        # lines above counted for them (one per sample) is replaced by what is true.
        holders = ", ".join(["%s"] * len(rounds))
        cur.execute("DROP TABLE IF EXISTS mt_rep")
        cur.execute(
            "CREATE TEMP TABLE mt_rep AS SELECT m.round_id, m.person_id, m.grid_id AS home, "  # noqa: S608
            "SUM(x.inb) AS nb, SUM(CASE WHEN x.inb = 1 AND x.state = 2 THEN 1 ELSE 0 END) AS nbpos, "
            "MAX(CASE WHEN x.inb = 0 THEN x.state ELSE 0 END) AS old "
            "FROM mass_testing_roundmember m JOIN ("
            f"SELECT s.round_id, s.person_id, {_STATE} AS state, {_IN_BATCH} AS inb "
            "FROM mass_testing_sample s JOIN mass_testing_tube t ON t.id = s.tube_id"
            ") x ON x.round_id = m.round_id AND x.person_id = m.person_id "
            f"WHERE m.repeat AND m.round_id IN ({holders}) "  # the partial index's condition
            "GROUP BY m.round_id, m.person_id, m.grid_id HAVING SUM(x.inb) > 0",
            [source, *rounds],
        )
        cur.execute(
            "INSERT INTO mt_res_d (round_id, grid_id, resulted, positive) "  # noqa: S608
            f"SELECT s.round_id, s.grid_id, -1, -{pos.format(n='1')} FROM mt_rep r "
            "JOIN mass_testing_sample s ON s.round_id = r.round_id AND s.person_id = r.person_id "
            f"JOIN mass_testing_tube t ON t.id = s.tube_id WHERE s.grid_id IS NOT NULL AND {_IN_BATCH} = 1",
            [source],
        )
        cur.execute(
            "INSERT INTO mt_res_d (round_id, grid_id, resulted, positive) "
            "SELECT round_id, home, CASE WHEN old < 1 THEN 1 ELSE 0 END, "
            "CASE WHEN old < 2 AND nbpos > 0 THEN 1 ELSE 0 END FROM mt_rep WHERE home IS NOT NULL"
        )
        cur.execute("DROP TABLE mt_rep")
    add_to_counters(cur, "mt_res_d", ("resulted", "positive"))
    cur.execute("DROP TABLE mt_res_d")


def add_to_counters(cur: Any, table: str, counts: tuple[str, ...]) -> None:
    """Add the rows of `table` (round_id, grid_id, *counts; several rows per grid allowed) to
    the coverage counters, the counter rows locked in (round, grid) order as the ingest
    locks them. Grids without a counter row (not in the round) are left out."""
    sums = ", ".join(f"SUM({k}) AS {k}" for k in counts)
    cur.execute("DROP TABLE IF EXISTS mt_add")
    cur.execute(
        f"CREATE TEMP TABLE mt_add AS SELECT round_id, grid_id, {sums} FROM {table} "  # noqa: S608
        "GROUP BY round_id, grid_id"
    )
    add = ", ".join(f"{k} = mass_testing_coverage.{k} + a.{k}" for k in counts)
    if connection.vendor == "postgresql":
        cur.execute(
            "SELECT COUNT(*) FROM (SELECT c.id FROM mass_testing_coverage c JOIN mt_add a "
            "ON a.round_id = c.round_id AND a.grid_id = c.grid_id "
            "ORDER BY c.round_id, c.grid_id FOR UPDATE OF c) x"
        )
    cur.execute(
        f"UPDATE mass_testing_coverage SET {add} FROM mt_add a "  # noqa: S608
        "WHERE a.round_id = mass_testing_coverage.round_id "
        "AND a.grid_id = mass_testing_coverage.grid_id"
    )
    cur.execute("DROP TABLE mt_add")


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
