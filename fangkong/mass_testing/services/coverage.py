"""Coverage (应检尽检), rebuilt set-based: per grid of a round, the residents due, sampled,
with a result, in a positive tube, excused; and residents sampled per hour for the progress
chart. Boards read these rows; a periodic job and the board's "refresh" rebuild them.

Due: the registry's residents of the round's areas (persons not merged away), minus those
excused and not sampled anyway. Sampled: residents with at least one sample in the round.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction

from fangkong.assignments import services as assignments
from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.perms import Perm
from fangkong.jurisdictions.models import Jurisdiction, Level
from fangkong.mass_testing.models import Coverage, Round, RoundArea
from fangkong.mass_testing.services._common import SUBJECT_ROUND, in_round, paths_sql

UNSAMPLED_KIND = "sample_unsampled"


def _hour_sql(column: str) -> str:
    if connection.vendor == "sqlite":
        return f"strftime('%%Y-%%m-%%d %%H:00:00', {column})"
    return f"date_trunc('hour', {column})"


@transaction.atomic
def coverage_refresh(*, rnd: Round) -> int:
    """Rebuild the round's coverage and progress rows; returns the number of grids.
    Background work (system): no actor, no audit row (it derives, it does not decide)."""
    Round.objects.select_for_update().filter(pk=rnd.pk).first()  # one rebuild at a time
    where_params: list[Any] = []
    areas = list(RoundArea.objects.filter(round=rnd).values_list("jurisdiction_path", flat=True))
    where = paths_sql("p.jurisdiction_path", areas, where_params)
    sample_agg = (
        "SELECT s.person_id, MAX(CASE WHEN t.result <> 'pending' THEN 1 ELSE 0 END) AS back, "
        "MAX(CASE WHEN t.result = 'positive' THEN 1 ELSE 0 END) AS pos "
        "FROM mass_testing_sample s JOIN mass_testing_tube t ON t.id = s.tube_id "
        "WHERE s.round_id = %s GROUP BY s.person_id"
    )
    insert = f"""
        INSERT INTO mass_testing_coverage
            (round_id, grid_id, jurisdiction_path, due, sampled, resulted, positive, excused)
        SELECT %s, p.grid_id, MIN(g.path),
            SUM(CASE WHEN e.person_id IS NULL OR sa.person_id IS NOT NULL THEN 1 ELSE 0 END),
            SUM(CASE WHEN sa.person_id IS NOT NULL THEN 1 ELSE 0 END),
            SUM(COALESCE(sa.back, 0)),
            SUM(COALESCE(sa.pos, 0)),
            SUM(CASE WHEN e.person_id IS NOT NULL AND sa.person_id IS NULL THEN 1 ELSE 0 END)
        FROM people_person p
        JOIN jurisdictions_jurisdiction g ON g.id = p.grid_id
        LEFT JOIN ({sample_agg}) sa ON sa.person_id = p.id
        LEFT JOIN mass_testing_excusal e ON e.round_id = %s AND e.person_id = p.id
        WHERE p.merged_into_id IS NULL AND {where}
        GROUP BY p.grid_id
    """  # noqa: S608
    first = (
        "SELECT s.person_id, MIN(s.sampled_at) AS first_at, MIN(s.jurisdiction_path) AS path "
        "FROM mass_testing_sample s WHERE s.round_id = %s GROUP BY s.person_id"
    )
    progress = f"""
        INSERT INTO mass_testing_progress (round_id, jurisdiction_path, hour, sampled)
        SELECT %s, g.path, {_hour_sql("f.first_at")}, COUNT(*)
        FROM ({first}) f
        JOIN people_person p ON p.id = f.person_id
        JOIN jurisdictions_jurisdiction g ON g.id = p.grid_id
        WHERE p.merged_into_id IS NULL AND __G_WHERE__
        GROUP BY g.path, {_hour_sql("f.first_at")}
    """  # noqa: S608
    g_where = paths_sql("g.path", areas, [])
    progress = progress.replace("__G_WHERE__", g_where)
    with connection.cursor() as cur:
        cur.execute("DELETE FROM mass_testing_coverage WHERE round_id = %s", [rnd.pk])
        cur.execute("DELETE FROM mass_testing_progress WHERE round_id = %s", [rnd.pk])
        cur.execute(insert, [rnd.pk, rnd.pk, rnd.pk, *where_params])
        grids = int(cur.rowcount)
        cur.execute(progress, [rnd.pk, rnd.pk, *where_params])
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
