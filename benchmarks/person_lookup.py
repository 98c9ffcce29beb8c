"""Person lookup by document number through the blind index, on a generated city.

Times `people.selectors.person_find_by_document` (the path pages and API use: normalise,
blind index, scoped query with its joins) and the bare indexed query
`Person.objects.filter(doc_bidx=..., merged_into__isnull=True).first()`, for known numbers
sampled from the table and unknown (valid but absent) numbers. Each run is a fresh process;
the figures are the median over runs of each run's median and p99.

    .venv/bin/python benchmarks/person_lookup.py --data-dir /tmp/fk-bench [--database-url URL]

The database must have been generated with the same data directory (the blind-index key
lives there), e.g. by city_generation.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, Target, load, machine, timed_child


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def child(known: int, unknown: int, seed: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.db.models import Max, Min

    from fangkong.core.idnumbers import check_char
    from fangkong.core.scope import Scope
    from fangkong.jurisdictions.models import Jurisdiction, Level
    from fangkong.people import protect
    from fangkong.people.models import Person
    from fangkong.people.selectors import person_find_by_document

    rng = random.Random(seed)
    bounds = Person.objects.aggregate(lo=Min("id"), hi=Max("id"))
    ids = rng.sample(range(bounds["lo"], bounds["hi"] + 1), known)
    numbers: list[tuple[str, bool]] = []
    for start in range(0, len(ids), 500):
        sample = Person.objects.filter(id__in=ids[start : start + 500]).values_list(
            "doc_number", flat=True
        )
        numbers.extend((n, True) for n in sample)
    for _ in range(unknown):
        # Area 440999 is never generated: valid numbers that are certainly absent.
        born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(30_000))
        first17 = f"440999{born:%Y%m%d}{rng.randrange(1000):03d}"
        numbers.append((first17 + check_char(first17), False))
    rng.shuffle(numbers)
    scope = Scope.system()
    city = Jurisdiction.objects.filter(level=Level.CITY).first()
    # Warm-up: open the connection, load the code paths (not counted).
    for number, _ in numbers[:20]:
        person_find_by_document(scope=scope, number=number)
    timings: dict[str, list[float]] = {"selector": [], "bare": []}
    by_kind: dict[str, list[float]] = {"known": [], "unknown": []}
    misses = 0
    for number, is_known in numbers:
        t0 = time.perf_counter()
        found = person_find_by_document(scope=scope, number=number)
        t1 = time.perf_counter()
        Person.objects.filter(doc_bidx=protect.doc_index(number), merged_into__isnull=True).first()
        t2 = time.perf_counter()
        timings["selector"].append((t1 - t0) * 1000)
        timings["bare"].append((t2 - t1) * 1000)
        by_kind["known" if is_known else "unknown"].append((t1 - t0) * 1000)
        misses += is_known != bool(found)
    return {
        "persons": city.population if city else 0,
        "lookups": len(numbers),
        "wrong_answers": misses,
        **{
            f"{name}_{stat}": fn(values)
            for name, values in {**timings, **by_kind}.items()
            for stat, fn in (
                ("median", statistics.median),
                ("p99", lambda v: percentile(v, 0.99)),
            )
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--database-url", default="", help="PostgreSQL; SQLite when omitted")
    parser.add_argument("--known", type=int, default=2000)
    parser.add_argument("--unknown", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", type=int, default=-1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child >= 0:
        print(json.dumps(child(args.known, args.unknown, seed=args.child)))
        return

    target = Target(data_dir=args.data_dir, database_url=args.database_url)
    print(f"machine: {machine()}")
    print(f"database: {target.label}")
    runs = []
    for run in range(args.runs):
        argv = [
            sys.executable, os.path.abspath(__file__), "--child", str(run),
            "--known", str(args.known), "--unknown", str(args.unknown),
        ]  # fmt: skip
        _, _, out = timed_child(argv, target.env())
        result = json.loads(out.strip().splitlines()[-1])
        runs.append(result)
        print(
            f"run {run + 1}: {result['persons']:,} persons, {result['lookups']} lookups, "
            f"selector median {result['selector_median']:.3f} ms p99 {result['selector_p99']:.3f} ms, "
            f"bare median {result['bare_median']:.3f} ms p99 {result['bare_p99']:.3f} ms, "
            f"known {result['known_median']:.3f} / unknown {result['unknown_median']:.3f} ms, "
            f"wrong answers {result['wrong_answers']}, load {load()}",
            flush=True,
        )

    def med(key: str) -> float:
        return float(statistics.median(r[key] for r in runs))

    today = dt.datetime.now(dt.UTC).date().isoformat()
    print(
        f"| {today} | {target.label} | {runs[0]['persons']:,} | "
        f"{med('selector_median'):.2f} ms | {med('selector_p99'):.2f} ms | "
        f"{med('bare_median'):.2f} ms | {med('bare_p99'):.2f} ms | "
        f"{med('unknown_median'):.2f} ms | {len(runs)} |"
    )


if __name__ == "__main__":
    main()
