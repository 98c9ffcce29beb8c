"""Sampling ingest over HTTP: batched scans/s sustained, and single-scan requests/s at
p99 <= 100 ms with the behaviour at twice that load; PostgreSQL's COPY (SQLite: one
executemany) of the same rows as the baseline, in the same run.

Builds a private database (`fangkong simulate city`, the ninth edition, a city-wide round, a
city-level API token), starts gunicorn (gthread) on loopback, and drives it from threads
with keep-alive connections. Scans are `person_id` + barcode in 10-in-1 tubes (one tube of
each batch is completed by the client's next batch), so persons are reused across tubes once their tube is closed (the population
need not be as large as the number of scans). Some batches are sent twice on purpose (a lost
answer); at the end the database is counted: rows == accepted answers, none lost, none doubled.

    .venv/bin/python benchmarks/mass_testing_ingest.py --data-dir /tmp/h4/bench-sqlite
    .venv/bin/python benchmarks/mass_testing_ingest.py --data-dir /tmp/h4/bench-pg \
        --database-url postgres://root@127.0.0.1:5432/h4_bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, Target, fangkong, load, machine
from _ingest_baseline import child_copy
from _ingest_load import Client, CpuMeter, Server, Vacuum
from _ingest_setup import child_count, child_setup


def _django_child(target: Target, what: str, *args: str) -> dict[str, Any]:
    out = target.data_dir / f"{what}.json"
    subprocess.run(
        [sys.executable, __file__, "--child", what, str(out), *args],
        env=target.env(),
        cwd=ROOT,
        check=True,
    )
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def _scans(
    persons: Sequence[int], start: int, n: int, tag: str, close_each: bool = False
) -> list[dict[str, Any]]:
    now = dt.datetime.now(dt.UTC).isoformat()
    out = []
    for i in range(n):
        k = start + i
        out.append({
            "client_id": f"{tag}-{k}",
            "barcode": f"{tag}{k // 10:09d}" if not close_each else f"{tag}{k:09d}",
            "sampled_at": now,
            "person_id": persons[k % len(persons)],
            "close_tube": close_each,
        })  # fmt: skip
    return out


def _batch_body(persons: Sequence[int], i: int, batch: int, tag: str, now: str) -> bytes:
    """Batch `i` of a client as bytes, by template (cheap for the load generator). Scan k goes
    into tube k // 10, and batches end 5 scans short of a multiple of 10: every batch leaves
    one tube half-filled that the client's next batch completes (an open tube across batches,
    as when a sampler's phone sends every few seconds)."""
    share = len(persons)
    t = tag.encode()
    items = [
        b'{"client_id":"%s-%d","barcode":"%s%09d","sampled_at":"%s","person_id":%d}'
        % (t, k, t, k // 10, now.encode(), persons[k % share])
        for k in range(max(0, i * batch - 5), (i + 1) * batch - 5)
    ]
    batch_id = f"{tag}-{i}"
    return b'{"batch_id":"%s","scans":[%s]}' % (batch_id.encode(), b",".join(items))


def batched(  # noqa: PLR0915 - the client loop, its bookkeeping and the CPU meter
    port: int,
    setup: dict[str, Any],
    *,
    seconds: float,
    clients: int,
    batch: int,
    run_no: int,
    prebuild_scans: int,
    meter: CpuMeter,
    skip: int = 0,
) -> dict[str, Any]:
    """Closed loop: each client thread posts its next batch as soon as the last is answered.
    Request bodies are built before the timed window (up to `prebuild_scans` in all), so the
    load generator spends its CPU on sending, not on JSON; beyond that it builds on the fly
    (counted). One batch in 50 is sent twice on purpose (a lost answer)."""
    persons: Sequence[int] = setup["persons"]
    share = len(persons) // clients
    shares = [persons[c * share + skip : (c + 1) * share] for c in range(clients)]
    now = dt.datetime.now(dt.UTC).isoformat()
    stamp = int(time.time()) % 100_000  # tags unique per invocation (--skip-setup reruns)
    per_client = max(1, prebuild_scans // clients // batch)
    bodies = [
        [
            _batch_body(shares[c], i, batch, f"R{run_no}C{c}T{stamp}X", now)
            for i in range(per_client)
        ]
        for c in range(clients)
    ]  # fmt: skip
    accepted = [0] * clients
    dupes = [0] * clients
    busy = [0] * clients
    errors = [0] * clients
    built_late = [0] * clients
    events: list[list[tuple[float, int]]] = [[] for _ in range(clients)]
    vacuum = Vacuum(meter.database_url)
    meter.start()
    vacuum.start()
    started = time.monotonic()
    stop = started + seconds

    def run(c: int) -> None:
        client = Client(port, setup["token"], setup["round"])
        mine = shares[c]
        i = 0
        while time.monotonic() < stop:
            if i < per_client:
                body = bodies[c][i]
            else:
                body = _batch_body(mine, i, batch, f"R{run_no}C{c}T{stamp}X", now)
                built_late[c] += 1
            for _ in range(2 if i % 50 == 49 else 1):
                while True:
                    status, raw = client.post_raw(body)
                    if status == 200:
                        ok = raw.count(b'"outcome": "accepted"')
                        accepted[c] += ok
                        dupes[c] += raw.count(b'"outcome": "duplicate"')
                        events[c].append((time.monotonic() - started, ok))
                        break
                    if status == 429:
                        busy[c] += 1
                        time.sleep(0.05)
                    else:
                        errors[c] += 1
                        time.sleep(0.2)
            i += 1

    threads = [threading.Thread(target=run, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    vacuum.stop()
    cpu = meter.stop()
    per_k = {k: round(v / max(1, sum(accepted)) * 1e6, 1) for k, v in cpu.items()}
    step = 60.0 if seconds >= 120 else 10.0
    buckets = [0] * (int(elapsed // step) + 1)
    for ev in events:
        for at, ok in ev:
            buckets[int(at // step)] += ok
    full = int(elapsed // step)
    return {
        "accepted": sum(accepted), "duplicates": sum(dupes), "busy_429": sum(busy),
        "errors": sum(errors), "seconds": elapsed, "scans_per_s": sum(accepted) / elapsed,
        "batch": batch, "clients": clients, "bodies_built_in_window": sum(built_late),
        "vacuums": vacuum.runs,
        "client_cpu_share": round(cpu["client"] / elapsed, 3),
        # CPU milliseconds per 1,000 accepted scans: server (gunicorn), database, client.
        "cpu_ms_per_1000": per_k,
        # What the measured CPU cost allows on this machine's cores if nothing else ran.
        "cpu_bound_scans_per_s": round(
            (os.cpu_count() or 1) * 1e6 / max(1e-9, per_k["server"] + per_k["db"] + per_k["client"])
        ),
        f"per_{int(step)}s_scans_per_s": [round(b / step) for b in buckets[:full]],
    }  # fmt: skip


def singles(
    port: int, setup: dict[str, Any], *, rate: float, seconds: float, threads: int, tag: str
) -> dict[str, Any]:
    """Open loop: `rate` single-scan requests per second spread over threads."""
    persons: Sequence[int] = setup["persons"]
    lat: list[float] = []
    status_counts: dict[int, int] = {}
    refused: list[bytes] = []
    accepted = [0]  # scans answered `accepted` (a person still in an open tube is not)
    missing_retry_after = [0]
    lock = threading.Lock()
    interval = threads / rate
    stop = time.monotonic() + seconds

    def run(t: int) -> None:
        client = Client(port, setup["token"], setup["round"])
        k = t
        nxt = time.monotonic() + (t / rate)
        while nxt < stop:
            now = time.monotonic()
            if nxt > now:
                time.sleep(nxt - now)
            body = json.dumps(
                {"batch_id": "", "scans": _scans(persons, k, 1, tag, close_each=True)}
            ).encode()
            t0 = time.monotonic()
            status, data = client.post(body)
            took = time.monotonic() - t0
            with lock:
                lat.append(took)
                status_counts[status] = status_counts.get(status, 0) + 1
                if data is not None:
                    accepted[0] += data["accepted"]
                if status == 429 and client.retry_after != "1":
                    missing_retry_after[0] += 1
                if status != 200:
                    refused.append(body)
            k += threads
            nxt += interval

    ts = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1000 if lat else 0.0
    # Everything refused is sent again afterwards, slowly: then nothing may be missing.
    client = Client(port, setup["token"], setup["round"])
    for body in refused:
        while True:
            status, data = client.post(body)
            if status == 200 and data is not None:
                accepted[0] += data["accepted"]
                break
            time.sleep(0.1)
    return {
        "rate": rate, "requests": len(lat), "p50_ms": statistics.median(lat) * 1000 if lat else 0,
        "p99_ms": p99, "statuses": status_counts, "resent": len(refused),
        "accepted": accepted[0], "429_without_retry_after": missing_retry_after[0],
        "achieved_rps": len(lat) / seconds,
    }  # fmt: skip


def main() -> None:  # noqa: PLR0915 - setup, runs, baseline and counts in order
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--population", type=int, default=30_000)
    # Residents added set-based so that every scan is a person's first in the round (0: the
    # simulated population only, reused across tubes once their tube is closed).
    parser.add_argument("--persons", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=1000)
    # Bodies built before the timed window (~110 bytes a scan): 20 million is 2.2 GB.
    parser.add_argument("--prebuild-scans", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--port", type=int, default=18741)
    parser.add_argument("--single-seconds", type=float, default=15)
    parser.add_argument("--rates", default="25,50,100,200")
    parser.add_argument("--skip-setup", action="store_true")
    # With --skip-setup: each client leaves out the first N residents of its share (sampled
    # by earlier runs), so that every scan is again a person's first in the round.
    parser.add_argument("--skip-persons", type=int, default=0)
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        what, out, *rest = args.child
        if what == "setup":
            child_setup(Path(out), int(rest[0]))
        elif what == "count":
            child_count(Path(out), int(rest[0]))
        elif what == "copy":
            child_copy(Path(out), int(rest[0]))
        return
    target = Target(args.data_dir, args.database_url)
    print(f"# {target.label} · {machine()}")
    if not args.skip_setup:
        target.recreate()
        fangkong(target, "migrate", "--verbosity", "0")
        fangkong(target, "simulate", "city", "--population", str(args.population))
        _django_child(target, "setup", str(args.persons))
    setup = json.loads((target.data_dir / "setup.json").read_text())
    if "person_range" in setup:  # sequences, indexed and sliced like the list of ids
        setup["persons"] = range(*setup["person_range"])
    # Rows already there (--skip-setup reruns on the same data): only this run's are counted.
    before = _django_child(target, "count", str(setup["round"]))["rows"]
    server = Server(target, args.port, args.workers, args.threads, args.slots)
    results: dict[str, Any] = {"batched": [], "singles": []}
    try:
        # Warm-up, untimed: every worker's first requests load code and open its connection.
        warm = singles(
            args.port, setup, rate=20, seconds=2 + args.workers, threads=2,
            tag=f"W{int(time.time()) % 100_000}X",
        )  # fmt: skip
        results["warmup"] = warm
        for run in range(args.runs):
            r = batched(
                args.port,
                setup,
                seconds=args.seconds,
                clients=args.clients,
                batch=args.batch,
                prebuild_scans=args.prebuild_scans or min(20_000_000, int(args.seconds * 35_000)),
                run_no=run,
                meter=CpuMeter(server.proc.pid, target.database_url),
                skip=args.skip_persons + run * int(args.seconds) * 10_000,
            )
            results["batched"].append(r)
            print(f"batched run {run + 1}: {json.dumps(r)}  load {load()}", flush=True)
        for rate in [float(x) for x in args.rates.split(",")]:
            r = singles(
                args.port,
                setup,
                rate=rate,
                seconds=args.single_seconds,
                threads=max(4, int(rate // 10)),
                tag=f"S{int(rate)}T{int(time.time()) % 100_000}X",
            )
            results["singles"].append(r)
            print(f"single-scan: {json.dumps(r)}  load {load()}", flush=True)
        ok = [
            s
            for s in results["singles"]
            if s["p99_ms"] <= 100 and not any(k >= 500 or k == 0 for k in s["statuses"])
        ]
        best = max((s["rate"] for s in ok), default=min(float(x) for x in args.rates.split(",")))
        r = singles(
            args.port,
            setup,
            rate=2 * best,
            seconds=args.single_seconds,
            threads=max(4, int(best // 5)),
            tag=f"D2T{int(time.time()) % 100_000}X",
        )
        results["double"] = r
        print(f"single-scan at 2x {best}: {json.dumps(r)}  load {load()}", flush=True)
    finally:
        server.stop()
    count = _django_child(target, "count", str(setup["round"]))
    accepted = sum(r["accepted"] for r in results["batched"]) + sum(
        s["accepted"] for s in [*results["singles"], results["double"], results["warmup"]]
    )
    print(
        f"rows in the database: {count['rows']} (distinct client ids {count['distinct']}), "
        f"{count['rows'] - before} added by this run; accepted answers {accepted}"
    )
    copy = _django_child(target, "copy", str(setup["round"]))
    copy_rate = copy["rows"] / copy["seconds"]
    rates = [r["scans_per_s"] for r in results["batched"]]
    print(
        f"RESULT {target.label}: batched ingest median {statistics.median(rates):,.0f} scans/s "
        f"(runs {', '.join(f'{x:,.0f}' for x in rates)}), baseline "
        f"{'COPY' if target.database_url else 'executemany'} {copy_rate:,.0f} rows/s "
        f"({copy['rows']:,} rows), ratio {statistics.median(rates) / copy_rate:.3f}; "
        f"lost {max(0, accepted - (count['rows'] - before))}, "
        f"doubled {count['rows'] - count['distinct']}"
    )
    (target.data_dir / "results.json").write_text(
        json.dumps(results | {"count": count, "copy": copy}, indent=1)
    )


if __name__ == "__main__":
    main()
