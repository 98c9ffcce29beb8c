"""Arrival screening: importing a 100,000-row push list (validated and committed).

Builds a private database (migrations, a synthetic tree of 10 districts x 10 towns x 5 villages
x 2 groups x 2 grids, a rulebook with three dated risk areas); then each measuring run is a fresh
process that empties the screening tables (not timed), reads a 100,000-row csv as the provincial
platform sends it (title line, Chinese headers, full-width and spaced cells, Excel-style dates)
and imports it with `screening.imports.import_file`: every row validated, then one transaction
writing arrivals, sources and the tally. It prints rows/s (wall), CPU seconds (the importer's,
plus on PostgreSQL the server backend's, read from /proc) and the process's peak RSS; the
figure is the median over runs, with the ratio to the issue's target of 5,000 rows/s.

    .venv/bin/python benchmarks/screening_import.py --data-dir /tmp/fk-scr-bench \
        [--database-url postgres://root@127.0.0.1:5432/fk_scr_bench] [--rows 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Target, fangkong, load, machine, timed_child

TARGET_ROWS_PER_S = 5000
FANOUT = (10, 10, 5, 2, 2)
RISK_AREAS = """risk_areas:
  - {code: "110105", name: 北京市朝阳区, level: high, declared_on: 2022-01-01}
  - {code: "310115", name: 上海市浦东新区, level: medium, declared_on: 2022-01-01}
  - {code: "440305", name: 深圳市南山区, level: low, declared_on: 2022-01-01}
"""
NOW = dt.datetime(2022, 1, 20, 2, 0, tzinfo=dt.UTC)


def _setup_django() -> None:
    import django

    django.setup()


def build_tree() -> None:
    """The jurisdiction tree and the rulebook (set-based, not timed)."""
    _setup_django()
    from fangkong.core.actor import system_actor
    from fangkong.jurisdictions.models import Jurisdiction
    from fangkong.policy.editions import edition_text
    from fangkong.policy.services import rulebook_publish

    nodes = [Jurisdiction(code="4409", name="茂名市", level=1, path="/4409/")]
    frontier = [("4409", "/4409/", "")]
    widths = (2, 3, 3, 3, 3)
    for level, (fan, width) in enumerate(zip(FANOUT, widths, strict=True), start=2):
        nxt = []
        for code, path, _ in frontier:
            for i in range(1, fan + 1):
                c = f"{code}{i:0{width}d}"
                name = f"{'区镇村组格'[level - 2]}{c[-width:]}号" if level > 2 else f"第{i}区"
                nodes.append(Jurisdiction(code=c, name=name, level=level, path=f"{path}{c}/"))
                nxt.append((c, f"{path}{c}/", name))
        frontier = nxt
    by_code: dict[str, Jurisdiction] = {}
    for n in nodes:  # parents first: insert level by level
        parent = by_code.get(n.code[: {2: 4, 3: 6, 4: 9, 5: 12, 6: 15}.get(n.level, 0)])
        n.parent = parent
        n.save()
        by_code[n.code] = n
    rulebook_publish(
        actor=system_actor("bench"),
        text=edition_text("ninth-edition-2022").replace("risk_areas: []\n", RISK_AREAS),
        note="bench",
        effective_from=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )
    print(json.dumps({"nodes": len(nodes)}))


def make_file(path: Path, rows: int, seed: int) -> None:
    from fangkong.core.idnumbers import check_char

    origins = ("北京市朝阳区", "上海市浦东新区", "广州市天河区", "深圳市南山区", "武汉市")
    lines = [
        f"省大数据平台推送名单 {seed}",
        "序号,姓名,公民身份号码,联系电话,来源地,途经地,到达日期,现住址,人员类别",
    ]
    for i in range(rows):
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=(i // 1000) % 20000)
        body = f"110105{birth:%Y%m%d}{i % 1000:03d}"
        doc = body + check_char(body)
        district = 1 + i % 10
        addr = f"第{district}区镇{district:02d}{1 + i % 10:03d}号村{1 + i % 5:03d}号 {i}号"
        date = ("2022年1月18日", "2022/1/19", "20220117", "44579")[i % 4]
        lines.append(
            f"{i + 1},测试 {i},{doc},1{3 + i % 6}{i % 100_000_000:09d},{origins[i % 5]},,{date},{addr},务工"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def measure(path: Path) -> None:
    """One run: empty the screening tables, then import the file (timed)."""
    _setup_django()
    from django.db import connection

    from fangkong.core import clock
    from fangkong.core.actor import system_actor
    from fangkong.jurisdictions.models import Jurisdiction
    from fangkong.screening.imports import import_file

    tables = ("arrivalsource", "assistitem", "arrival", "arrivaltally", "importbatch")
    with connection.cursor() as cur:
        for table in tables:
            cur.execute(f"DELETE FROM screening_{table}")  # noqa: S608
        if connection.vendor == "postgresql":
            # The previous run's rows are dead tuples until vacuumed: without this each run
            # would insert into more bloated indexes than the one before.
            for table in tables:
                cur.execute(f"VACUUM ANALYZE screening_{table}")
    root = Jurisdiction.objects.get(code="4409")
    data = path.read_bytes()
    with clock.frozen(NOW):
        server = _server_cpu()
        started, cpu = time.perf_counter(), time.process_time()
        result = import_file(actor=system_actor("bench"), file=data, root=root, source_name="bench")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        server = _server_cpu() - server
    print(
        json.dumps(
            {
                "rows": result.rows,
                "created": result.created,
                "seconds": seconds,
                "cpu": cpu,
                "server_cpu": server,
            }
        )
    )


def _server_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend (0 on SQLite, which works inside the
    importer's own process). The server's background writers are not counted."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # the server runs on another machine
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=("tree", "measure"))
    parser.add_argument("--file", type=Path)
    args = parser.parse_args()
    if args.child == "tree":
        build_tree()
        return
    if args.child == "measure":
        measure(args.file)
        return
    target = Target(args.data_dir, args.database_url)
    print(f"machine: {machine()}")
    print(f"target: {target.label}, rows: {args.rows}")
    target.recreate()
    fangkong(target, "migrate", "--verbosity", "0")
    me = [sys.executable, __file__, "--data-dir", str(args.data_dir)]
    timed_child([*me, "--child", "tree"], target.env())
    path = args.data_dir / f"push-{args.rows}.csv"
    make_file(path, args.rows, seed=1)
    print(f"file: {path.stat().st_size / 1e6:.1f} MB")
    rates: list[float] = []
    cpu_rates: list[float] = []
    peaks: list[int] = []
    for run in range(args.runs):
        _wall, peak, out = timed_child(
            [*me, "--child", "measure", "--file", str(path)], target.env()
        )
        got = json.loads(out.strip().splitlines()[-1])
        rate = got["rows"] / got["seconds"]
        cpu = got["cpu"] + got["server_cpu"]
        rates.append(rate)
        cpu_rates.append(got["rows"] / cpu)
        peaks.append(peak)
        server = f" + server {got['server_cpu']:.1f} s" if target.database_url else ""
        print(
            f"run {run + 1}: {got['rows']} rows, {got['created']} created in {got['seconds']:.1f} s "
            f"= {rate:,.0f} rows/s wall; CPU importer {got['cpu']:.1f} s{server} = "
            f"{got['rows'] / cpu:,.0f} rows per CPU-second; peak RSS {peak} MiB; load {load()}"
        )
    median = statistics.median(rates)
    print(
        f"median of {args.runs}: {median:,.0f} rows/s validated and committed (wall; "
        f"{median / TARGET_ROWS_PER_S:.2f}x the 5,000 rows/s target); "
        f"{statistics.median(cpu_rates):,.0f} rows per CPU-second (importer"
        + (" + PostgreSQL backend" if target.database_url else ", SQLite in-process")
        + f"); peak RSS {statistics.median(peaks)} MiB; load {load()}"
    )
    os.environ.pop("DATABASE_URL", None)


if __name__ == "__main__":
    main()
