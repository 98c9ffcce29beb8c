"""The sampling ingest's reads and writes, straight through the driver.

The ORM's per-object work (field preparation, one expression per IN parameter) was most of a
batch's time; here every lookup takes its values as one parameter (a PostgreSQL array, a JSON
list on SQLite) and every write is one statement per table on PostgreSQL (unnest, COPY).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection

PersonRef = tuple[int, str, int | None, int | None]  # id, home path, grid id, household id


@dataclass(slots=True)
class TubeRow:
    id: int | None
    barcode: str
    status: str
    members: int
    pool_size: int
    kind: str
    path: str
    site_id: int | None
    grid: int | None = None  # the members' grid when they share one (Tube.member_grid)
    mixed: bool = False
    person_ids: set[int] = field(default_factory=set)
    changed: bool = False

    def add(self, person_id: int, grid: int | None) -> None:
        """A member joins: count them and keep the tube's grid (one, or mixed)."""
        if self.members == 0:
            self.grid = grid
        elif not self.mixed and self.grid != grid:
            self.grid, self.mixed = None, True
        self.members += 1
        self.person_ids.add(person_id)
        self.changed = True


@dataclass(frozen=True, slots=True)
class RoundContext:
    status: str | None
    areas: list[tuple[str, str, int]]  # path, pooling, pool size
    sites: dict[int, str]  # id -> path, the batch's sites that belong to the round


def arr(values: Iterable[Any]) -> str:
    """A PostgreSQL array literal of `values` (ints, bools, strings, None), sent as one text
    parameter and cast in the statement (`%s::bigint[]`): psycopg's own array adaptation
    dumps element by element, about a microsecond each (a tenth of a batch's Python)."""
    values = list(values)
    if all(type(v) is int for v in values):  # ids: the common case
        return "{" + ",".join(map(str, values)) + "}"
    parts = []
    for v in values:
        if v is None:
            parts.append("NULL")
        elif v is True or v is False:
            parts.append("t" if v else "f")
        elif isinstance(v, int):
            parts.append(str(v))
        else:
            parts.append('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(parts) + "}"


def any_of(column: str, values: Sequence[Any], *, text: bool = False) -> tuple[str, Any]:
    """`column` in `values` as one parameter (an array, or a JSON list on SQLite)."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::{'text' if text else 'bigint'}[])", arr(values)
    cast = "" if text else "CAST(value AS INTEGER)"
    sql = f"{column} IN (SELECT {cast or 'value'} FROM json_each(%s))"  # noqa: S608
    return sql, json.dumps(list(values))


def lookup(
    values: Sequence[Any], *, pg_type: str, inner: str, column: str, outer: str, params: list[Any]
) -> list[tuple[Any, ...]]:
    """The rows of `inner` for each of `values`, in one statement.

    PostgreSQL: a lateral lookup per value (`inner` reads the value as `v.k`); each is an
    equality on a unique index (at most one row), so the plan does not depend on the statistics (without them
    an `= ANY` over the samples was planned as a scan of all the round's samples, which grow
    all day). SQLite: `outer` with `column` IN the values (a JSON list), which SQLite answers
    from the same unique index."""
    if not values:
        return []
    if connection.vendor == "postgresql":
        # LIMIT 1 (each lookup finds at most one row) keeps the planner from flattening
        # the lateral subquery into a hash join over the whole table.
        sql = (
            f"SELECT x.* FROM unnest(%s::{pg_type}[]) AS v(k) "  # noqa: S608
            f"JOIN LATERAL ({inner} LIMIT 1) x ON true"
        )
        return fetch(sql, [arr(values), *params])
    cond, param = any_of(column, values, text=pg_type == "text")
    return fetch(outer.replace("{cond}", cond), [*params, param])


def fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def round_context(round_id: int, site_ids: set[int]) -> RoundContext:
    """The round's status, its areas and the batch's sites, in one query (the sites of a
    city-wide round run to thousands: only those the batch names are read)."""
    cond, param = any_of("id", sorted(site_ids))
    rows = fetch(
        "SELECT 'r', status, '', 0 FROM mass_testing_round WHERE id = %s "  # noqa: S608
        "UNION ALL SELECT 'a', jurisdiction_path, pooling, pool_size "
        "FROM mass_testing_roundarea WHERE round_id = %s "
        "UNION ALL SELECT 's', jurisdiction_path, '', id "
        f"FROM mass_testing_site WHERE round_id = %s AND {cond}",
        [round_id, round_id, round_id, param],
    )
    status = next((r[1] for r in rows if r[0] == "r"), None)
    areas = [(r[1], r[2], int(r[3])) for r in rows if r[0] == "a"]
    sites = {int(r[3]): r[1] for r in rows if r[0] == "s"}
    return RoundContext(status, areas, sites)


def lock_tubes(round_id: int, barcodes: Sequence[str]) -> tuple[dict[str, TubeRow], set[str]]:
    """The batch's existing tubes, locked in barcode order (two batches filling one tube
    queue behind each other), with their members; and the barcodes of other rounds."""
    cond, param = any_of("barcode", barcodes, text=True)
    lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
    rows = fetch(
        "SELECT id, barcode, round_id, status, members, pool_size, kind, jurisdiction_path, "  # noqa: S608
        f"site_id, member_grid, grids_mixed FROM mass_testing_tube WHERE {cond} "
        f"ORDER BY barcode{lock}",
        [param],
    )
    tubes: dict[str, TubeRow] = {}
    other_round: set[str] = set()
    for pk, code, rid, status, members, size, kind, path, site_id, grid, mixed in rows:
        if rid != round_id:
            other_round.add(code)
            continue
        tubes[code] = TubeRow(pk, code, status, members, size, kind, path, site_id, grid, mixed)
    by_pk = {t.id: t for t in tubes.values() if t.id is not None}
    if by_pk:
        # A statement of its own after the lock: it sees what the batch we waited for added.
        cond, param = any_of("tube_id", sorted(by_pk))
        for tube_id, person_id in fetch(
            f"SELECT tube_id, person_id FROM mass_testing_sample WHERE {cond}",  # noqa: S608
            [param],
        ):
            by_pk[tube_id].person_ids.add(person_id)
    return tubes, other_round


def households_of(person_ids: Sequence[int]) -> dict[int, int | None]:
    """The registered household of each person (None: none registered)."""
    if not person_ids:
        return {}
    cond, param = any_of("id", sorted(person_ids))
    return dict(fetch(f"SELECT id, household_id FROM people_person WHERE {cond}", [param]))  # noqa: S608


def seen_client_ids(round_id: int, client_ids: Sequence[str]) -> dict[str, str]:
    """Client ids of the batch accepted before, with their tube's barcode."""
    rows = lookup(
        sorted(set(client_ids)),
        pg_type="text",
        inner="SELECT s.client_id, t.barcode FROM mass_testing_sample s JOIN mass_testing_tube t "
        "ON t.id = s.tube_id WHERE s.round_id = %s AND s.client_id = v.k",
        column="s.client_id",
        outer="SELECT s.client_id, t.barcode FROM mass_testing_sample s JOIN mass_testing_tube t "
        "ON t.id = s.tube_id WHERE s.round_id = %s AND {cond}",
        params=[round_id],
    )
    return dict(rows)


@dataclass(frozen=True, slots=True)
class Members:
    """The batch's persons as the round knows them."""

    tube: dict[int, tuple[int, str, str]]  # person -> latest tube (id, barcode, status)
    excused: set[int]  # persons not sampled yet in the round, excused from it


def members(round_id: int, person_ids: Sequence[int]) -> Members:
    """Each person's latest tube in the round (persons sampled before), and which of the
    others are excused: one unique-index probe each (member row, excusal)."""
    if not person_ids:
        return Members({}, set())
    if connection.vendor == "postgresql":
        rows = fetch(
            "SELECT v.k, x.tube_id, x.barcode, x.status, "
            "EXISTS (SELECT 1 FROM mass_testing_excusal e WHERE e.round_id = %s AND e.person_id = v.k) "
            "FROM unnest(%s::bigint[]) AS v(k) LEFT JOIN LATERAL ("
            "SELECT m.tube_id, t.barcode, t.status FROM mass_testing_roundmember m "
            "JOIN mass_testing_tube t ON t.id = m.tube_id "
            "WHERE m.round_id = %s AND m.person_id = v.k LIMIT 1) x ON true",
            [round_id, arr(sorted(person_ids)), round_id],
        )
    else:
        rows = fetch(
            "SELECT CAST(v.value AS INTEGER), m.tube_id, t.barcode, t.status, "
            "EXISTS (SELECT 1 FROM mass_testing_excusal e WHERE e.round_id = %s "
            "AND e.person_id = CAST(v.value AS INTEGER)) FROM json_each(%s) v "
            "LEFT JOIN mass_testing_roundmember m ON m.round_id = %s "
            "AND m.person_id = CAST(v.value AS INTEGER) "
            "LEFT JOIN mass_testing_tube t ON t.id = m.tube_id",
            [round_id, json.dumps(sorted(person_ids)), round_id],
        )
    tube: dict[int, tuple[int, str, str]] = {}
    excused: set[int] = set()
    for person, tube_id, barcode, status, is_excused in rows:
        if tube_id is not None:
            tube[int(person)] = (int(tube_id), barcode, status)
        elif is_excused:
            excused.add(int(person))
    return Members(tube, excused)


SAMPLE_COLUMNS = (
    "round_id, tube_id, person_id, jurisdiction_path, grid_id, site_id, sampler, sampled_at, "
    "client_id, received_at"
)
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
    hours: dict[tuple[int, dt.datetime], int] = field(default_factory=dict)

    def first_sample(self, grid: int, at: dt.datetime, *, excused: bool) -> None:
        self.sampled[grid] = self.sampled.get(grid, 0) + 1
        if excused:
            self.unexcused[grid] = self.unexcused.get(grid, 0) + 1
        hour = at.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
        self.hours[grid, hour] = self.hours.get((grid, hour), 0) + 1


class MemberMoved(IntegrityError):
    """A person's latest tube changed under the batch (a concurrent batch): run it again."""


def write(
    *,
    round_id: int,
    tubes: dict[str, TubeRow],
    samples: list[tuple[Any, ...]],
    new_members: dict[int, tuple[str, int | None, bool]],
    moved_members: dict[int, tuple[str, int]],
    tally: Tally,
    now: dt.datetime,
) -> None:
    """Insert the new tubes, update the others, add the samples (`samples`: barcode, person,
    path, grid, site, sampler, sampled_at, client id), keep the member table (`new_members`:
    person -> latest barcode, grid, sampled twice in the batch; `moved_members`: person ->
    latest barcode, the tube their row named) and add the batch to the coverage counters,
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
            # by value (about 10 µs a row, a quarter of a batch's Python time).
            text = "".join(
                f"{round_id}\t{tubes[code].id}\t{person}\t{_copy_text(path)}\t"
                f"{NULL if grid is None else grid}\t{NULL if site is None else site}\t"
                f"{_copy_text(sampler)}\t{sampled.isoformat()}\t{_copy_text(cid)}\t{now_text}\n"
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
    moved_members: dict[int, tuple[str, int]],
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
    moved = sorted((p, tubes[code].id, was) for p, (code, was) in moved_members.items())
    if not moved:
        return
    # Sampled again in the round: the row follows the person's latest tube, if it still
    # names the tube this batch read (a concurrent batch moved it otherwise).
    if pg:
        cur.execute(
            "UPDATE mass_testing_roundmember m SET tube_id = v.t, repeat = true "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS v(p, t, w) "
            "WHERE m.round_id = %s AND m.person_id = v.p AND m.tube_id = v.w",
            [
                arr(m[0] for m in moved),
                arr(m[1] for m in moved),
                arr(m[2] for m in moved),
                round_id,
            ],
        )
        changed = cur.rowcount
    else:
        cur.executemany(
            "UPDATE mass_testing_roundmember SET tube_id = %s, repeat = 1 "
            "WHERE round_id = %s AND person_id = %s AND tube_id = %s",
            [(tube_id, round_id, person, was) for person, tube_id, was in moved],
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
    hours = sorted(tally.hours)
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
            [round_id, arr(g for g, _ in hours), arr(h.isoformat() for _, h in hours),
             arr(tally.hours[k] for k in hours), round_id],
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
        [(round_id, at(h), tally.hours[g, h], round_id, g) for g, h in hours],
    )


NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    """A text value in COPY's text format (backslash, tab and line ends escaped)."""
    return value.translate(_COPY_ESCAPES)


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
