"""Check-in ingest rate over HTTP: batches posted to /api/lake/checkins of a running server.

Sets up its own data directory and SQLite database (a synthetic city of `--population`
persons), an API token of a command-office client, then starts `fangkong serve` (gunicorn,
`--workers` processes) and posts `--batches` batches of `--batch-rows` scans each from
`--clients` concurrent client threads (keep-alive connections). Reports scans per second
(wall time of all posts), the median batch latency, and checks that every batch landed once
(the ledger) and that a retried batch answers 200 without storing anything.

    .venv/bin/python benchmarks/lake_ingest.py --data-dir /tmp/h2/bench/ingest
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, Target, fangkong, load, machine


def setup_child() -> None:
    """In the target's environment: a token and the ids a client may send."""
    import django

    django.setup()
    from fangkong.accounts.services import token_create
    from fangkong.core.actor import system_actor
    from fangkong.jurisdictions.models import Jurisdiction
    from fangkong.people.models import Person
    from fangkong.places.models import Place

    city = Jurisdiction.objects.get(parent__isnull=True)
    _, secret = token_create(
        actor=system_actor("bench"),
        name="bench-scanner",
        role="command_office",
        jurisdictions=[city],
    )
    print(
        json.dumps(
            {
                "token": secret,
                "persons": list(Person.objects.values_list("pk", flat=True)),
                "venues": list(Place.objects.values_list("pk", flat=True)),
            }
        )
    )


def count_child() -> None:
    import django

    django.setup()
    from fangkong.lake.models import IngestBatch

    print(
        json.dumps(
            {
                "batches": IngestBatch.objects.count(),
                "rows": sum(IngestBatch.objects.values_list("rows", flat=True)),
            }
        )
    )


def _child(target: Target, name: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", name, "--data-dir", str(target.data_dir)],
        env=target.env(), cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    loaded: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--population", type=int, default=20_000)
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--batch-rows", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=18_765)
    parser.add_argument("--child", choices=["setup", "count"])
    args = parser.parse_args()
    target = Target(args.data_dir)
    if args.child == "setup":
        setup_child()
        return
    if args.child == "count":
        count_child()
        return
    print(f"machine: {machine()}")
    target.recreate()
    fangkong(target, "migrate", "--verbosity", "0")
    fangkong(target, "simulate", "city", "--population", str(args.population), "--replace")
    ids = _child(target, "setup")
    server = subprocess.Popen(
        [sys.executable, "-m", "fangkong", "serve", "--bind", f"127.0.0.1:{args.port}",
         "--workers", str(args.workers)],
        env=target.env(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        _wait_ready(args.port)
        cpu_before = _group_cpu_seconds(server.pid)
        report = _post_all(args, ids)
        server_cpu = _group_cpu_seconds(server.pid) - cpu_before
        report["server_cpu_seconds"] = round(server_cpu, 2)
        # what the server costs per scan, whatever else the machine runs: the rate that its
        # workers could reach with every core to themselves (an estimate, not a measurement)
        report["scans_per_server_cpu_second"] = round(report["scans"] / server_cpu)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    landed = _child(target, "count")
    assert landed["batches"] == args.batches, landed
    report["ledger"] = landed
    report["load_end"] = load()
    print(json.dumps(report))


def _group_cpu_seconds(group: int) -> float:
    """User + system CPU of every process of a process group (the server and its workers)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # pgrp
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _wait_ready(port: int) -> None:
    for _ in range(120):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/me")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("the server did not start")


def _post_all(args: argparse.Namespace, ids: dict[str, Any]) -> dict[str, Any]:
    rng = random.Random(1)
    now = int(time.time())
    bodies = []
    for b in range(args.batches):
        rows = [
            [rng.choice(ids["persons"]), rng.choice(ids["venues"]), now - rng.randrange(0, 3600)]
            for _ in range(args.batch_rows)
        ]
        bodies.append(json.dumps({"client_id": "bench", "batch_id": f"b{b}", "rows": rows}))
    headers = {"Authorization": f"Bearer {ids['token']}", "Content-Type": "application/json"}
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    queue = list(range(args.batches))

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=120)
        while True:
            with lock:
                if not queue:
                    return
                index = queue.pop()
            started = time.perf_counter()
            conn.request("POST", "/api/lake/checkins", body=bodies[index], headers=headers)
            response = conn.getresponse()
            response.read()
            with lock:
                latencies.append(time.perf_counter() - started)
                statuses.append(response.status)

    load_start = load()
    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    assert statuses.count(201) == args.batches, sorted(set(statuses))
    # a retried batch: 200, nothing stored again
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=120)
    conn.request("POST", "/api/lake/checkins", body=bodies[0], headers=headers)
    retry = conn.getresponse()
    assert retry.status == 200, retry.status
    retry.read()
    scans = args.batches * args.batch_rows
    return {
        "scans": scans,
        "batches": args.batches,
        "batch_rows": args.batch_rows,
        "clients": args.clients,
        "workers": args.workers,
        "seconds": round(wall, 2),
        "scans_per_second": round(scans / wall),
        "median_batch_seconds": round(statistics.median(latencies), 3),
        "load_start": load_start,
    }


if __name__ == "__main__":
    main()
