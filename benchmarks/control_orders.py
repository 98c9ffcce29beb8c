"""Control orders at city scale: issue rate through the service, and the reads pages make.

Builds a private database: `fangkong simulate city --population N`, the ninth edition
published, then `--issue` orders issued one by one through `control.services.order_issue`
(the real path: plan, supersession, tests, assignment, audit; timed as orders per second),
then `--orders` more active orders with their scheduled tests inserted in bulk (the steady
state of tens of thousands of people under control). Each measuring run is a fresh process
that times, over random persons and districts:

- order_list, first page of active orders, city scope and one district's scope;
- health_code of a person (under control or not);
- tests_due of one district today;
- change_requests_pending of the city.

Figures are medians over runs of each run's median and p99, in milliseconds.

    .venv/bin/python benchmarks/control_orders.py --data-dir /tmp/fk-ctl-bench \
        [--database-url postgres://root@127.0.0.1:5432/fk_ctl_bench] [--population 200000] \
        [--orders 50000] [--issue 500] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, Target, fangkong, load, machine, timed_child


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def setup_child(issue: int, bulk: int, seed: int) -> dict[str, Any]:
    """Publish the rulebook, issue `issue` orders through the service, insert `bulk` more."""
    import datetime as dt
    import random

    import django

    django.setup()
    from django.db import transaction

    from fangkong.control import rules, services
    from fangkong.control.models import ControlOrder, ScheduledTest
    from fangkong.core import clock
    from fangkong.core.actor import system_actor
    from fangkong.people.models import Person
    from fangkong.policy.editions import edition_text
    from fangkong.policy.rules import plan_for
    from fangkong.policy.schema import Category
    from fangkong.policy.selectors import rulebook_in_force
    from fangkong.policy.services import rulebook_publish

    actor = system_actor("benchmark")
    rulebook_publish(actor=actor, text=edition_text("ninth-edition-2022"), note="benchmark")
    rng = random.Random(seed)
    ids = list(Person.objects.order_by("pk").values_list("pk", flat=True))
    chosen = rng.sample(ids, min(len(ids), issue + bulk))
    today = clock.local_date()
    categories = [
        Category.CLOSE_CONTACT,
        Category.SECONDARY_CONTACT,
        Category.COPRESENCE_CONTACT,
        Category.ARRIVAL_MEDIUM_RISK,
    ]

    started = time.monotonic()
    for i, pid in enumerate(chosen[:issue]):
        person = Person.objects.select_related("grid").get(pk=pid)
        services.order_issue(
            actor=actor,
            person=person,
            category=categories[i % len(categories)],
            anchor=today - dt.timedelta(days=i % 3),
            basis_type="contact",
            basis_id=f"bench-{pid}",
            reason="benchmark",
        )
    issue_seconds = time.monotonic() - started

    in_force = rulebook_in_force()
    now = clock.now()
    rest = chosen[issue:]
    paths = dict(Person.objects.filter(pk__in=rest).values_list("pk", "jurisdiction_path"))
    for start in range(0, len(rest), 2000):
        batch = rest[start : start + 2000]
        orders = []
        for i, pid in enumerate(batch):
            category = categories[i % len(categories)]
            plan = plan_for(in_force.book, category, anchor=today - dt.timedelta(days=i % 3))
            orders.append(
                ControlOrder(
                    person_id=pid,
                    jurisdiction_path=paths[pid],
                    category=category.value,
                    measure=plan.measure.value,
                    phases=rules.phases_to_json(plan),
                    basis_type="contact",
                    basis_id=f"bench-{pid}",
                    policy_version=in_force.version,
                    edition=plan.edition,
                    anchor_date=today - dt.timedelta(days=i % 3),
                    start_date=plan.phases[0].first_day,
                    release_on=plan.release_on,
                    place_kind=rules.place_kind(plan.measure),
                    status="in_effect",
                    reason="benchmark",
                    created_by="benchmark",
                    created_at=now,
                    updated_at=now,
                )
            )
        with transaction.atomic():
            ControlOrder.objects.bulk_create(orders)
            ScheduledTest.objects.bulk_create(
                [
                    ScheduledTest(order=o, jurisdiction_path=o.jurisdiction_path, due_on=d)
                    for o in orders
                    for d in sorted(
                        {d for p in rules.phases_from_json(o.phases) for d in p.test_dates}
                    )
                ]
            )
    return {
        "issued": issue,
        "issue_seconds": issue_seconds,
        "bulk": len(rest),
        "orders": ControlOrder.objects.count(),
        "tests": ScheduledTest.objects.count(),
    }


def measure_child(samples: int, seed: int) -> dict[str, Any]:
    import random

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fangkong.control import selectors
    from fangkong.control.models import ControlOrder
    from fangkong.core import clock
    from fangkong.core.scope import Scope
    from fangkong.jurisdictions.models import Jurisdiction, Level
    from fangkong.people.models import Person

    rng = random.Random(seed)
    city = Scope.system()
    districts = [
        Scope(paths=(p,), perms=city.perms)
        for p in Jurisdiction.objects.filter(level=Level.DISTRICT).values_list("path", flat=True)
    ]
    controlled = list(
        Person.objects.filter(pk__in=ControlOrder.objects.values("person_id")[:5000]).values_list(
            "pk", flat=True
        )
    )
    anyone = list(Person.objects.values_list("pk", flat=True)[:50000])
    today = clock.local_date()

    cases: dict[str, Callable[[], object]] = {
        "order_list city": lambda: selectors.order_list(scope=city, status="active"),
        "order_list district": lambda: selectors.order_list(
            scope=rng.choice(districts), status="active"
        ),
        "health_code controlled": lambda: selectors.health_code(
            scope=city, person_id=rng.choice(controlled)
        ),
        "health_code anyone": lambda: selectors.health_code(
            scope=city, person_id=rng.choice(anyone)
        ),
        "tests_due district": lambda: selectors.tests_due(scope=rng.choice(districts), day=today),
        "change_requests_pending city": lambda: selectors.change_requests_pending(scope=city),
    }
    out: dict[str, Any] = {}
    for name, call in cases.items():
        call()  # warm
        times = []
        with CaptureQueriesContext(connection) as ctx:
            for _ in range(samples):
                started = time.perf_counter()
                call()
                times.append((time.perf_counter() - started) * 1000)
        out[name] = {
            "median": statistics.median(times),
            "p99": _percentile(times, 0.99),
            "queries": len(ctx) / samples,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench-control")
    parser.add_argument("--database-url", default="", help="PostgreSQL; SQLite when omitted")
    parser.add_argument("--population", type=int, default=200_000)
    parser.add_argument("--orders", type=int, default=50_000, help="bulk-inserted orders")
    parser.add_argument("--issue", type=int, default=500, help="orders issued via the service")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--child", choices=["setup", "measure"], help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child == "setup":
        print(json.dumps(setup_child(args.issue, args.orders, args.seed)))
        return
    if args.child == "measure":
        print(json.dumps(measure_child(args.samples, args.seed)))
        return

    target = Target(data_dir=args.data_dir, database_url=args.database_url)
    print(f"machine: {machine()}")
    print(f"database: {target.label}, population {args.population:,}")
    target.recreate()
    fangkong(target, "migrate", "-v0")
    fangkong(target, "simulate", "city", "--population", str(args.population), "--json")
    me = [sys.executable, str(Path(__file__).resolve())]
    passthrough = ["--issue", str(args.issue), "--orders", str(args.orders)]
    _, _, out = timed_child([*me, *passthrough, "--child", "setup"], target.env())
    setup = json.loads(out.strip().splitlines()[-1])
    rate = setup["issued"] / setup["issue_seconds"]
    print(
        f"setup: {setup['issued']} orders issued through order_issue at {rate:,.0f}/s; "
        f"{setup['bulk']:,} more inserted; {setup['orders']:,} orders, "
        f"{setup['tests']:,} scheduled tests"
    )
    runs = []
    for run in range(1, args.runs + 1):
        _, peak, out = timed_child(
            [*me, "--samples", str(args.samples), "--child", "measure"], target.env()
        )
        figures = json.loads(out.strip().splitlines()[-1])
        runs.append(figures)
        print(f"run {run}: peak RSS {peak} MiB, load {load()}", flush=True)
    print("| case | median ms | p99 ms | queries/call |")
    print("| --- | --- | --- | --- |")
    for name in runs[0]:
        median = statistics.median(r[name]["median"] for r in runs)
        p99 = statistics.median(r[name]["p99"] for r in runs)
        queries = runs[0][name]["queries"]
        print(f"| {name} | {median:.2f} | {p99:.2f} | {queries:.1f} |")


if __name__ == "__main__":
    main()
