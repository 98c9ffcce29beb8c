"""How long `fangkong simulate city` takes, and how much memory it needs.

Each run recreates the database, migrates it (not timed), then times the simulation in a
fresh process and reads that process's peak RSS. The last run's database is kept, so that
person_lookup.py can measure on it with the same data directory (and keys).

    .venv/bin/python benchmarks/city_generation.py --population 1000000 --data-dir /tmp/fk-bench
    .venv/bin/python benchmarks/city_generation.py --population 1000000 --data-dir /tmp/fk-bench \
        --database-url postgres://root@127.0.0.1:5432/fk_bench_1m
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, Target, fangkong, load, machine, timed_child


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--database-url", default="", help="PostgreSQL; SQLite when omitted")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()

    target = Target(data_dir=args.data_dir, database_url=args.database_url)
    print(f"machine: {machine()}")
    print(f"database: {target.label}, population {args.population:,}, seed {args.seed}")
    results = []
    for run in range(1, args.runs + 1):
        target.recreate()
        fangkong(target, "migrate", "-v0")
        argv = [
            sys.executable, "-m", "fangkong", "simulate", "city",
            "--population", str(args.population), "--seed", str(args.seed), "--json",
        ]  # fmt: skip
        seconds, peak_mib, out = timed_child(argv, target.env())
        summary = json.loads(out.strip().splitlines()[-1])
        rate = summary["persons"] / seconds
        results.append((seconds, peak_mib, rate))
        print(
            f"run {run}: {seconds:.1f} s wall, peak RSS {peak_mib} MiB, "
            f"{rate:,.0f} persons/s ({summary['persons']:,} persons, "
            f"{summary['households']:,} households, {summary['places']:,} places, "
            f"{summary['rooms']:,} rooms, {summary['posts']:,} posts), load {load()}",
            flush=True,
        )
    seconds = statistics.median(r[0] for r in results)
    peak = statistics.median(r[1] for r in results)
    rate = statistics.median(r[2] for r in results)
    print(
        f"| {dt.datetime.now(dt.UTC).date().isoformat()} | {target.label} | {args.population:,} | "
        f"{seconds:.0f} s | {rate:,.0f} | {peak:.0f} MiB | {len(results)} |"
    )


if __name__ == "__main__":
    main()
