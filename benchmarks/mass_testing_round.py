"""A testing round at city scale: 10 million samples in 1 million tubes over 20,000 grids.

Generates the round set-based in SQL into a private PostgreSQL database (never the test
one): the jurisdiction tree (20 districts, 200 towns, 2,000 villages, 20,000 grids), about
10.5 million residents (5 % not sampled), 10 million samples in 1 million 10-in-1 tubes, a
few thousand excusals, and one lab result per tube staged as received LabReport lines
(1,000 positive, 100 for unknown tubes, 50 tubes reported twice with different results).
Then, each in a fresh process, times the end-to-end work of the round's evening:

- result matching: `services.results_match` (set-based: tube lookup, unknown tubes, conflicts
  within the batch and with recorded results, tube results written);
- positive-pool detection: part of the same call (pools and one pending retest per member);
- coverage for 20,000 grids: `services.coverage_refresh` (due, sampled, results back,
  positive, excused per grid, and the hourly progress rows).

`--scale 0.1` builds a tenth of everything (for a quick run). The people table keeps only its
primary key and path index during the load (the blind-index indexes are not read here).

    .venv/bin/python benchmarks/mass_testing_round.py --data-dir /tmp/h4/bench-round \
        --database-url postgres://root@127.0.0.1:5432/h4_round [--scale 1] [--runs 3]
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

GEN_SQL = """
INSERT INTO jurisdictions_jurisdiction (code, name, level, parent_id, path, population, households)
VALUES ('4409', '基准市', 1, NULL, '/4409/', 0, 0);
INSERT INTO jurisdictions_jurisdiction (code, name, level, parent_id, path, population, households)
SELECT '4409' || lpad(d::text, 2, '0'), '区' || d, 2, c.id, c.path || '4409' || lpad(d::text, 2, '0') || '/', 0, 0
FROM generate_series(1, 20) d, jurisdictions_jurisdiction c WHERE c.code = '4409';
INSERT INTO jurisdictions_jurisdiction (code, name, level, parent_id, path, population, households)
SELECT p.code || lpad(k::text, 3, '0'), '街道' || k, 3, p.id, p.path || p.code || lpad(k::text, 3, '0') || '/', 0, 0
FROM jurisdictions_jurisdiction p, generate_series(1, 10) k WHERE p.level = 2 ORDER BY p.code, k;
INSERT INTO jurisdictions_jurisdiction (code, name, level, parent_id, path, population, households)
SELECT p.code || lpad(k::text, 3, '0'), '社区' || k, 4, p.id, p.path || p.code || lpad(k::text, 3, '0') || '/', 0, 0
FROM jurisdictions_jurisdiction p, generate_series(1, 10) k WHERE p.level = 3 ORDER BY p.code, k;
INSERT INTO jurisdictions_jurisdiction (code, name, level, parent_id, path, population, households)
SELECT p.code || '001', '小区', 5, p.id, p.path || p.code || '001/', 0, 0
FROM jurisdictions_jurisdiction p WHERE p.level = 4 ORDER BY p.code;
INSERT INTO jurisdictions_jurisdiction (code, name, level, parent_id, path, population, households)
SELECT p.code || lpad(k::text, 3, '0'), '网格' || k, 6, p.id, p.path || p.code || lpad(k::text, 3, '0') || '/', 0, 0
FROM jurisdictions_jurisdiction p, generate_series(1, 10) k WHERE p.level = 5 ORDER BY p.code, k;
CREATE TEMP TABLE g AS SELECT row_number() OVER (ORDER BY code) - 1 AS idx, id, path
FROM jurisdictions_jurisdiction WHERE level = 6;
"""


def _generate(scale: float) -> dict[str, float]:
    import django

    django.setup()
    from django.db import connection

    samples = int(10_000_000 * scale)
    tubes = samples // 10
    persons = samples * 20 // 19 + 1
    timings: dict[str, float] = {}
    with connection.cursor() as cur:
        t = time.perf_counter()
        for stmt in [s for s in GEN_SQL.split(";\n") if s.strip()]:
            cur.execute(stmt)
        cur.execute("SELECT count(*) FROM g")
        grids = cur.fetchone()[0]
        if scale < 1:
            cur.execute("DELETE FROM g WHERE idx >= %s", [int(grids * scale)])
            grids = int(grids * scale)
        per_grid = persons // grids + 1
        for idx in [
            "person_doc_bidx_idx",
            "person_phone_bidx_idx",
            "person_name_bidx_idx",
            "person_doc_unique_active",
        ]:
            cur.execute(f"DROP INDEX IF EXISTS {idx}")
            cur.execute(f"ALTER TABLE people_person DROP CONSTRAINT IF EXISTS {idx}")
        cur.execute(
            "INSERT INTO people_person (id, doc_type, doc_number, doc_bidx, name, name_bidx, sex, phone, "
            "phone_bidx, address, grid_id, jurisdiction_path, id_mismatch, created_at, updated_at) "
            "SELECT i, 'resident_id', 'x', md5(i::text), 'x', '', 'U', '', '', '', g.id, g.path, false, now(), now() "
            "FROM generate_series(1, %s) i JOIN g ON g.idx = (i - 1) / %s",
            [persons, per_grid],
        )
        cur.execute("SELECT setval(pg_get_serial_sequence('people_person', 'id'), %s)", [persons])
        timings["persons"] = time.perf_counter() - t
        t = time.perf_counter()
        cur.execute(
            "INSERT INTO mass_testing_round (name, jurisdiction_path, starts_at, deadline, status, "
            "policy_version, created_by, created_at) VALUES ('bench', '/4409/', now() - interval '20 hours', "
            "now() + interval '28 hours', 'open', 1, 'bench', now()) RETURNING id"
        )
        rnd = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO mass_testing_roundarea (round_id, jurisdiction_id, jurisdiction_path, area_type, pooling, pool_size) "
            "SELECT %s, id, path, 'general', 'pooled', 10 FROM jurisdictions_jurisdiction WHERE level = 2",
            [rnd],
        )
        cur.execute(
            "INSERT INTO mass_testing_tube (id, round_id, barcode, site_id, jurisdiction_path, kind, pool_size, "
            "members, status, opened_at, closed_at, result, ct_value, result_at, lab) "
            "SELECT t, %s, 'B' || lpad(t::text, 9, '0'), NULL, '/4409/', 'pooled', 10, 10, 'closed', "
            "now() - interval '10 hours', now() - interval '9 hours', 'pending', NULL, NULL, '' "
            "FROM generate_series(1, %s) t",
            [rnd, tubes],
        )
        cur.execute(
            "INSERT INTO mass_testing_sample (round_id, tube_id, person_id, jurisdiction_path, grid_id, site_id, "
            "sampler, sampled_at, client_id, received_at) "
            "SELECT %s, (j - 1) / 10 + 1, p.id, p.jurisdiction_path, p.grid_id, NULL, '', "
            "now() - interval '20 hours' + ((j %% 72000) || ' seconds')::interval, 'c' || j, now() "
            "FROM generate_series(1, %s) j JOIN people_person p ON p.id = ((j - 1) / 19) * 20 + (j - 1) %% 19 + 1",
            [rnd, samples],
        )
        timings["round"] = time.perf_counter() - t
        t = time.perf_counter()
        cur.execute(
            "INSERT INTO mass_testing_excusal (round_id, person_id, jurisdiction_path, reason, note, created_by, created_at) "
            "SELECT %s, i, p.jurisdiction_path, 'away', '', 'bench', now() FROM generate_series(20, %s, 2000) i "
            "JOIN people_person p ON p.id = i",
            [rnd, persons],
        )
        # One result per tube; 1,000 positives; 100 unknown tubes; 50 tubes twice, disagreeing.
        cur.execute(
            "INSERT INTO mass_testing_labreport (barcode, tube_id, jurisdiction_path, result, ct_value, tested_at, "
            "lab, source, outcome, received_at) "
            "SELECT 'B' || lpad(t::text, 9, '0'), NULL, '/4409/', "
            "CASE WHEN t %% %s = 7 THEN 'positive' ELSE 'negative' END, NULL, now() - interval '1 hour', "
            "'lab', 'bench', 'received', now() FROM generate_series(1, %s) t",
            [max(1, tubes // 1000), tubes],
        )
        cur.execute(
            "INSERT INTO mass_testing_labreport (barcode, tube_id, jurisdiction_path, result, ct_value, tested_at, "
            "lab, source, outcome, received_at) "
            "SELECT 'X' || lpad(t::text, 9, '0'), NULL::bigint, '/4409/', 'negative', NULL::float, now() - interval '1 hour', "
            "'lab', 'bench', 'received', now() FROM generate_series(1, 100) t "
            "UNION ALL SELECT 'B' || lpad((t * 997)::text, 9, '0'), NULL::bigint, '/4409/', 'positive', NULL::float, "
            "now() - interval '1 hour', 'lab', 'bench', 'received', now() FROM generate_series(1, 50) t",
        )
        timings["extras"] = time.perf_counter() - t
        t = time.perf_counter()
        cur.execute("ANALYZE")
        timings["analyze"] = time.perf_counter() - t
    return timings | {
        "persons_n": persons,
        "samples_n": samples,
        "tubes_n": tubes,
        "grids_n": grids,
        "round": rnd,
    }


def _measure(round_id: int) -> dict[str, float]:
    """Fresh process: match, detect, cover; each timed; then undone so the next run starts equal."""
    import django

    django.setup()
    from django.db import connection, transaction

    from fangkong.core import clock
    from fangkong.core.actor import system_actor
    from fangkong.core.errors import Conflict
    from fangkong.core.scope import Scope
    from fangkong.mass_testing import services
    from fangkong.mass_testing.models import Coverage, PositivePool, Round, Tube
    from fangkong.policy.editions import edition_text
    from fangkong.policy.selectors import rulebook_in_force
    from fangkong.policy.services import rulebook_publish

    try:
        rulebook_in_force()
    except Conflict:  # the first run publishes the edition (not timed)
        rulebook_publish(
            actor=system_actor("bench"), text=edition_text("ninth-edition-2022"), note="bench"
        )
    rnd = Round.objects.get(pk=round_id)
    out: dict[str, float] = {}
    with transaction.atomic():
        t = time.perf_counter()
        pools, _singles = services.results_match(
            source="bench", now=clock.now(), scope=Scope.system()
        )
        out["match_and_detect_s"] = time.perf_counter() - t
        out["pools"] = len(pools)
        out["retests"] = PositivePool.objects.count() and int(
            sum(p.members for p in PositivePool.objects.all())
        )
        t = time.perf_counter()
        grids = services.coverage_refresh(rnd=rnd)
        out["coverage_s"] = time.perf_counter() - t
        out["grids"] = grids
        out["total_s"] = out["match_and_detect_s"] + out["coverage_s"]
        agg = Coverage.objects.filter(round=rnd).values_list(
            "due", "sampled", "resulted", "positive", "excused"
        )
        out["sums"] = [sum(x) for x in zip(*agg, strict=True)]  # type: ignore[assignment]
        out["tubes_resulted"] = Tube.objects.exclude(result="pending").count()
        with connection.cursor() as cur:
            cur.execute(
                "SELECT outcome, count(*) FROM mass_testing_labreport GROUP BY 1 ORDER BY 1"
            )
            out["outcomes"] = dict(cur.fetchall())  # type: ignore[assignment]
        transaction.set_rollback(True)
    return out


def _child(target: Target, what: str, *args: str) -> dict[str, object]:
    out = target.data_dir / f"round-{what}.json"
    code = (
        "import json,sys;sys.path.insert(0,'benchmarks');import mass_testing_round as m;"
        f"r=m._{what}({', '.join(args)});open({str(out)!r},'w').write(json.dumps(r, default=str))"
    )
    subprocess.run([sys.executable, "-c", code], env=target.env(), cwd=ROOT, check=True)
    data: dict[str, object] = json.loads(out.read_text())
    return data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-setup", action="store_true")
    args = parser.parse_args()
    target = Target(args.data_dir, args.database_url)
    print(f"# {target.label} · {machine()}", flush=True)
    if not args.skip_setup:
        target.recreate()
        fangkong(target, "migrate", "--verbosity", "0")
        gen = _child(target, "generate", str(args.scale))
        (args.data_dir / "round.json").write_text(json.dumps(gen))
        print(f"generated: {json.dumps(gen)}  load {load()}", flush=True)
    gen = json.loads((args.data_dir / "round.json").read_text())
    totals = []
    for run in range(args.runs):
        r = _child(target, "measure", str(gen["round"]))
        totals.append(float(r["total_s"]))  # type: ignore[arg-type]
        print(f"run {run + 1}: {json.dumps(r)}  load {load()}", flush=True)
    print(
        f"RESULT postgresql: {gen['samples_n']:,} samples, {gen['tubes_n']:,} tubes, {gen['grids_n']:,} grids: "
        f"match + detect + coverage median {statistics.median(totals):.1f} s "
        f"(runs {', '.join(f'{x:.1f}' for x in totals)})"
    )


if __name__ == "__main__":
    main()
