"""Sentinel reporting at city scale: 5,000 units filing daily.

Builds a private database with a jurisdiction tree of 5,000 grids (10 districts x 10 towns x
50 grids), one reporting unit per grid, one day of registrations (about 4 per unit and day,
bulk-inserted with their daily reports, 5% of the units silent) and 12 days of series history
(bulk-inserted). Then, each figure from a fresh process, median of --repeat runs:

- aggregate: `series.series_refresh` of the day (GROUP BY in the database), against the
  baseline of counting unit by unit and stream by stream from Python (one query each), in
  the same run;
- missing: the missing-reports page query and the filed/zero/missing figures for the city;
- detect: the detection run of the ninth edition over every series that could alarm;
- batch: one 500-record point-of-sale batch through `registrations_submit` (checks, the 48 h
  lookup, flags, follow-up assignments, daily report, audit), records per second.

    .venv/bin/python benchmarks/sentinel_reporting.py --data-dir /tmp/h6/bench-sqlite
    .venv/bin/python benchmarks/sentinel_reporting.py --data-dir /tmp/h6/bench-pg \
        --database-url postgres://root@127.0.0.1:5432/h6_bench
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Target, fangkong, load, machine, timed_child

DISTRICTS, TOWNS, GRIDS = 10, 10, 50  # 5,000 grids, one unit each
HISTORY = 12  # enough for EARS C2/C3 (7 baseline days after a 2-day lag)
NAIVE_UNITS = 1000  # the baseline counts these units and is scaled to all 5,000


def _setup() -> None:
    import datetime as dt
    import random

    import django

    django.setup()
    from fangkong.core import clock
    from fangkong.core.actor import system_actor
    from fangkong.jurisdictions.models import Jurisdiction, Level
    from fangkong.people import protect
    from fangkong.policy.editions import edition_text
    from fangkong.policy.services import rulebook_publish
    from fangkong.sentinel.models import DailyReport, Registration, SeriesCount, Unit

    rng = random.Random(7)
    rulebook_publish(
        actor=system_actor("bench"), text=edition_text("ninth-edition-2022"), note="bench"
    )
    city = Jurisdiction.objects.create(code="4409", name="市", level=Level.CITY, path="/4409/")

    def level(parents: list[Jurisdiction], n: int, lvl: int, width: int) -> list[Jurisdiction]:
        rows = [
            Jurisdiction(
                code=f"{p.code}{i:0{width}d}", name=f"{p.name}{i}", level=lvl, parent=p,
                path=f"{p.path}{p.code}{i:0{width}d}/",
            )
            for p in parents
            for i in range(1, n + 1)
        ]  # fmt: skip
        return Jurisdiction.objects.bulk_create(rows, batch_size=2000)

    districts = level([city], DISTRICTS, Level.DISTRICT, 2)
    towns = level(districts, TOWNS, Level.TOWN, 3)
    villages = level(towns, 1, Level.VILLAGE, 3)
    groups = level(villages, 1, Level.GROUP, 3)
    grids = level(groups, GRIDS, Level.GRID, 3)
    now = clock.now()
    units = Unit.objects.bulk_create(
        [
            Unit(
                code=f"U{i:05d}", name=f"药店{i}", kind="pharmacy", jurisdiction=g,
                jurisdiction_path=g.path, town_code=g.path.split("/")[3],
                district_code=g.path.split("/")[2], created_at=now,
            )
            for i, g in enumerate(grids)
        ],
        batch_size=2000,
    )  # fmt: skip
    today = clock.local_date()
    day = today - dt.timedelta(days=1)
    at = clock.local_midnight(day) + dt.timedelta(hours=10)
    doc = "440902199001010011"
    bidx, pidx = protect.doc_index(doc), protect.phone_index("13800138000")
    classes = ("antipyretic", "cough", "antiviral", "antibiotic")
    regs, reports = [], []
    for u in units:
        if rng.random() < 0.05:
            continue  # silent: a missing report
        n = rng.randint(0, 8)
        for j in range(n):
            c = classes[j % 4]
            regs.append(
                Registration(
                    unit=u, jurisdiction_path=u.jurisdiction_path, kind="purchase", stream=c,
                    source="api", client_id=f"b{u.pk}-{j}", occurred_at=at, day=day,
                    doc_type="resident_id", doc_number=doc, doc_bidx=bidx, name="张三",
                    phone="13800138000", phone_bidx=pidx, drug_class=c,
                    test_status="recent_negative", reported_by="bench", created_at=now,
                )
            )  # fmt: skip
        reports.append(
            DailyReport(
                unit=u, jurisdiction_path=u.jurisdiction_path, day=day, records=n, zero=n == 0,
                first_at=now, last_at=now, filed_by="bench",
            )
        )  # fmt: skip
    Registration.objects.bulk_create(regs, batch_size=5000)
    DailyReport.objects.bulk_create(reports, batch_size=5000)
    history = []
    for d in range(2, HISTORY + 2):
        past = today - dt.timedelta(days=d)
        for u in units:
            for c in classes[:2]:
                history.append(
                    SeriesCount(
                        level="unit", ref=u.code, jurisdiction_path=u.jurisdiction_path,
                        stream=c, day=past, count=rng.randint(0, 3),
                    )
                )  # fmt: skip
    SeriesCount.objects.bulk_create(history, batch_size=10000)
    DailyReport.objects.bulk_create(
        [
            DailyReport(
                unit=u, jurisdiction_path=u.jurisdiction_path, day=today - dt.timedelta(days=d),
                records=1, first_at=now, last_at=now, filed_by="bench",
            )
            for d in range(2, HISTORY + 2)
            for u in units
        ],
        batch_size=10000,
    )  # fmt: skip
    print(f"{len(units)} units, {len(regs)} registrations, {len(history)} history rows")


def _child(task: str) -> None:
    import datetime as dt

    import django

    django.setup()
    from django.db.models import Count

    from fangkong.core import clock
    from fangkong.core.actor import system_actor
    from fangkong.core.scope import Scope
    from fangkong.people.tests.factories import resident_id
    from fangkong.sentinel import selectors, services
    from fangkong.sentinel.models import Registration, Unit
    from fangkong.sentinel.series import series_refresh
    from fangkong.sentinel.watch import detection_run

    day = clock.local_date() - dt.timedelta(days=1)
    started = time.perf_counter()
    if task == "aggregate":
        rows = series_refresh(days=[day])
        extra = f"{rows} series rows"
    elif task == "naive":
        rows = 0
        units = Unit.objects.values_list("pk", flat=True).order_by("pk")[:NAIVE_UNITS]
        for unit_id in units:
            for stream in (
                "antipyretic",
                "cough",
                "antiviral",
                "antibiotic",
                "visit",
                "fever_visit",
            ):
                rows += (
                    Registration.objects.filter(unit_id=unit_id, day=day, stream=stream).aggregate(
                        n=Count("id")
                    )["n"]
                    > 0
                )
        extra = f"{rows} unit series of {NAIVE_UNITS} units (unit level only)"
    elif task == "missing":
        scope = Scope.system()
        page = selectors.missing_reports(scope=scope, day=day)
        figures = selectors.report_figures(scope=scope, day=day)
        extra = f"first page {len(page.items)}, {figures.missing} missing of {figures.units}"
    elif task == "detect":
        summary = detection_run(day=day)
        extra = summary.line()
    elif task == "batch":
        unit = Unit.objects.order_by("pk").first()
        assert unit is not None
        items = [
            {"client_id": f"pos-{time.time_ns()}-{i}", "doc_number": resident_id(seq=i % 1000),
             "name": "李四", "phone": "13900139000", "drug_class": "antipyretic", "fever": i % 3 == 0}
            for i in range(500)
        ]  # fmt: skip
        result = services.registrations_submit(
            actor=system_actor("bench"), unit=unit, items=items, source="api"
        )
        extra = f"{result.count('accepted')} accepted"
    else:
        raise SystemExit(f"unknown task {task}")
    print(f"{time.perf_counter() - started:.3f} {extra}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", default="")
    args = parser.parse_args()
    if args.child == "setup":
        _setup()
        return
    if args.child:
        _child(args.child)
        return
    target = Target(args.data_dir, args.database_url)
    print(f"# machine: {machine()}")
    print(f"# target: {target.label}")
    target.recreate()
    fangkong(target, "migrate", "--verbosity", "0")
    setup_s, _, out = timed_child(
        [sys.executable, __file__, "--data-dir", str(args.data_dir), "--child", "setup"],
        target.env(),
    )
    print(f"setup: {out.strip()} in {setup_s:.1f} s")
    for task in ("aggregate", "naive", "missing", "detect", "batch"):
        runs = []
        note = ""
        for _ in range(1 if task == "naive" else args.repeat):
            _, rss, out = timed_child(
                [sys.executable, __file__, "--data-dir", str(args.data_dir), "--child", task],
                target.env(),
            )
            seconds, _, note = out.strip().partition(" ")
            runs.append(float(seconds) * (5000 / NAIVE_UNITS if task == "naive" else 1))
        median = statistics.median(runs)
        print(
            f"{task}: median {median:.3f} s of {len(runs)} ({', '.join(f'{r:.3f}' for r in runs)}); peak RSS {rss} MiB; {note}"
        )
    print(f"# load average at the end: {load()}")


if __name__ == "__main__":
    main()
