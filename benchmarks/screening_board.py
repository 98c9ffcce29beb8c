"""Arrival screening: the district board at 1,000,000 arrivals (target: server time <= 200 ms).

Builds a private database with the tree of `screening_import.py` (10 districts, 2,000 grids)
and inserts 1,000,000 arrivals set-based (one INSERT ... SELECT over a number series x grids):
60 % verified, 10 % not reached (half of them "not in this city"), 30 % still to verify, created
over the five days before "now" with a 24 h deadline, a tenth sampled, under control or on two
lists (the arrival table's indexes are dropped for the insert and built afterwards). Then
`screening.tally.rebuild()` and ANALYZE (VACUUM ANALYZE on PostgreSQL). Each measuring run is a
fresh process that signs in a district officer (the real session path) and requests, through
Django's test client (in-process), the board page /screening/?node=<district> or the API
/api/screening/board?node=<district> (each in its own process): the first (cold) request, then
the median of 10 warm ones, in wall time and in CPU time (this process, plus the PostgreSQL
backend's), which a loaded machine does not inflate. "Cold" is the board's first request after
one request to another page (the process's own start-up is printed apart).

    .venv/bin/python benchmarks/screening_board.py --data-dir /tmp/fk-scr-board \
        [--database-url postgres://root@127.0.0.1:5432/fk_scr_board] [--rows 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Target, fangkong, load, machine, timed_child
from screening_import import NOW, _server_cpu, build_tree

DISTRICT = "440901"


def _django() -> None:
    import django

    django.setup()


def fill(rows: int) -> None:
    _django()
    from django.db import connection

    from fangkong.core import crypto
    from fangkong.screening import tally

    enc = crypto.encrypt("测试")
    started = time.monotonic()
    with connection.cursor() as cur:
        pg = connection.vendor == "postgresql"
        indexes = _drop_indexes(cur, pg)
        if pg:
            series = f"SELECT generate_series(0, {rows - 1}) AS n"
            cur.execute(
                "CREATE TEMP TABLE g AS SELECT (ROW_NUMBER() OVER (ORDER BY id)) - 1 AS k, id, path "
                "FROM jurisdictions_jurisdiction WHERE level = 6"
            )
        else:
            series = (
                "WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s "  # noqa: S608
                f"WHERE n < {rows - 1}) "
                "SELECT n FROM s"
            )
            cur.execute(
                "CREATE TEMP TABLE g AS SELECT (ROW_NUMBER() OVER (ORDER BY id)) - 1 AS k, id, path "
                "FROM jurisdictions_jurisdiction WHERE level = 6"
            )
        cur.execute("SELECT COUNT(*) FROM g")
        grids = cur.fetchone()[0]
        now = NOW.isoformat()
        ts = "CAST(%s AS timestamptz)" if pg else "%s"
        interval = (
            f"({ts} - (s.n %% 7200) * INTERVAL '1 minute')"
            if pg
            else f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', {ts}, '-' || (s.n %% 7200) || ' minutes')"
        )
        due = (
            f"({interval} + INTERVAL '24 hours')"
            if pg
            else f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', {ts}, '-' || (s.n %% 7200) || ' minutes', '+24 hours')"
        )
        true, false = ("TRUE", "FALSE") if pg else ("1", "0")
        sql = f"""
        INSERT INTO screening_arrival (doc_type, doc_number, doc_bidx, name, phone, address,
            jurisdiction_id, jurisdiction_path, placed, origin, route, risk_codes, risk_level,
            category, measure, returnee_class, arrival_date, policy_version, status,
            not_reached_reason, address_confirmed, sample_ref, under_control, notes,
            source_count, due_at, verified_by, created_at, updated_at)
        SELECT 'resident_id', %s, 'b' || s.n, %s, '', '', g.id, g.path, {true}, '北京市朝阳区', '',
            '[]', 'high', 'arrival_high_risk', 'centralized_quarantine', 'migrant_worker',
            '2022-01-18', 1,
            CASE WHEN s.n %% 10 < 6 THEN 'verified' WHEN s.n %% 10 = 6 THEN 'not_reached'
                 ELSE 'received' END,
            CASE WHEN s.n %% 10 = 6 THEN (CASE WHEN s.n %% 20 = 6 THEN 'not_in_city' ELSE 'wrong_number' END)
                 ELSE '' END,
            {false}, CASE WHEN s.n %% 10 = 1 THEN 'T' || s.n ELSE '' END,
            CASE WHEN s.n %% 10 = 2 THEN {true} ELSE {false} END, '',
            CASE WHEN s.n %% 10 = 3 THEN 2 ELSE 1 END,
            {due}, '', {interval}, {interval}
        FROM ({series}) AS s JOIN g ON g.k = s.n %% {grids}
        """  # noqa: S608 - constants of this script only
        params = [enc, enc] + [now] * 3
        cur.execute(sql, params)
        inserted = time.monotonic() - started
        for statement in indexes:
            cur.execute(statement)
    written = tally.rebuild()
    with connection.cursor() as cur:
        # A table in steady state: statistics, and on PostgreSQL the visibility map that lets
        # the board count from its index alone (autovacuum keeps it so in production).
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(
        json.dumps(
            {
                "rows": rows,
                "tally": written,
                "insert_seconds": round(inserted, 1),
                "seconds": round(time.monotonic() - started, 1),
            }
        )
    )


def _drop_indexes(cur: Any, pg: bool) -> list[str]:
    """Drop the arrival table's secondary indexes and return the statements that rebuild them:
    building an index once over a million sorted keys is many times cheaper than keeping nine
    indexes up to date row by row (the constraint's unique index included)."""
    if pg:
        cur.execute(
            "SELECT i.indexname, i.indexdef, c.conname FROM pg_indexes i "
            "LEFT JOIN pg_constraint c ON c.conname = i.indexname "
            "WHERE i.tablename = 'screening_arrival' AND i.indexname NOT LIKE '%%_pkey'"
        )
        found = cur.fetchall()
        for name, _sql, constraint in found:
            if constraint:
                cur.execute(f'ALTER TABLE screening_arrival DROP CONSTRAINT "{constraint}"')
            else:
                cur.execute(f'DROP INDEX "{name}"')
        return [sql for _name, sql, _c in found]
    cur.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
        "AND tbl_name = 'screening_arrival' AND sql IS NOT NULL"
    )
    found = cur.fetchall()
    for name, _sql in found:
        cur.execute(f'DROP INDEX "{name}"')
    return [sql for _name, sql in found]


URLS = {
    "page": f"/screening/?node={DISTRICT}",
    "api": f"/api/screening/board?node={DISTRICT}",
}


def measure(what: str) -> None:
    """One figure in a fresh process: the first (cold) request, then 10 warm ones."""
    _django()
    from django.test import Client

    from fangkong.accounts.middleware import SESSION_SCOPE_VERSION, SESSION_TOTP_VERIFIED
    from fangkong.accounts.models import User
    from fangkong.core import clock
    from fangkong.jurisdictions.models import Jurisdiction

    user = User.objects.filter(username="bench-officer").first()
    if user is None:
        user = User.objects.create(username="bench-officer", role="district_staff")
        user.jurisdictions.set([Jurisdiction.objects.get(code=DISTRICT)])
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_SCOPE_VERSION] = user.scope_version
    session[SESSION_TOTP_VERIFIED] = True
    session.save()
    times, cpus = [], []
    with clock.frozen(NOW):
        # The process's first request imports the URL configuration, the API and the
        # middleware: time it apart, so that "cold" is the board's own first request.
        started = time.perf_counter()
        client.get("/accounts/login/")
        first = (time.perf_counter() - started) * 1000
        for _ in range(11):
            server = _server_cpu()
            started, cpu = time.perf_counter(), time.process_time()
            response = client.get(URLS[what])
            times.append((time.perf_counter() - started) * 1000)
            cpus.append((time.process_time() - cpu + _server_cpu() - server) * 1000)
            assert response.status_code == 200, response.status_code
        figures = client.get(URLS["api"]).json()["node"]["figures"]
    print(json.dumps({"times": times, "cpus": cpus, "first": first, "figures": figures}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=("tree", "fill", "measure"))
    parser.add_argument("--what", choices=tuple(URLS), default="api")
    parser.add_argument("--reuse", action="store_true", help="measure an already filled database")
    args = parser.parse_args()
    if args.child == "tree":
        build_tree()
        return
    if args.child == "fill":
        fill(args.rows)
        return
    if args.child == "measure":
        measure(args.what)
        return
    target = Target(args.data_dir, args.database_url)
    print(f"machine: {machine()}")
    print(f"target: {target.label}, arrivals: {args.rows}")
    me = [sys.executable, __file__, "--data-dir", str(args.data_dir)]
    if not args.reuse:
        started = time.monotonic()
        target.recreate()
        fangkong(target, "migrate", "--verbosity", "0")
        # The page renders with the manifest static storage, as in production.
        fangkong(target, "collectstatic", "--noinput", "--verbosity", "0")
        timed_child([*me, "--child", "tree"], target.env())
        wall, _, out = timed_child([*me, "--child", "fill", "--rows", str(args.rows)], target.env())
        print(f"fill: {out.strip().splitlines()[-1]} ({wall:.0f} s with startup)")
        print(f"setup: {time.monotonic() - started:.0f} s; load {load()}")
    cold: dict[str, list[float]] = {"page": [], "api": []}
    warm: dict[str, list[float]] = {"page": [], "api": []}
    warm_cpu: dict[str, list[float]] = {"page": [], "api": []}
    figures = {}
    for run in range(args.runs):
        for name in URLS:
            _, _, out = timed_child([*me, "--child", "measure", "--what", name], target.env())
            got = json.loads(out.strip().splitlines()[-1])
            times = got["times"]
            figures = got["figures"]
            cold[name].append(times[0])
            warm[name].append(statistics.median(times[1:]))
            warm_cpu[name].append(statistics.median(got["cpus"][1:]))
            print(
                f"run {run + 1} {name}: cold {times[0]:.0f} ms, warm median of 10 "
                f"{statistics.median(times[1:]):.0f} ms (min {min(times[1:]):.0f}, "
                f"max {max(times[1:]):.0f}), CPU {statistics.median(got['cpus'][1:]):.0f} ms; "
                f"the process's first request (another page) {got['first']:.0f} ms; load {load()}"
            )
    print(f"district figures: {figures}")
    for name in URLS:
        w = statistics.median(warm[name])
        print(
            f"{name}: cold {statistics.median(cold[name]):.0f} ms, warm {w:.0f} ms "
            f"(median of {args.runs} runs; {w / 200:.2f}x the 200 ms target); warm CPU "
            f"{statistics.median(warm_cpu[name]):.0f} ms (this process"
            + (" + the PostgreSQL backend" if args.database_url else ", SQLite in-process")
            + f"); load {load()}"
        )


if __name__ == "__main__":
    main()
