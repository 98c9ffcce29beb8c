"""Data of the city-scale round benchmark (benchmarks/mass_testing_round.py), generated
set-based inside the database, on PostgreSQL and on SQLite.

The tree: 20 districts, 200 towns, 2,000 villages, 2,000 compounds, 20,000 grids. Persons
(scale x 10.5 million, 1 in 20 never sampled), 10-in-1 closed tubes, their samples, a few
thousand excusals, and what the ingest leaves behind: the member table's row per sampled
person, each tube's members' grid, and the coverage counters (counted by the recount,
`services.coverage_refresh`, untimed). The lab's lines wait in `bench_lab_in` (what a
parsed file holds): one per tube (1 in 1,000 positive), plus 100 lines for unknown tubes
and 50 tubes reported twice with the other result.

Persons live in grids in blocks of consecutive ids and are sampled in id order, so a tube
takes neighbours (as a site's queue does): about 2 % of the tubes straddle two grids.
`striped=True` spreads consecutive persons over all the grids instead (every tube mixes ten
grids), the worst case for counting results by grid.

Fast load: the secondary indexes and unique indexes of the loaded tables are dropped first and
built again after the load (then ANALYZE); PostgreSQL skips the foreign-key triggers for this
session (`session_replication_role = replica`: the generated keys are consistent by
construction) and loads with `synchronous_commit = off`; SQLite loads with
`synchronous = OFF, journal_mode = OFF` and puts WAL back afterwards.
"""

# ruff: noqa: S608 - every statement is built from this file's constants and integers

from __future__ import annotations

import datetime as dt
import time
from typing import Any

TABLES = ["people_person", "mass_testing_tube", "mass_testing_sample", "mass_testing_roundmember"]


class Dialect:
    """The few expressions that differ between the two databases."""

    def __init__(self, vendor: str) -> None:
        self.pg = vendor == "postgresql"

    def series(self, name: str, start: str, stop: str, step: int = 1) -> str:
        """A FROM item of integers `name` from start to stop (inclusive)."""
        if self.pg:
            return f"generate_series({start}, {stop}, {step}) AS {name}"
        return (
            f"(WITH RECURSIVE c(v) AS (SELECT {start} UNION ALL SELECT v + {step} FROM c "
            f"WHERE v + {step} <= {stop}) SELECT v AS {name} FROM c) AS s_{name}"
        )

    def col(self, name: str) -> str:
        return name if self.pg else f"s_{name}.{name}"

    def pad(self, expr: str, width: int) -> str:
        return (
            f"lpad(({expr})::text, {width}, '0')" if self.pg else f"printf('%%0{width}d', {expr})"
        )

    def text(self, expr: str) -> str:
        return f"({expr})::text" if self.pg else f"CAST({expr} AS TEXT)"

    def plus_seconds(self, ts_param: str, seconds: str) -> str:
        if self.pg:
            return f"{ts_param}::timestamptz + ({seconds}) * interval '1 second'"
        return f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', {ts_param}, '+' || ({seconds}) || ' seconds')"


def _drop_indexes(cur: Any, pg: bool) -> list[str]:
    """Drop the loaded tables' secondary indexes; return the statements that rebuild them."""
    rebuild: list[str] = []
    for table in TABLES:
        if pg:
            cur.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'u'",
                [table],
            )
            for name, definition in cur.fetchall():
                cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                rebuild.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            cur.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary",
                [table],
            )
            for name, definition in cur.fetchall():
                cur.execute(f"DROP INDEX {name}")
                rebuild.append(definition)
        else:
            cur.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                "AND sql IS NOT NULL",
                [table],
            )
            for name, definition in cur.fetchall():
                cur.execute(f'DROP INDEX "{name}"')
                rebuild.append(definition)
    return rebuild


def generate(scale: float, striped: bool = False) -> dict[str, Any]:  # noqa: PLR0915 - one load, step by step
    import django

    django.setup()
    from django.db import connection

    from fangkong.core import clock, crypto
    from fangkong.mass_testing import services
    from fangkong.mass_testing.models import Round

    d = Dialect(connection.vendor)
    samples = int(10_000_000 * scale)
    tubes = samples // 10
    persons = samples * 20 // 19 + 1
    now = clock.now()
    ops = connection.ops
    sealed = crypto.encrypt("x")  # one valid ciphertext for every encrypted column

    def ts(delta_hours: float) -> Any:
        return ops.adapt_datetimefield_value(now + dt.timedelta(hours=delta_hours))

    timings: dict[str, Any] = {}
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        if d.pg:
            cur.execute("SET synchronous_commit = off")
            cur.execute("SET session_replication_role = replica")
            cur.execute("SET maintenance_work_mem = '512MB'")
            cur.execute("SET work_mem = '256MB'")
        else:
            cur.execute("PRAGMA synchronous = OFF")
            cur.execute("PRAGMA journal_mode = OFF")
            cur.execute("PRAGMA cache_size = -1000000")
            cur.execute("PRAGMA foreign_keys = OFF")
        rebuild = _drop_indexes(cur, d.pg)
        _tree(cur, d)
        cur.execute("SELECT COUNT(*) FROM bench_g")
        grids = int(cur.fetchone()[0])
        if scale < 1:
            grids = max(1, int(grids * scale))
            cur.execute("DELETE FROM bench_g WHERE idx >= %s", [grids])
        block = -(-persons // grids)  # persons per grid, in consecutive ids
        i = d.col("i")
        cur.execute(
            "INSERT INTO people_person (id, doc_type, doc_number, doc_bidx, name, name_bidx, sex, "
            "phone, phone_bidx, address, grid_id, jurisdiction_path, id_mismatch, created_at, updated_at) "
            f"SELECT {i}, 'resident_id', %s, 'b' || {d.text(i)}, %s, '', 'U', '', '', '', g.id, g.path, "
            f"%s, %s, %s FROM {d.series('i', '1', str(persons))} JOIN bench_g g ON g.idx = "
            + (f"({i} - 1) %% %s" if striped else f"({i} - 1) / %s"),
            [sealed, sealed, False, ts(0), ts(0), grids if striped else block],
        )
        if d.pg:
            for table, last in [("people_person", persons), ("mass_testing_tube", tubes)]:
                cur.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, last])
        timings["persons_s"] = time.perf_counter() - t0
        t = time.perf_counter()
        cur.execute(
            "INSERT INTO mass_testing_round (name, jurisdiction_path, starts_at, deadline, status, "
            "policy_version, created_by, created_at) VALUES ('bench', '/4409/', %s, %s, 'open', 1, "
            "'bench', %s)",
            [ts(-20), ts(28), ts(-20)],
        )
        cur.execute("SELECT MAX(id) FROM mass_testing_round")
        rnd = int(cur.fetchone()[0])
        cur.execute(
            "INSERT INTO mass_testing_roundarea (round_id, jurisdiction_id, jurisdiction_path, area_type, "
            "pooling, pool_size) SELECT %s, id, path, 'general', 'pooled', 10 "
            "FROM jurisdictions_jurisdiction WHERE level = 2",
            [rnd],
        )
        tt = d.col("t")

        # A tube's samples are (t - 1) * 10 + 1 .. t * 10; sample j is person p(j), below;
        # the members' grid is one when its first and last member share it.
        def person_of(j: str) -> str:
            return f"((({j}) - 1) / 19) * 20 + (({j}) - 1) %% 19 + 1"

        def grid_of(j: str) -> str:
            return (
                f"({person_of(j)} - 1) %% {grids}" if striped else f"({person_of(j)} - 1) / {block}"
            )

        first_grid, last_grid = grid_of(f"({tt} - 1) * 10 + 1"), grid_of(f"{tt} * 10")
        cur.execute(
            "INSERT INTO mass_testing_tube (id, round_id, barcode, site_id, jurisdiction_path, kind, "
            "pool_size, members, status, opened_at, closed_at, result, ct_value, result_at, lab, "
            "member_grid, grids_mixed) "
            f"SELECT {tt}, %s, 'B' || {d.pad(tt, 9)}, NULL, '/4409/', 'pooled', 10, 10, 'closed', %s, %s, "
            f"'pending', NULL, NULL, '', CASE WHEN {first_grid} = {last_grid} THEN g.id END, "
            f"{first_grid} <> {last_grid} "
            f"FROM {d.series('t', '1', str(tubes))} JOIN bench_g g ON g.idx = {first_grid}",
            [rnd, ts(-10), ts(-9)],
        )
        j = d.col("j")
        cur.execute(
            "INSERT INTO mass_testing_sample (round_id, tube_id, person_id, jurisdiction_path, grid_id, "
            "site_id, sampler, sampled_at, client_id, received_at) "
            f"SELECT %s, ({j} - 1) / 10 + 1, p.id, p.jurisdiction_path, p.grid_id, NULL, '', "
            f"{d.plus_seconds('%s', f'{j} %% 72000')}, 'c' || {d.text(j)}, %s "
            f"FROM {d.series('j', '1', str(samples))} "
            f"JOIN people_person p ON p.id = {person_of(j)}",
            [rnd, ts(-20), ts(-1)],
        )
        cur.execute(
            "INSERT INTO mass_testing_roundmember (round_id, person_id, tube_id, grid_id, repeat) "
            "SELECT round_id, person_id, tube_id, grid_id, %s FROM mass_testing_sample",
            [False],
        )
        timings["tubes_samples_s"] = time.perf_counter() - t
        t = time.perf_counter()
        e = d.col("e")
        cur.execute(
            "INSERT INTO mass_testing_excusal (round_id, person_id, jurisdiction_path, reason, note, "
            f"created_by, created_at) SELECT %s, p.id, p.jurisdiction_path, 'away', '', 'bench', %s "
            f"FROM {d.series('e', '20', str(persons), 2000)} JOIN people_person p ON p.id = {e}",
            [rnd, ts(-2)],
        )
        cur.execute("DROP TABLE IF EXISTS bench_lab_in")
        cur.execute(
            "CREATE TABLE bench_lab_in (seq integer PRIMARY KEY, barcode varchar(40) NOT NULL, "
            "result varchar(8) NOT NULL, ct_value double precision, tested_at timestamp"
            f"{' with time zone' if d.pg else ''} NOT NULL)"
        )
        lab = "INSERT INTO bench_lab_in (seq, barcode, result, ct_value, tested_at) "
        cur.execute(
            lab + f"SELECT {tt}, 'B' || {d.pad(tt, 9)}, CASE WHEN {tt} %% %s = 7 THEN 'positive' "
            f"ELSE 'negative' END, NULL, %s FROM {d.series('t', '1', str(tubes))}",
            [max(8, tubes // 1000), ts(-1)],
        )
        cur.execute(
            lab + f"SELECT {tubes} + {tt}, 'X' || {d.pad(tt, 9)}, 'negative', NULL, %s "
            f"FROM {d.series('t', '1', '100')}",
            [ts(-1)],
        )
        cur.execute(
            lab + f"SELECT {tubes + 100} + {tt}, 'B' || {d.pad(f'{tt} * 997', 9)}, 'positive', "
            f"NULL, %s FROM {d.series('t', '1', '50')}",
            [ts(-1)],
        )
        timings["extras_s"] = time.perf_counter() - t
        t = time.perf_counter()
        for stmt in rebuild:
            cur.execute(stmt)
        timings["indexes_s"] = time.perf_counter() - t
        t = time.perf_counter()
        if d.pg:
            cur.execute("SET session_replication_role = DEFAULT")
            cur.execute("VACUUM ANALYZE")  # as autovacuum would leave it: visibility map set
        else:
            cur.execute("ANALYZE")
            cur.execute("PRAGMA journal_mode = WAL")
        timings["analyze_s"] = time.perf_counter() - t
    t = time.perf_counter()
    services.coverage_refresh(rnd=Round.objects.get(pk=rnd))  # the counters, as sampled
    timings["counters_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t0
    return timings | {
        "persons_n": persons,
        "samples_n": samples,
        "tubes_n": tubes,
        "grids_n": grids,
        "round": rnd,
        "striped": striped,
        "database": connection.vendor,
    }


def _tree(cur: Any, d: Dialect) -> None:
    """The jurisdiction tree and a helper table `bench_g` (grid index -> id, path)."""
    k = d.col("k")
    ins = (
        "INSERT INTO jurisdictions_jurisdiction (code, name, level, parent_id, path, population, "
        "households) "
    )
    cur.execute(ins + "VALUES ('4409', '基准市', %s, NULL, '/4409/', 0, 0)", [1])
    for level, width, fan, label in [
        (2, 2, 20, "区"),
        (3, 3, 10, "街道"),
        (4, 3, 10, "社区"),
        (5, 3, 1, "小区"),
        (6, 3, 10, "网格"),
    ]:
        code = f"p.code || {d.pad(k, width)}"
        cur.execute(
            ins
            + f"SELECT {code}, '{label}' || {d.text(k)}, {level}, p.id, p.path || {code} || '/', 0, 0 "
            f"FROM jurisdictions_jurisdiction p, {d.series('k', '1', str(fan))} "
            f"WHERE p.level = %s ORDER BY p.code, {k}",
            [level - 1],
        )
    cur.execute("DROP TABLE IF EXISTS bench_g")
    cur.execute(
        "CREATE TABLE bench_g AS SELECT ROW_NUMBER() OVER (ORDER BY code) - 1 AS idx, id, path "
        "FROM jurisdictions_jurisdiction WHERE level = %s",
        [6],
    )
    cur.execute("CREATE INDEX bench_g_idx ON bench_g (idx)")
