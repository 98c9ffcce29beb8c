"""The hold job of a positive pool (`mass_testing.services.pool_hold`): a control order and a
single-tube retest duty per member, the command office's alert, the audit rows.

Setup (not timed): a demo city (`fangkong simulate city`), the ninth edition in force, a round
over every district and `--pools` closed tubes of `--members` residents each (consecutive
residents of the registry, as a sampling site fills a tube), every tube reported positive:
`--pools` open positive pools with one pending retest per member, as a lab upload leaves them.

Each run is a fresh process, in one transaction rolled back at its end (every run starts from
the same data): the hold of a first pool (`cold`: the process's first rulebook parse, first
statements) and then of a second one (`warm`, what a running job worker pays). Then one more
process counts the statements of a warm hold (CaptureQueriesContext, not timed), and with
`--profile` one prints the cProfile of a warm hold.

    .venv/bin/python benchmarks/mass_testing_hold.py --data-dir $BENCH/hold/sqlite --runs 5
    .venv/bin/python benchmarks/mass_testing_hold.py --data-dir $BENCH/hold/pg \
        --database-url postgres://root@127.0.0.1:5432/hold_bench --runs 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, Target, fangkong, load, machine


def _setup(pools: int, members: int) -> dict[str, object]:
    """The round, the tubes and their positive results; returns the open pools' ids."""
    import datetime as dt

    import django

    django.setup()
    from fangkong.core import clock
    from fangkong.core.actor import system_actor
    from fangkong.core.errors import Conflict
    from fangkong.jurisdictions.models import Jurisdiction, Level
    from fangkong.mass_testing import services
    from fangkong.mass_testing.models import PositivePool
    from fangkong.people.models import Person
    from fangkong.policy.editions import edition_text
    from fangkong.policy.selectors import rulebook_in_force
    from fangkong.policy.services import rulebook_publish

    actor = system_actor("bench")
    try:
        rulebook_in_force()
    except Conflict:
        rulebook_publish(
            actor=actor,
            text=edition_text("ninth-edition-2022"),
            note="bench",
            effective_from=clock.now() - dt.timedelta(days=30),
        )
    now = clock.now()
    districts = list(Jurisdiction.objects.filter(level=Level.DISTRICT).order_by("code"))
    rnd = services.round_create(
        actor=actor,
        name="bench: pool hold",
        areas=[(d, "general") for d in districts],
        starts_at=now - dt.timedelta(hours=3),
    )
    people = list(
        Person.objects.filter(merged_into__isnull=True, grid__isnull=False)
        .order_by("jurisdiction_path", "pk")
        .values_list("pk", flat=True)
    )
    # Tubes spread over the registry: pool k takes `members` consecutive residents.
    step = max(members, len(people) // max(1, pools))
    scans = []
    for k in range(pools):
        for i, pk in enumerate(people[k * step : k * step + members]):
            scans.append(
                services.ScanIn(
                    client_id=f"hold-{k}-{i}",
                    barcode=f"HOLD{k:06d}",
                    sampled_at=now - dt.timedelta(hours=2),
                    person_id=pk,
                    close_tube=i == members - 1,
                )
            )
    services.scans_ingest(actor=actor, rnd=rnd, scans=scans, batch_id="hold-bench")
    tested = now - dt.timedelta(minutes=30)
    services.results_submit(
        actor=actor,
        lab="bench",
        batch_id="hold-bench",
        results=[services.ResultIn(f"HOLD{k:06d}", "positive", tested, None) for k in range(pools)],
    )
    ids = list(PositivePool.objects.filter(round=rnd).order_by("pk").values_list("pk", flat=True))
    return {"round": rnd.pk, "pools": ids, "members": members}


def _hold(cold: int, warm: int) -> dict[str, object]:
    """Fresh process: the hold of pool `cold`, then of pool `warm`; rolled back at the end."""
    import django

    django.setup()
    from django.db import transaction

    from fangkong.mass_testing import services

    with transaction.atomic():
        t = time.perf_counter()
        held_cold = services.pool_hold(pool_id=cold)
        cold_s = time.perf_counter() - t
        t = time.perf_counter()
        held = services.pool_hold(pool_id=warm)
        warm_s = time.perf_counter() - t
        t = time.perf_counter()
        again = services.pool_hold(pool_id=warm)  # the job run twice: nobody held again
        again_s = time.perf_counter() - t
        transaction.set_rollback(True)
    return {
        "held_cold": held_cold,
        "cold_ms": 1000 * cold_s,
        "held": held,
        "warm_ms": 1000 * warm_s,
        "per_member_ms": 1000 * warm_s / max(1, held),
        "again_held": again,
        "again_ms": 1000 * again_s,
    }


def _queries(cold: int, warm: int) -> dict[str, object]:
    """Fresh process: the statements of a warm hold, by kind and table (not timed)."""
    import re
    from collections import Counter

    import django

    django.setup()
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from fangkong.mass_testing import services

    with transaction.atomic():
        services.pool_hold(pool_id=cold)
        with CaptureQueriesContext(connection) as ctx:
            held = services.pool_hold(pool_id=warm)
        transaction.set_rollback(True)
    kinds: Counter[str] = Counter()
    for q in ctx.captured_queries:
        sql = q["sql"].lstrip()
        verb = sql.split(None, 1)[0].upper()
        m = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql, re.IGNORECASE)
        kinds[f"{verb} {m.group(1) if m else ''}".strip()] += 1
    return {"held": held, "statements": len(ctx.captured_queries), "by_kind": dict(kinds)}


def _profile(cold: int, warm: int) -> dict[str, object]:
    """Fresh process: cProfile of a warm hold; the top functions by cumulative time."""
    import cProfile
    import io
    import pstats

    import django

    django.setup()
    from django.db import transaction

    from fangkong.mass_testing import services

    prof = cProfile.Profile()
    with transaction.atomic():
        services.pool_hold(pool_id=cold)
        prof.enable()
        services.pool_hold(pool_id=warm)
        prof.disable()
        transaction.set_rollback(True)
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(40)
    return {"profile": text.getvalue()}


def _child(target: Target, what: str, *args: str) -> dict[str, Any]:
    out = target.data_dir / f"hold-{what}.json"
    code = (
        "import json,sys;sys.path.insert(0,'benchmarks');import mass_testing_hold as m;"
        f"r=m._{what}({', '.join(args)});"
        f"open({str(out)!r},'w').write(json.dumps(r, default=str))"
    )
    subprocess.run([sys.executable, "-c", code], env=target.env(), cwd=ROOT, check=True)
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url", default="", help="PostgreSQL; SQLite when empty")
    parser.add_argument("--population", type=int, default=100_000)
    parser.add_argument("--pools", type=int, default=4)
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-setup", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    target = Target(args.data_dir, args.database_url)
    print(f"# {target.label} · {machine()}", flush=True)
    setup_file = args.data_dir / "hold.json"
    if not args.skip_setup:
        target.recreate()
        fangkong(target, "migrate", "--verbosity", "0")
        fangkong(target, "simulate", "city", "--population", str(args.population))
        setup_file.write_text(
            json.dumps(_child(target, "setup", str(args.pools), str(args.members)))
        )
    setup = json.loads(setup_file.read_text())
    cold, warm = (str(p) for p in setup["pools"][:2])
    runs = []
    for run in range(args.runs):
        runs.append(_child(target, "hold", cold, warm))
        print(f"run {run + 1}: {json.dumps(runs[-1])}  load {load()}", flush=True)
    counted = _child(target, "queries", cold, warm)
    print(f"statements of a warm hold: {json.dumps(counted)}", flush=True)
    if args.profile:
        print(_child(target, "profile", cold, warm)["profile"], flush=True)
    if not runs:
        return
    med = {k: statistics.median(float(r[k]) for r in runs) for k in runs[0] if k.endswith("ms")}
    each = ", ".join(f"{float(r['warm_ms']):.0f}" for r in runs)
    print(
        f"RESULT {target.label}: pool of {setup['members']}: warm hold median "
        f"{med['warm_ms']:.0f} ms (runs {each}), {med['per_member_ms']:.1f} ms/member; "
        f"cold {med['cold_ms']:.0f} ms; again {med['again_ms']:.0f} ms; "
        f"{counted['statements']} statements; load {load()}"
    )


if __name__ == "__main__":
    main()
