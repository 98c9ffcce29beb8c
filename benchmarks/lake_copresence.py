"""Venue co-presence over a generated lake: the engine against the plain band-join SQL.

For 1 case and for 100 cases (random persons, infectious windows of `--window-days` days ending
in the lake's last week), each figure from a fresh process:

- engine: `fangkong.lake.engine.venue_copresence(lake, cases)` (DuckDB backend: reads the
  cases' own rows from the person-ordered files, then only the row groups of the venues and
  times around them, and runs the shared SQL over that slice);
- plain: the same SQL text in DuckDB with `checkins` a view over `read_parquet` of every
  (venue, ts)-ordered file of the lake, i.e. the band join (same venue, |t - t_case| <= 1800 s)
  over the same files, left to DuckDB's own pushdown.

Both must return identical rows (checked). Times are the query only (imports and interpreter
start excluded). Two engine figures per child process:

- cold: the first query of a fresh process (no cached sidecars or footers; the engine's thread
  pool starts; DuckDB, when a slice needs it, runs its first query);
- warm: a second query in the same process with other cases (`--seed` + 1000) of the same size:
  what a long-running worker or web process sees. Its rows are checked to be the same in every
  run, not against the plain SQL (that would double the plain runs).

Medians over `--runs`; `--plain-runs 0` skips the plain SQL (minutes and about 14 GiB of RAM on
280 million rows) while iterating.

    .venv/bin/python benchmarks/lake_generate.py --root $BENCH/lake280m
    .venv/bin/python benchmarks/lake_copresence.py --root $BENCH/lake280m --runs 3 --plain-runs 0
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import ROOT, load, machine, timed_child


def pick_cases(
    root: Path, count: int, persons: int, window_days: int, seed: int
) -> list[tuple[int, int, int]]:
    """Random persons, windows of `window_days` days ending in the lake's last week."""
    from fangkong.lake.layout import CHECKINS, Lake, day_start

    last = Lake(root).days(CHECKINS)[-1]
    rng = random.Random(seed)
    cases = []
    for person in rng.sample(range(1, persons + 1), count):
        end = day_start(last + 1) - 1 - rng.randrange(0, 7 * 86_400)
        cases.append((person, end - window_days * 86_400, end))
    return cases


def _venue_rows(lake: Any, cases: list[Any], backend: str) -> list[tuple[int, ...]]:
    from fangkong.lake.engine import venue_copresence

    return [
        (r.case_person_id, r.person_id, r.venue_id, r.case_ts, r.contact_ts, r.encounters)
        for r in venue_copresence(lake, cases, backend=backend)  # type: ignore[arg-type]
    ]


def _digest(rows: list[tuple[int, ...]]) -> str:
    return hashlib.sha256(json.dumps(sorted(rows)).encode()).hexdigest()[:16]


def child(
    mode: str, root: Path, cases_json: str, backend: str, warm_json: str | None
) -> dict[str, Any]:
    import duckdb
    import pyarrow as pa

    from fangkong.lake import queries
    from fangkong.lake.engine import CaseWindow, _cases_table
    from fangkong.lake.layout import CHECKINS, Lake

    cases = [CaseWindow(*c) for c in json.loads(cases_json)]
    lake = Lake(root)
    session_seconds = 0.0
    if backend == "spark":  # the JVM starts once per process; timed apart from the query
        begun = time.perf_counter()
        queries.spark_session()
        session_seconds = time.perf_counter() - begun

    started, cpu_started = time.perf_counter(), time.process_time()
    rows: list[tuple[int, ...]]
    if mode == "engine":
        rows = _venue_rows(lake, cases, backend)
    else:
        files = [
            str(p)
            for d in lake.days(CHECKINS)
            if (f := lake.day_files(CHECKINS, d))
            for p in f.place_files
        ]
        con = duckdb.connect(":memory:")
        con.register("cases", _cases_table(cases))
        con.register(
            "venue_windows",
            pa.table(
                {"venue_id": pa.array([], pa.int64()), "window_seconds": pa.array([], pa.int64())}
            ),
        )
        con.execute(
            f"CREATE VIEW checkins AS SELECT person_id, venue_id, ts FROM read_parquet({files!r})"  # noqa: S608 -- our own file paths
        )
        result = con.sql(queries.venue_sql(window_seconds=1800)).fetchall()
        rows = [tuple(int(v) for v in r[:6]) for r in result]
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    out: dict[str, Any] = {
        "seconds": seconds,
        "cpu_seconds": cpu,  # all threads; unlike wall time, not stretched by other load
        "session_seconds": session_seconds,
        "rows": len(rows),
        "digest": _digest(rows),
    }
    if mode == "engine" and warm_json:
        warm = [CaseWindow(*c) for c in json.loads(warm_json)]
        started, cpu_started = time.perf_counter(), time.process_time()
        warm_rows = _venue_rows(lake, warm, backend)
        out["warm_seconds"] = time.perf_counter() - started
        out["warm_cpu_seconds"] = time.process_time() - cpu_started
        out["warm_rows"], out["warm_digest"] = len(warm_rows), _digest(warm_rows)
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--plain-runs", type=int, default=3)
    parser.add_argument("--window-days", type=int, default=4)
    parser.add_argument("--persons", type=int, default=8_000_000, help="as generated")
    parser.add_argument("--sizes", default="1,100")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", choices=["engine", "plain"])
    parser.add_argument("--cases-json")
    parser.add_argument("--warm-cases-json")
    parser.add_argument("--backend", default="duckdb")
    args = parser.parse_args()
    if args.child:
        print(
            json.dumps(
                child(args.child, args.root, args.cases_json, args.backend, args.warm_cases_json)
            )
        )
        return

    from fangkong.lake.layout import CHECKINS, Lake

    lake = Lake(args.root)
    rows = sum(f.rows for d in lake.days(CHECKINS) if (f := lake.day_files(CHECKINS, d)))
    size = sum(p.stat().st_size for p in (args.root / "checkins").rglob("*.parquet"))
    print(f"machine: {machine()}")
    print(
        f"lake: {args.root}: {rows:,} check-ins, {len(lake.days(CHECKINS))} days, {size / 2**30:.1f} GiB (both orders)"
    )
    print(
        f"windows: {args.window_days} days; runs: {args.runs} engine, {args.plain_runs} plain (fresh processes)"
    )
    report: dict[str, Any] = {"rows": rows, "bytes": size, "load_start": load(), "figures": {}}
    for size_cases in [int(s) for s in args.sizes.split(",")]:
        cases = json.dumps(
            pick_cases(args.root, size_cases, args.persons, args.window_days, args.seed)
        )
        warm_cases = json.dumps(
            pick_cases(args.root, size_cases, args.persons, args.window_days, args.seed + 1000)
        )
        figures: dict[str, list[dict[str, Any]]] = {"engine": [], "plain": []}
        for run in range(max(args.runs, args.plain_runs)):
            for mode in ("engine", "plain"):
                if run >= (args.runs if mode == "engine" else args.plain_runs):
                    continue
                argv = [
                    sys.executable,
                    __file__,
                    "--root",
                    str(args.root),
                    "--child",
                    mode,
                    "--cases-json",
                    cases,
                    "--backend",
                    args.backend,
                ]
                if mode == "engine":
                    argv += ["--warm-cases-json", warm_cases]
                _, _, out = timed_child(argv, env={**os.environ, "PYTHONPATH": str(ROOT)})
                figures[mode].append(json.loads(out))
        digests = {f["digest"] for fs in figures.values() for f in fs}
        assert len(digests) == 1, f"engine and plain SQL disagree: {digests}"
        warm_digests = {f["warm_digest"] for f in figures["engine"]}
        assert len(warm_digests) <= 1, f"warm runs disagree: {warm_digests}"
        summary: dict[str, Any] = {
            mode: {
                "median_s": round(statistics.median(f["seconds"] for f in fs), 4),
                "median_cpu_s": round(statistics.median(f["cpu_seconds"] for f in fs), 4),
                "min_s": round(min(f["seconds"] for f in fs), 4),
                "max_s": round(max(f["seconds"] for f in fs), 4),
                "peak_rss_mib": max(f["peak_rss_mib"] for f in fs),
                "candidates": fs[0]["rows"],
                "session_s": round(statistics.median(f["session_seconds"] for f in fs), 2),
            }
            for mode, fs in figures.items()
            if fs
        }
        if figures["engine"]:
            engine_runs = figures["engine"]
            summary["engine_warm"] = {
                "median_s": round(statistics.median(f["warm_seconds"] for f in engine_runs), 4),
                "median_cpu_s": round(
                    statistics.median(f["warm_cpu_seconds"] for f in engine_runs), 4
                ),
                "min_s": round(min(f["warm_seconds"] for f in engine_runs), 4),
                "max_s": round(max(f["warm_seconds"] for f in engine_runs), 4),
                "candidates": engine_runs[0]["warm_rows"],
            }
        if "plain" in summary:
            ratio = summary["engine"]["median_s"] / summary["plain"]["median_s"]
            summary["ratio_engine_to_plain"] = round(ratio, 4)
            cpu_ratio = summary["engine"]["median_cpu_s"] / summary["plain"]["median_cpu_s"]
            summary["cpu_ratio_engine_to_plain"] = round(cpu_ratio, 4)
        report["figures"][f"{size_cases}_cases"] = summary
        print(f"{size_cases} case(s): {json.dumps(summary)}  load {load()}", flush=True)
    report["load_end"] = load()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
