"""A testing round at city scale: 10 million samples in 1 million tubes over 20,000 grids,
on PostgreSQL (`--database-url`) or SQLite (no URL: the data directory's database).

Generation (benchmarks/mass_testing_round_data.py, set-based inside the database, indexes
built after the load) writes about 10.5 million residents over 20,000 grids, 10 million
samples in 1 million closed 10-in-1 tubes, a few thousand excusals and one received lab line
per tube (1,000 positive), plus 100 lines for unknown tubes and 50 tubes reported twice with
the other result. The generated database is kept: `--skip-generate` times it again.

Each figure comes from a fresh process, in one transaction rolled back at its end (so every
run starts from the same data); the median of `--runs` is printed. Timed:

- match + detect: `services.results_match` (tube lookup, unknown tubes, conflicts within the
  batch and with recorded results, tube results written, positive pools opened with one
  pending retest per member) and the enqueueing of one hold job per pool, as a lab upload
  does. The holds themselves (a control order and a retest assignment per member) are that
  job's work after the commit: `--hold-pools N` times the job for N pools (not in the total).
- coverage: `services.coverage_refresh` for the round (20,000 grids and the progress rows).

Baseline, in the same run and also from a fresh process: the same three steps as bare SQL
without the platform (UPDATE ... FROM of the lines onto the tubes, the members of the positive
tubes, one GROUP BY of residents LEFT JOIN their samples' tubes).

    .venv/bin/python benchmarks/mass_testing_round.py --data-dir $BENCH/h3/round-pg \
        --database-url postgres://root@127.0.0.1:5432/h3_bench_round --scale 1 --runs 3
    .venv/bin/python benchmarks/mass_testing_round.py --data-dir $BENCH/h3/round-sqlite \
        --scale 1 --runs 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, Target, fangkong, load, machine


def _measure(round_id: int, verify: str = "") -> dict[str, object]:
    """Fresh process: the lab's lines staged, matched, their tubes' results written and
    counted in the coverage, positive pools opened, hold jobs enqueued; then the city's
    coverage read (20,000 grids summed, as the board does). Each timed; rolled back at the
    end. `verify`: also recount the coverage afterwards (untimed) and report what the
    recount had to correct (nothing, when the counters are exact)."""
    import django

    django.setup()
    from django.db import connection, transaction

    from fangkong.core import clock
    from fangkong.core.scope import Scope
    from fangkong.mass_testing import selectors, services
    from fangkong.mass_testing.models import Coverage, PositivePool, Retest, Round, Tube
    from fangkong.mass_testing.services import results as results_module
    from fangkong.mass_testing.services.coverage import count_results
    from fangkong.mass_testing.services.results import STAGE, STAGE_COLUMNS, enqueue_followups

    _rulebook()
    rnd = Round.objects.get(pk=round_id)
    out: dict[str, object] = {}
    spent: list[float] = []

    def timed_count(cur: object, matched: str, source: str) -> None:
        t = time.perf_counter()
        count_results(cur, matched, source)
        spent.append(time.perf_counter() - t)

    vars(results_module)["count_results"] = timed_count  # the counting step timed apart
    with transaction.atomic():
        t = time.perf_counter()
        # What results_stage does with a parsed file's lines (COPY / executemany), here from
        # the table the generator left them in.
        with connection.cursor() as cur:
            cur.execute(f"CREATE TEMP TABLE {STAGE} AS SELECT {STAGE_COLUMNS} FROM bench_lab_in")  # noqa: S608
        stage = time.perf_counter() - t
        t = time.perf_counter()
        pools, singles = services.results_match(
            source="bench", lab="lab", path="/4409/", now=clock.now(), scope=Scope.system()
        )
        enqueue_followups(pools, singles)
        match = time.perf_counter() - t
        t = time.perf_counter()
        total, children, _node = selectors.coverage(scope=Scope.system(), rnd=rnd)
        board = time.perf_counter() - t
        out |= {
            "stage_s": stage,
            "match_detect_s": stage + match - spent[0],
            "counters_s": spent[0],
            "board_s": board,
            "total_s": stage + match + board,
        }
        out |= {"pools": len(pools), "retests": Retest.objects.count(), "grids": len(children)}
        out["open_pools"] = PositivePool.objects.filter(status="open").count()
        agg = Coverage.objects.filter(round=rnd).values_list(
            "due", "sampled", "resulted", "positive", "excused"
        )
        out["sums"] = [sum(x) for x in zip(*agg, strict=True)]
        out["board_total"] = [total.due, total.sampled, total.resulted, total.positive]
        out["tubes_resulted"] = Tube.objects.exclude(result="pending").count()
        with connection.cursor() as cur:
            cur.execute(
                "SELECT outcome, COUNT(*) FROM mass_testing_labreport GROUP BY 1 ORDER BY 1"
            )
            out["outcomes"] = dict(cur.fetchall())
        if verify:
            before = list(agg.order_by("grid_id"))
            t = time.perf_counter()
            services.coverage_refresh(rnd=rnd)
            out["recount_s"] = time.perf_counter() - t
            after = list(agg.order_by("grid_id"))
            out["recount_corrected_grids"] = sum(
                1 for a, b in zip(before, after, strict=True) if a != b
            )
        transaction.set_rollback(True)
    return out


def _rulebook() -> None:
    from fangkong.core.actor import system_actor
    from fangkong.core.errors import Conflict
    from fangkong.policy.editions import edition_text
    from fangkong.policy.selectors import rulebook_in_force
    from fangkong.policy.services import rulebook_publish

    try:
        rulebook_in_force()
    except Conflict:  # the first run publishes the edition (not timed, committed)
        rulebook_publish(
            actor=system_actor("bench"), text=edition_text("ninth-edition-2022"), note="bench"
        )


def _hold(round_id: int, pools: int) -> dict[str, object]:
    """Fresh process: match, then the hold job of `pools` pools (orders, assignments, alert)."""
    import django

    django.setup()
    from django.db import connection, transaction

    from fangkong.core import clock
    from fangkong.core.scope import Scope
    from fangkong.mass_testing import services
    from fangkong.mass_testing.services.results import STAGE, STAGE_COLUMNS

    _rulebook()
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(f"CREATE TEMP TABLE {STAGE} AS SELECT {STAGE_COLUMNS} FROM bench_lab_in")  # noqa: S608
        ids, _singles = services.results_match(
            source="bench", lab="lab", path="/4409/", now=clock.now(), scope=Scope.system()
        )
        t = time.perf_counter()
        held = sum(services.pool_hold(pool_id=pool_id) for pool_id in ids[:pools])
        took = time.perf_counter() - t
        transaction.set_rollback(True)
    return {
        "pools": min(pools, len(ids)),
        "held": held,
        "hold_s": took,
        "per_member_ms": 1000 * took / max(1, held),
    }


def _baseline(round_id: int) -> dict[str, object]:
    """Fresh process: the same three steps as bare SQL, rolled back at the end."""
    import django

    django.setup()
    from django.db import connection, transaction

    from fangkong.mass_testing.services._common import big_statements

    out: dict[str, object] = {}
    with transaction.atomic(), connection.cursor() as cur:
        big_statements(cur)
        t = time.perf_counter()
        cur.execute(
            "UPDATE mass_testing_tube AS t SET result = lr.result, ct_value = lr.ct_value, "
            "result_at = lr.tested_at FROM bench_lab_in lr WHERE lr.barcode = t.barcode"
        )
        out["match_s"] = time.perf_counter() - t
        t = time.perf_counter()
        cur.execute(
            "CREATE TEMP TABLE bl_members AS SELECT s.tube_id, s.person_id FROM mass_testing_tube t "
            "JOIN mass_testing_sample s ON s.tube_id = t.id WHERE t.round_id = %s AND t.result = %s",
            [round_id, "positive"],
        )
        out["detect_s"] = time.perf_counter() - t
        t = time.perf_counter()
        cur.execute(
            "CREATE TEMP TABLE bl_cover AS SELECT p.grid_id, COUNT(*) AS due, COUNT(x.person_id) AS sampled, "
            "SUM(COALESCE(x.back, 0)) AS resulted, SUM(COALESCE(x.pos, 0)) AS positive "
            "FROM people_person p LEFT JOIN (SELECT s.person_id, "
            "MAX(CASE WHEN t.result <> 'pending' THEN 1 ELSE 0 END) AS back, "
            "MAX(CASE WHEN t.result = 'positive' THEN 1 ELSE 0 END) AS pos "
            "FROM mass_testing_sample s JOIN mass_testing_tube t ON t.id = s.tube_id "
            "WHERE s.round_id = %s GROUP BY s.person_id) x ON x.person_id = p.id GROUP BY p.grid_id",
            [round_id],
        )
        out["coverage_s"] = time.perf_counter() - t
        out["total_s"] = out["match_s"] + out["detect_s"] + out["coverage_s"]  # type: ignore[operator]
        cur.execute("SELECT COUNT(*) FROM bl_members")
        out["members"] = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*), SUM(sampled) FROM bl_cover")
        out["grids"], out["sampled"] = cur.fetchone()
        transaction.set_rollback(True)
    return out


def _child(target: Target, what: str, *args: str) -> dict[str, object]:
    out = target.data_dir / f"round-{what}.json"
    code = (
        "import json,sys;sys.path.insert(0,'benchmarks');import mass_testing_round as m;"
        "import mass_testing_round_data as d;"
        f"r={'d.generate' if what == 'generate' else 'm._' + what}({', '.join(args)});"
        f"open({str(out)!r},'w').write(json.dumps(r, default=str))"
    )
    subprocess.run([sys.executable, "-c", code], env=target.env(), cwd=ROOT, check=True)
    data: dict[str, object] = json.loads(out.read_text())
    return data


def _settle(target: Target) -> None:
    """Not timed: PostgreSQL vacuums the rolled-back row versions of the last run, so that
    every run starts from the same tables (autovacuum would, given time)."""
    if target.database_url:
        import psycopg

        with psycopg.connect(target.database_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")


def _median(runs: list[dict[str, object]], key: str) -> float:
    return float(statistics.median(float(r[key]) for r in runs))  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url", default="", help="PostgreSQL; SQLite when empty")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-generate", "--skip-setup", action="store_true")
    parser.add_argument("--hold-pools", type=int, default=0)
    parser.add_argument("--striped", action="store_true", help="every tube mixes ten grids")
    parser.add_argument("--verify", action="store_true", help="recount after the first run")
    args = parser.parse_args()
    target = Target(args.data_dir, args.database_url)
    print(f"# {target.label} · {machine()}", flush=True)
    if not args.skip_generate:
        target.recreate()
        fangkong(target, "migrate", "--verbosity", "0")
        gen = _child(target, "generate", str(args.scale), str(args.striped))
        (args.data_dir / "round.json").write_text(json.dumps(gen))
        print(f"generated: {json.dumps(gen)}  load {load()}", flush=True)
    gen = json.loads((args.data_dir / "round.json").read_text())
    rnd = str(gen["round"])
    runs, bases = [], []
    _settle(target)  # a run stopped earlier may have left row versions behind
    for run in range(args.runs):
        runs.append(_child(target, "measure", rnd, repr("v" if args.verify and not run else "")))
        print(f"run {run + 1}: {json.dumps(runs[-1])}  load {load()}", flush=True)
        _settle(target)
        bases.append(_child(target, "baseline", rnd))
        print(f"baseline {run + 1}: {json.dumps(bases[-1])}  load {load()}", flush=True)
        _settle(target)
    if args.hold_pools:
        hold = _child(target, "hold", rnd, str(args.hold_pools))
        print(f"hold job: {json.dumps(hold)}  load {load()}", flush=True)
    if not runs:
        return
    size = f"{gen['samples_n']:,} samples, {gen['tubes_n']:,} tubes, {gen['grids_n']:,} grids"
    for key in ("stage_s", "match_detect_s", "counters_s", "board_s", "total_s"):
        each = ", ".join(f"{float(str(r[key])):.2f}" for r in runs)
        print(f"  {key}: {_median(runs, key):.2f} s (runs {each})")
    for key in ("match_s", "detect_s", "coverage_s", "total_s"):
        print(f"  baseline {key}: {_median(bases, key):.2f} s")
    total, base = _median(runs, "total_s"), _median(bases, "total_s")
    print(
        f"RESULT {target.label}: {size}: match + detect + coverage median {total:.1f} s; "
        f"bare SQL {base:.1f} s; ratio {total / base:.2f}x; load {load()}"
    )


if __name__ == "__main__":
    main()
