"""The sampling ingest's reads, straight through the driver (its writes: _ingest_write).

The ORM's per-object work (field preparation, one expression per IN parameter) was most of a
batch's time; here every lookup takes its values as one parameter (a PostgreSQL array, a JSON
list on SQLite) and every write is one statement per table on PostgreSQL (unnest, COPY).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
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
    kinds = set(map(type, values))
    if kinds <= {int}:  # ids: the common case
        return "{" + ",".join(map(str, values)) + "}"
    if kinds == {str}:  # barcodes, client ids: quoted, escaped only when they need it
        joined = '","'.join(values)
        if "\\" not in joined and '"' not in joined:
            return '{"' + joined + '"}'
    elif kinds <= {int, type(None)}:  # ids, some missing
        return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"
    elif kinds == {bool}:
        return "{" + ",".join("t" if v else "f" for v in values) + "}"
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
    row: dict[int, int]  # person -> their member row's id
    excused: set[int]  # persons not sampled yet in the round, excused from it


# Excused: probed person by person only when the round has an excusal at all (most rounds
# have none on their first morning; the uncorrelated test is evaluated once a statement).
_EXCUSED = (
    "CASE WHEN EXISTS (SELECT 1 FROM mass_testing_excusal WHERE round_id = %s) "
    "THEN EXISTS (SELECT 1 FROM mass_testing_excusal e WHERE e.round_id = %s "
    "AND e.person_id = {person}) ELSE false END"
)


def members(round_id: int, person_ids: Sequence[int]) -> Members:
    """Each person's latest tube in the round (persons sampled before), and which of the
    others are excused: one unique-index probe each (member row, excusal)."""
    if not person_ids:
        return Members({}, {}, set())
    if connection.vendor == "postgresql":
        rows = fetch(
            "SELECT v.k, x.tube_id, x.barcode, x.status, x.id, "  # noqa: S608 - constants
            f"{_EXCUSED.format(person='v.k')} "
            "FROM unnest(%s::bigint[]) AS v(k) LEFT JOIN LATERAL ("
            "SELECT m.tube_id, t.barcode, t.status, m.id FROM mass_testing_roundmember m "
            "JOIN mass_testing_tube t ON t.id = m.tube_id "
            "WHERE m.round_id = %s AND m.person_id = v.k LIMIT 1) x ON true",
            [round_id, round_id, arr(sorted(person_ids)), round_id],
        )
    else:
        rows = fetch(
            "SELECT CAST(v.value AS INTEGER), m.tube_id, t.barcode, t.status, m.id, "  # noqa: S608
            f"{_EXCUSED.format(person='CAST(v.value AS INTEGER)')} FROM json_each(%s) v "
            "LEFT JOIN mass_testing_roundmember m ON m.round_id = %s "
            "AND m.person_id = CAST(v.value AS INTEGER) "
            "LEFT JOIN mass_testing_tube t ON t.id = m.tube_id",
            [round_id, round_id, json.dumps(sorted(person_ids)), round_id],
        )
    tube: dict[int, tuple[int, str, str]] = {}
    row: dict[int, int] = {}
    excused: set[int] = set()
    for person, tube_id, barcode, status, row_id, is_excused in rows:
        if tube_id is not None:
            tube[int(person)] = (int(tube_id), barcode, status)
            row[int(person)] = int(row_id)
        elif is_excused:
            excused.add(int(person))
    return Members(tube, row, excused)


SAMPLE_COLUMNS = (
    "round_id, tube_id, person_id, jurisdiction_path, grid_id, site_id, sampler, sampled_at, "
    "client_id, received_at"
)
