"""The sampling ingest's reads and writes, straight through the driver.

The ORM's per-object work (field preparation, one expression per IN parameter) was most of a
batch's time; here every lookup takes its values as one parameter (a PostgreSQL array, a JSON
list on SQLite) and every write is one statement per table on PostgreSQL (unnest, COPY).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

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
    person_ids: set[int] = field(default_factory=set)
    changed: bool = False
    was_open: bool = False  # open before this batch, with members in the open-member table


@dataclass(frozen=True, slots=True)
class RoundContext:
    status: str | None
    areas: list[tuple[str, str, int]]  # path, pooling, pool size
    sites: dict[int, str]  # id -> path, the batch's sites that belong to the round


def any_of(column: str, values: Sequence[Any], *, text: bool = False) -> tuple[str, Any]:
    """`column` in `values` as one parameter (an array, or a JSON list on SQLite)."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", list(values)
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
        return fetch(sql, [list(values), *params])
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
        f"site_id FROM mass_testing_tube WHERE {cond} ORDER BY barcode{lock}",
        [param],
    )
    tubes: dict[str, TubeRow] = {}
    other_round: set[str] = set()
    for pk, code, rid, status, members, size, kind, path, site_id in rows:
        if rid != round_id:
            other_round.add(code)
            continue
        tubes[code] = TubeRow(pk, code, status, members, size, kind, path, site_id)
        tubes[code].was_open = status == "open"
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


def open_tubes(round_id: int, person_ids: Sequence[int]) -> tuple[dict[int, str], list[int]]:
    """Each person's open tube (barcode), and the stale rows (their tube was closed by other
    means, a lab result) to remove."""
    if not person_ids:
        return {}, []
    open_by: dict[int, str] = {}
    stale: list[int] = []
    join = (
        "SELECT o.id, o.person_id, t.barcode, t.status FROM mass_testing_openmember o "
        "JOIN mass_testing_tube t ON t.id = o.tube_id WHERE o.round_id = %s AND "
    )
    for row_id, person_id, barcode, status in lookup(
        sorted(person_ids),
        pg_type="bigint",
        inner=join + "o.person_id = v.k",
        column="o.person_id",
        outer=join + "{cond}",
        params=[round_id],
    ):
        if status == "open":
            open_by[person_id] = barcode
        else:
            stale.append(row_id)
    return open_by, stale


SAMPLE_COLUMNS = (
    "round_id, tube_id, person_id, jurisdiction_path, grid_id, site_id, sampler, sampled_at, "
    "client_id, received_at"
)
TUBE_COLUMNS = (
    "round_id, barcode, site_id, jurisdiction_path, kind, pool_size, members, status, "
    "opened_at, closed_at, result, lab"
)


def write(
    *,
    round_id: int,
    tubes: dict[str, TubeRow],
    samples: list[tuple[Any, ...]],
    open_rows: list[tuple[int, str]],
    stale: list[int],
    now: dt.datetime,
) -> None:
    """Insert the new tubes, update the others, add the samples (`samples`: barcode, person,
    path, grid, site, sampler, sampled_at, client id) and keep the open-member table, inside the caller's
    transaction. `open_rows`: (person, barcode) of members whose tube stays open."""
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
        closed = sorted(
            t.id for t in old if t.id is not None and t.was_open and t.status == "closed"
        )
        if closed or stale:
            cond, param = any_of("tube_id", closed)
            cond2, param2 = any_of("id", stale)
            cur.execute(
                f"DELETE FROM mass_testing_openmember WHERE {cond} OR {cond2}",  # noqa: S608
                [param, param2],
            )
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
        if open_rows:
            # In person order: two batches inserting overlapping persons wait for each other
            # in the same order instead of deadlocking.
            members = sorted((p, tubes[code].id) for p, code in open_rows)
            if pg:
                cur.execute(
                    "INSERT INTO mass_testing_openmember (round_id, person_id, tube_id) "
                    "SELECT %s, p, t FROM unnest(%s::bigint[], %s::bigint[]) AS v(p, t)",
                    [round_id, [m[0] for m in members], [m[1] for m in members]],
                )
            else:
                cur.executemany(
                    "INSERT INTO mass_testing_openmember (round_id, person_id, tube_id) "
                    "VALUES (%s, %s, %s)",
                    [(round_id, p, t) for p, t in members],
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
            "SELECT %s, b, s, p, k, z, m, st, %s, "
            "CASE WHEN st = 'closed' THEN %s::timestamptz END, 'pending', '' "
            "FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::text[], %s::int[], "
            "%s::int[], %s::text[]) AS v(b, s, p, k, z, m, st) RETURNING id, barcode",
            [round_id, stamp, stamp, [t.barcode for t in fresh], [t.site_id for t in fresh],
             [t.path for t in fresh], [t.kind for t in fresh], [t.pool_size for t in fresh],
             [t.members for t in fresh], [t.status for t in fresh]],
        )  # fmt: skip
        rows = cur.fetchall()
    else:
        cur.executemany(
            f"INSERT INTO mass_testing_tube ({TUBE_COLUMNS}) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'pending', '')",
            [(round_id, t.barcode, t.site_id, t.path, t.kind, t.pool_size, t.members,
              t.status, stamp, stamp if t.status == "closed" else None) for t in fresh],
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
            "UPDATE mass_testing_tube t SET members = v.m, status = v.st, "
            "closed_at = CASE WHEN v.st = 'closed' THEN %s::timestamptz END "
            "FROM unnest(%s::bigint[], %s::int[], %s::text[]) AS v(id, m, st) WHERE t.id = v.id",
            [stamp, [t.id for t in old], [t.members for t in old], [t.status for t in old]],
        )
    else:
        cur.executemany(
            "UPDATE mass_testing_tube SET members = %s, status = %s, closed_at = %s WHERE id = %s",
            [(t.members, t.status, stamp if t.status == "closed" else None, t.id) for t in old],
        )
