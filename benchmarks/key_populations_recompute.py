"""The key-population recompute over 200,000 members, against a per-row Python baseline.

Setup (not timed): a city with 10 districts of 2 towns and 10 grids each, 400 employers,
200,000 persons (bulk insert, encrypted fields written as usual) and as many members of all
six groups with last test days spread over the 10 days before a fixed day; ninth-edition
rulebook; ANALYZE. No mass-testing samples exist, so the results step costs what reading an
empty window costs (40 queries of 5,000 ids).

Timed, each in a fresh process, median of --runs:

- `full`: every member's stored due day and status reset to a wrong value, then
  `keypop_recompute` (grid work off, to time the recompute itself): every row is rewritten;
- `steady`: the same recompute again on the same day: nothing changes (idempotence cost);
- `baseline`: the same reset, then the per-row way: load every active member, compute
  next due and status with `rules` in Python, bulk_update the rows (batch 1,000).

    .venv/bin/python benchmarks/key_populations_recompute.py --data-dir /tmp/fk-kp-bench \
        [--database-url postgres://root@127.0.0.1:5432/fk_kp_bench] [--members 200000] [--runs 3]
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

from _common import Target, fangkong, load, machine, timed_child

DAY = dt.date(2022, 1, 20)
EMPLOYERS = 400


def _setup_django(target: Target) -> None:
    os.environ.update(target.env())
    import django

    django.setup()


def _tree() -> tuple[list[Any], list[Any]]:
    """10 districts of 2 towns, each town one village, one group and 5 grids."""
    from fangkong.jurisdictions.models import Jurisdiction

    city = Jurisdiction.objects.create(code="4409", name="City", level=1, path="/4409/")
    grids: list[Jurisdiction] = []
    towns: list[Jurisdiction] = []
    for d in range(1, 11):
        dc = f"4409{d:02d}"
        dist = Jurisdiction.objects.create(
            code=dc, name=f"D{d}", level=2, parent=city, path=f"{city.path}{dc}/"
        )
        for t in range(1, 3):
            tc = f"{dc}{t:03d}"
            town = Jurisdiction.objects.create(
                code=tc, name=f"T{tc}", level=3, parent=dist, path=f"{dist.path}{tc}/"
            )
            towns.append(town)
            vc, gc = f"{tc}001", f"{tc}001001"
            village = Jurisdiction.objects.create(
                code=vc, name="V", level=4, parent=town, path=f"{town.path}{vc}/"
            )
            group = Jurisdiction.objects.create(
                code=gc, name="G", level=5, parent=village, path=f"{village.path}{gc}/"
            )
            for g in range(1, 6):
                code = f"{gc}{g:03d}"
                grids.append(
                    Jurisdiction.objects.create(
                        code=code, name="Grid", level=6, parent=group, path=f"{group.path}{code}/"
                    )
                )
    return grids, towns


def _number(n: int) -> str:
    from fangkong.core.idnumbers import check_char

    birth = dt.date(1950, 1, 1) + dt.timedelta(days=n // 1000)
    body = f"440902{birth:%Y%m%d}{n % 1000:03d}"
    return body + check_char(body)


def build(members: int) -> None:
    from django.db import connection

    from fangkong.control.tests.factories import rulebook
    from fangkong.core import clock
    from fangkong.core.actor import system_actor
    from fangkong.key_populations.models import Employer, Member
    from fangkong.key_populations.services import credit_check_char
    from fangkong.people import protect
    from fangkong.people.models import Person
    from fangkong.policy.sections.key_populations import GroupKind

    system = system_actor("bench")
    rulebook(system)
    now = clock.now()
    grids, towns = _tree()
    kinds = list(GroupKind)
    employers = []
    for i in range(EMPLOYERS):
        body = f"91440902MA{i:07d}"
        town = towns[i % len(towns)]
        employers.append(
            Employer(
                name=f"Employer {i}",
                credit_code=body + credit_check_char(body),
                group_kind=kinds[i % len(kinds)].value,
                jurisdiction=town,
                jurisdiction_path=town.path,
                created_at=now,
                updated_at=now,
            )
        )
    Employer.objects.bulk_create(employers)
    employers = list(Employer.objects.order_by("pk"))
    rng = random.Random(7)
    batch = 5000
    for start in range(0, members, batch):
        persons = []
        for n in range(start, min(start + batch, members)):
            grid = grids[n % len(grids)]
            number = _number(n)
            persons.append(
                Person(
                    doc_type="resident_id",
                    doc_number=number,
                    doc_bidx=protect.doc_index(number),
                    name="职工",
                    name_bidx=protect.name_index("职工"),
                    grid=grid,
                    jurisdiction_path=grid.path,
                    created_at=now,
                    updated_at=now,
                )
            )
        made = Person.objects.bulk_create(persons)
        rows = []
        for p in made:
            emp = employers[rng.randrange(len(employers))]
            last = DAY - dt.timedelta(days=rng.randrange(1, 11)) if rng.random() > 0.05 else None
            rows.append(
                Member(
                    employer=emp,
                    person=p,
                    group_kind=kinds[rng.randrange(len(kinds))].value,
                    jurisdiction_path=emp.jurisdiction_path,
                    joined_on=DAY - dt.timedelta(days=30),
                    last_tested_on=last,
                    next_due_on=DAY,
                    status="due",
                    created_at=now,
                    updated_at=now,
                )
            )
        Member.objects.bulk_create(rows)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")


def _reset() -> None:
    from django.db import connection

    from fangkong.key_populations.models import Member

    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {Member._meta.db_table} SET next_due_on = %s, status = %s",  # noqa: S608
            [connection.ops.adapt_datefield_value(dt.date(2000, 1, 1)), "ok"],
        )


def _without_grid_work() -> None:
    """Publish a copy of the rulebook in force with grid_work off (the recompute alone)."""
    from fangkong.core.actor import system_actor
    from fangkong.policy.editions import edition_text
    from fangkong.policy.services import rulebook_publish

    text = edition_text("ninth-edition-2022").replace("grid_work: true", "grid_work: false")
    rulebook_publish(
        actor=system_actor("bench"),
        text=text,
        note="bench: no grid work",
        effective_from=dt.datetime(2021, 1, 1, tzinfo=dt.UTC),
    )


def child(mode: str) -> None:
    from fangkong.core import clock
    from fangkong.core.actor import system_actor
    from fangkong.key_populations import rules
    from fangkong.key_populations.models import Member
    from fangkong.key_populations.recompute import keypop_recompute
    from fangkong.policy.selectors import rulebook_in_force

    at = clock.local_midnight(DAY) + dt.timedelta(hours=9)
    with clock.frozen(at):
        if mode == "reset":
            _reset()
            print(json.dumps({}))
            return
        started = time.monotonic()
        if mode in ("full", "steady"):
            result = keypop_recompute(actor=system_actor("bench"), today=DAY)
            out: dict[str, float] = {
                "status_changed": result.status_changed,
                "due_changed": result.due_changed,
            }
        else:
            section = rulebook_in_force().book.key_populations
            changed = []
            for m in (
                Member.objects.filter(active=True)
                .only("pk", "group_kind", "joined_on", "last_tested_on", "next_due_on", "status")
                .iterator(chunk_size=5000)
            ):
                due = rules.next_due(
                    joined_on=m.joined_on,
                    last_tested_on=m.last_tested_on,
                    interval=rules.interval_days(section, m.group_kind),
                )
                status = rules.status_on(due_on=due, today=DAY, grace_days=section.grace_days)
                if (due, status) != (m.next_due_on, m.status):
                    m.next_due_on, m.status = due, status
                    changed.append(m)
            Member.objects.bulk_update(changed, ["next_due_on", "status"], batch_size=1000)
            out = {"status_changed": len(changed)}
        out["seconds"] = time.monotonic() - started
        print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", default="")
    args = parser.parse_args()
    target = Target(args.data_dir, args.database_url)
    if args.child:
        _setup_django(target)
        if args.child == "build":
            build(args.members)
            _without_grid_work()
        else:
            child(args.child)
        return
    print(f"machine: {machine()}")
    print(f"database: {target.label}, members: {args.members:,}")
    target.recreate()
    fangkong(target, "migrate", "--verbosity", "0")
    started = time.monotonic()
    me = [sys.executable, __file__, "--data-dir", str(args.data_dir)]
    if args.database_url:
        me += ["--database-url", args.database_url]
    timed_child([*me, "--members", str(args.members), "--child", "build"], target.env())
    print(f"setup: {time.monotonic() - started:.0f} s")
    figures: dict[str, list[float]] = {"full": [], "steady": [], "baseline": []}
    for _ in range(args.runs):
        for mode in ("full", "steady", "baseline"):
            if mode != "steady":
                timed_child([*me, "--child", "reset"], target.env())
            _, rss, out = timed_child([*me, "--child", mode], target.env())
            result = json.loads(out.strip().splitlines()[-1])
            figures[mode].append(result["seconds"])
            print(f"  {mode}: {result['seconds']:.2f} s, peak {rss} MiB, {result}")
    med = {k: statistics.median(v) for k, v in figures.items()}
    print(
        f"median full recompute {med['full']:.2f} s "
        f"({args.members / med['full']:,.0f} members/s), steady {med['steady']:.2f} s, "
        f"per-row Python baseline {med['baseline']:.2f} s: "
        f"{med['baseline'] / med['full']:.1f}x the set-based time; load at end {load()}"
    )


if __name__ == "__main__":
    main()
