"""The sampling ingest's writes, straight through the driver: tubes, samples (one COPY block on
PostgreSQL), the member table and the coverage counters, inside the batch's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection

from fangkong.mass_testing.services._ingest_db import SAMPLE_COLUMNS, TubeRow, any_of, arr

TUBE_COLUMNS = (
    "round_id, barcode, site_id, jurisdiction_path, kind, pool_size, members, status, "
    "member_grid, grids_mixed, opened_at, closed_at, result, lab"
)


@dataclass(slots=True)
class Tally:
    """What a batch adds to the round's coverage: per grid, residents sampled for the first
    time and how many of them were excused; per grid and hour, first samples."""

    sampled: dict[int, int] = field(default_factory=dict)
    unexcused: dict[int, int] = field(default_factory=dict)
    hours: dict[tuple[int, int], int] = field(default_factory=dict)  # (grid, hours since 1970)

    def first_sample(self, grid: int, at: dt.datetime, *, excused: bool) -> None:
        self.sampled[grid] = self.sampled.get(grid, 0) + 1
        if excused:
            self.unexcused[grid] = self.unexcused.get(grid, 0) + 1
        key = (grid, int(at.timestamp()) // 3600)
        self.hours[key] = self.hours.get(key, 0) + 1

    def hour_rows(self) -> list[tuple[int, dt.datetime, int]]:
        """(grid, hour, first samples), in grid and hour order."""
        return [
            (g, dt.datetime.fromtimestamp(h * 3600, dt.UTC), n)
            for (g, h), n in sorted(self.hours.items())
        ]


class MemberMoved(IntegrityError):
    """A person's latest tube changed under the batch (a concurrent batch): run it again."""


def write(
    *,
    round_id: int,
    tubes: dict[str, TubeRow],
    samples: list[tuple[Any, ...]],
    new_members: dict[int, tuple[str, int | None, bool]],
    moved_members: dict[int, tuple[str, int, int]],
    tally: Tally,
    now: dt.datetime,
) -> None:
    """Insert the new tubes, update the others, add the samples (`samples`: barcode, person,
    path, grid, site, sampler, sampled_at, client id), keep the member table (`new_members`:
    person -> latest barcode, grid, sampled twice in the batch; `moved_members`: person ->
    latest barcode, the tube their row named, the row's id) and add the batch to the coverage counters,
    inside the caller's transaction."""
    at = connection.ops.adapt_datetimefield_value
    stamp = at(now)
    now_text = now.isoformat()
    pg = connection.vendor == "postgresql"
    fresh = [t for t in tubes.values() if t.id is None]
    old = [t for t in tubes.values() if t.changed and t.id is not None]
    with connection.cursor() as cur:
        if fresh:
            _insert_tubes(cur, round_id, fresh, stamp, pg=pg)
        if old:
            _update_tubes(cur, old, stamp, pg=pg)
        if pg:
            # COPY's text format built here in one piece: psycopg's write_row adapts value
            # by value (about 10 µs a row, a quarter of a batch's Python time). Text columns
            # are escaped only when some value of the batch needs it.
            paths = {path: _copy_text(path) for path in {s[2] for s in samples}}
            sampler_text = _escaper(s[5] for s in samples)
            cid_text = _escaper(s[7] for s in samples)
            text = "".join(
                f"{round_id}\t{tubes[code].id}\t{person}\t{paths[path]}\t"
                f"{NULL if grid is None else grid}\t{NULL if site is None else site}\t"
                f"{sampler_text(sampler)}\t{sampled.isoformat()}\t{cid_text(cid)}\t{now_text}\n"
                for code, person, path, grid, site, sampler, sampled, cid in samples
            )
            with cur.cursor.copy(f"COPY mass_testing_sample ({SAMPLE_COLUMNS}) FROM STDIN") as cp:
                cp.write(text.encode())
        else:
            cur.executemany(
                f"INSERT INTO mass_testing_sample ({SAMPLE_COLUMNS}) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (round_id, tubes[code].id, person, path, grid, site, sampler, at(sampled),
                     cid, stamp)
                    for code, person, path, grid, site, sampler, sampled, cid in samples
                ],
            )  # fmt: skip
        _write_members(cur, round_id, tubes, new_members, moved_members, pg=pg)
        _write_tally(cur, round_id, tally, pg=pg)


def _write_members(
    cur: Any,
    round_id: int,
    tubes: dict[str, TubeRow],
    new_members: dict[int, tuple[str, int | None, bool]],
    moved_members: dict[int, tuple[str, int, int]],
    *,
    pg: bool,
) -> None:
    # In person order: two batches inserting overlapping persons wait for each other in the
    # same order instead of deadlocking; the loser's unique violation runs it again.
    rows = sorted(
        (p, tubes[code].id, grid, again) for p, (code, grid, again) in new_members.items()
    )
    if rows and pg:
        cur.execute(
            "INSERT INTO mass_testing_roundmember (round_id, person_id, tube_id, grid_id, repeat) "
            "SELECT %s, p, t, g, r FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], "
            "%s::boolean[]) AS v(p, t, g, r)",
            [round_id, *(arr(c) for c in zip(*rows, strict=True))],
        )
    elif rows:
        cur.executemany(
            "INSERT INTO mass_testing_roundmember (round_id, person_id, tube_id, grid_id, repeat) "
            "VALUES (%s, %s, %s, %s, %s)",
            [(round_id, *r) for r in rows],
        )
    moved = sorted((p, tubes[code].id, was, row) for p, (code, was, row) in moved_members.items())
    if not moved:
        return
    # Sampled again in the round: the row follows the person's latest tube, if it still
    # names the tube this batch read (a concurrent batch moved it otherwise). PostgreSQL:
    # the rows by primary key, so the plan does not depend on the statistics (joined by
    # round and person, stale statistics made it a hash of the whole round's rows: 0.2-0.45 s
    # a batch at a million members).
    if pg:
        ids = arr(m[3] for m in moved)
        cur.execute(
            "UPDATE mass_testing_roundmember m SET tube_id = v.t, repeat = true "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS v(id, t, w) "
            "WHERE m.id = ANY(%s::bigint[]) AND m.id = v.id AND m.tube_id = v.w",
            [ids, arr(m[1] for m in moved), arr(m[2] for m in moved), ids],
        )
        changed = cur.rowcount
    else:
        cur.executemany(
            "UPDATE mass_testing_roundmember SET tube_id = %s, repeat = 1 "
            "WHERE round_id = %s AND person_id = %s AND tube_id = %s",
            [(tube_id, round_id, person, was) for person, tube_id, was, _row in moved],
        )
        changed = cur.rowcount
    if changed != len(moved):
        raise MemberMoved("a member's latest tube changed under the batch")


def _write_tally(cur: Any, round_id: int, tally: Tally, *, pg: bool) -> None:
    if not tally.sampled:
        return
    grids = sorted(tally.sampled)
    sampled = [tally.sampled[g] for g in grids]
    unexcused = [tally.unexcused.get(g, 0) for g in grids]
    hours = tally.hour_rows()
    if pg:
        # Counter rows locked in grid order (the sort is below the lock): batches adding to
        # the same grids queue in one order instead of deadlocking.
        cur.execute(
            "WITH l AS (SELECT c.id, c.grid_id FROM mass_testing_coverage c "
            "WHERE c.round_id = %s AND c.grid_id = ANY(%s::bigint[]) ORDER BY c.grid_id FOR UPDATE) "
            "UPDATE mass_testing_coverage c SET sampled = c.sampled + v.s, "
            "due = c.due + v.u, excused = c.excused - v.u "
            "FROM l JOIN unnest(%s::bigint[], %s::int[], %s::int[]) AS v(g, s, u) "
            "ON v.g = l.grid_id WHERE c.id = l.id",
            [round_id, arr(grids), arr(grids), arr(sampled), arr(unexcused)],
        )
        cur.execute(
            "INSERT INTO mass_testing_progress (round_id, jurisdiction_path, hour, sampled) "
            "SELECT %s, c.jurisdiction_path, v.h, v.n "
            "FROM unnest(%s::bigint[], %s::timestamptz[], %s::int[]) AS v(g, h, n) "
            "JOIN mass_testing_coverage c ON c.round_id = %s AND c.grid_id = v.g "
            "ORDER BY c.jurisdiction_path, v.h "
            "ON CONFLICT (round_id, hour, jurisdiction_path) "
            "DO UPDATE SET sampled = mass_testing_progress.sampled + EXCLUDED.sampled",
            [round_id, arr(g for g, _, _ in hours), arr(h.isoformat() for _, h, _ in hours),
             arr(n for _, _, n in hours), round_id],
        )  # fmt: skip
        return
    cur.executemany(
        "UPDATE mass_testing_coverage SET sampled = sampled + %s, due = due + %s, "
        "excused = excused - %s WHERE round_id = %s AND grid_id = %s",
        [(s, u, u, round_id, g) for g, s, u in zip(grids, sampled, unexcused, strict=True)],
    )
    at = connection.ops.adapt_datetimefield_value
    cur.executemany(
        "INSERT INTO mass_testing_progress (round_id, jurisdiction_path, hour, sampled) "
        "SELECT %s, jurisdiction_path, %s, %s FROM mass_testing_coverage "
        "WHERE round_id = %s AND grid_id = %s "
        "ON CONFLICT (round_id, hour, jurisdiction_path) DO UPDATE SET sampled = sampled + excluded.sampled",
        [(round_id, at(h), n, round_id, g) for g, h, n in hours],
    )


NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    """A text value in COPY's text format (backslash, tab and line ends escaped)."""
    return value.translate(_COPY_ESCAPES)


def _as_is(value: str) -> str:
    return value


def _escaper(values: Iterable[str]) -> Callable[[str], str]:
    """`_copy_text`, or nothing to do when none of `values` holds a character to escape."""
    joined = "".join(values)
    return _copy_text if any(c in joined for c in "\\\t\n\r") else _as_is


def _insert_tubes(cur: Any, round_id: int, fresh: list[TubeRow], stamp: Any, *, pg: bool) -> None:
    if pg:
        cur.execute(
            f"INSERT INTO mass_testing_tube ({TUBE_COLUMNS}) "  # noqa: S608
            "SELECT %s, b, s, p, k, z, m, st, g, x, %s, "
            "CASE WHEN st = 'closed' THEN %s::timestamptz END, 'pending', '' "
            "FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::text[], %s::int[], "
            "%s::int[], %s::text[], %s::bigint[], %s::boolean[]) "
            "AS v(b, s, p, k, z, m, st, g, x) RETURNING id, barcode",
            [round_id, stamp, stamp, arr(t.barcode for t in fresh), arr(t.site_id for t in fresh),
             arr(t.path for t in fresh), arr(t.kind for t in fresh), arr(t.pool_size for t in fresh),
             arr(t.members for t in fresh), arr(t.status for t in fresh), arr(t.grid for t in fresh),
             arr(t.mixed for t in fresh)],
        )  # fmt: skip
        rows = cur.fetchall()
    else:
        cur.executemany(
            f"INSERT INTO mass_testing_tube ({TUBE_COLUMNS}) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'pending', '')",
            [(round_id, t.barcode, t.site_id, t.path, t.kind, t.pool_size, t.members,
              t.status, t.grid, t.mixed, stamp, stamp if t.status == "closed" else None)
             for t in fresh],
        )  # fmt: skip
        cond, param = any_of("barcode", [t.barcode for t in fresh], text=True)
        cur.execute(f"SELECT id, barcode FROM mass_testing_tube WHERE {cond}", [param])  # noqa: S608
        rows = cur.fetchall()
    ids = {code: pk for pk, code in rows}
    for t in fresh:
        t.id = ids[t.barcode]


def _update_tubes(cur: Any, old: list[TubeRow], stamp: Any, *, pg: bool) -> None:
    if pg:
        cur.execute(
            "UPDATE mass_testing_tube t SET members = v.m, status = v.st, member_grid = v.g, "
            "grids_mixed = v.x, closed_at = CASE WHEN v.st = 'closed' THEN %s::timestamptz END "
            "FROM unnest(%s::bigint[], %s::int[], %s::text[], %s::bigint[], %s::boolean[]) "
            "AS v(id, m, st, g, x) WHERE t.id = v.id",
            [stamp, arr(t.id for t in old), arr(t.members for t in old), arr(t.status for t in old),
             arr(t.grid for t in old), arr(t.mixed for t in old)],
        )  # fmt: skip
    else:
        cur.executemany(
            "UPDATE mass_testing_tube SET members = %s, status = %s, member_grid = %s, "
            "grids_mixed = %s, closed_at = %s WHERE id = %s",
            [(t.members, t.status, t.grid, t.mixed, stamp if t.status == "closed" else None, t.id)
             for t in old],
        )  # fmt: skip
