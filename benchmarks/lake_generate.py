"""Generate a synthetic event lake for the co-presence benchmarks (not the repository: /tmp).

14 city days of a city of `--persons` persons scanning `--venues` venues, 2 or 3 scans per
person per day (about 2.5 x persons x days check-ins), written as compacted day partitions
(bucketed files in (venue, ts) and (person, ts) order) through `Lake.write_day`.

    .venv/bin/python benchmarks/lake_generate.py --root /tmp/h2/bench/lake280m \
        --persons 8000000 --venues 40000 --days 14
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import datetime as dt

import numpy as np

from fangkong.lake.generate import checkin_days
from fangkong.lake.layout import CHECKINS, Lake, day_of_date


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--persons", type=int, default=8_000_000)
    parser.add_argument("--venues", type=int, default=40_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--first-day", default="2026-11-01")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    lake = Lake(args.root)
    first = day_of_date(dt.date.fromisoformat(args.first_day))
    started = time.monotonic()
    total = 0
    for day, table in checkin_days(
        person_ids=np.arange(1, args.persons + 1, dtype=np.int64),
        venue_ids=np.arange(1, args.venues + 1, dtype=np.int64),
        first_day=first,
        days=args.days,
        seed=args.seed,
    ):
        if lake.day_files(CHECKINS, day) is not None:
            print(f"day {day}: exists, kept", flush=True)
            continue
        t0 = time.monotonic()
        total += lake.write_day(CHECKINS, day, table)
        print(f"day {day}: {table.num_rows:,} rows in {time.monotonic() - t0:.1f}s", flush=True)
        del table
    size = sum(p.stat().st_size for p in (args.root / "checkins").rglob("*.parquet"))
    print(
        json.dumps(
            {
                "rows": total,
                "days": args.days,
                "persons": args.persons,
                "venues": args.venues,
                "bytes": size,
                "seconds": round(time.monotonic() - started, 1),
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
