"""The HTTP side of the scan-ingest benchmark (mass_testing_ingest.py): gunicorn on loopback,
keep-alive clients, and the CPU meter that reads what the server's processes, the database's
backends and the load generator spent (Linux /proc)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, Target


class Server:
    def __init__(self, target: Target, port: int, workers: int, threads: int, slots: int) -> None:
        env = target.env() | {"FANGKONG_TESTING_INGEST_SLOTS": str(slots)}
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.proc = subprocess.Popen(
            [gunicorn, "fangkong.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
             "--threads", str(threads), "--worker-class", "gthread", "--timeout", "120",
             "--backlog", "2048", "--keep-alive", "10"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.3)
        raise SystemExit("gunicorn did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


class Client:
    def __init__(self, port: int, token: str, round_id: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.path = f"/api/testing/rounds/{round_id}/scans"
        self.retry_after: str | None = None

    def post(self, body: bytes) -> tuple[int, dict[str, Any] | None]:
        try:
            self.conn.request("POST", self.path, body, self.headers)
            resp = self.conn.getresponse()
            data = resp.read()
            self.retry_after = resp.getheader("Retry-After")
        except (OSError, http.client.HTTPException):
            self.conn.close()
            return 0, None
        return resp.status, (json.loads(data) if resp.status == 200 else None)

    def post_raw(self, body: bytes) -> tuple[int, bytes]:
        try:
            self.conn.request("POST", self.path, body, self.headers)
            resp = self.conn.getresponse()
            return resp.status, resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            return 0, b""


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (Linux /proc), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_pids(master: int) -> list[int]:
    """gunicorn's master and its workers."""
    pids = [master]
    for task in Path(f"/proc/{master}/task").glob("*/children"):
        pids += [int(x) for x in task.read_text().split()]
    return pids


def _db_pids(conn: Any, database_url: str) -> list[int]:
    """The PostgreSQL backends serving the benchmark's database (the server's workers'
    connections), so that their CPU can be counted; none for SQLite (in-process)."""
    if conn is None:
        return []
    name = urlsplit(database_url).path.lstrip("/")
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        [name],
    ).fetchall()
    return [r[0] for r in rows]


class Vacuum:
    """What autovacuum does on a production server (this one runs with autovacuum off):
    every minute, VACUUM ANALYZE of the tables the ingest updates in place (tubes, members,
    coverage counters, progress) and ANALYZE of the samples, on its own connection to the
    benchmark's database, so its CPU counts in the database's share. SQLite: nothing."""

    TABLES = (
        "mass_testing_tube",
        "mass_testing_roundmember",
        "mass_testing_coverage",
        "mass_testing_progress",
    )

    def __init__(self, database_url: str, every: float = 60.0) -> None:
        self.database_url, self.every = database_url, every
        self.done = threading.Event()
        self.runs = 0
        self.thread: threading.Thread | None = None

    def _loop(self) -> None:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            while not self.done.wait(self.every):
                conn.execute(f"VACUUM (ANALYZE) {', '.join(self.TABLES)}")
                conn.execute("ANALYZE mass_testing_sample")
                self.runs += 1

    def start(self) -> None:
        if self.database_url:
            self.thread = threading.Thread(target=self._loop, daemon=True)
            self.thread.start()

    def stop(self) -> None:
        self.done.set()
        if self.thread is not None:
            self.thread.join()


class CpuMeter:
    """CPU spent by the server's processes, the database's backends and this load generator
    over a window: what one scan costs, whatever else runs on the machine. Backends come and
    go (a worker's connection lives DB_CONN_MAX_AGE seconds), so they are polled every half
    second and each one's last reading kept."""

    def __init__(self, master: int, database_url: str) -> None:
        self.master, self.database_url = master, database_url
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.done = threading.Event()
        self.conn: Any = None
        if database_url:
            import psycopg

            self.conn = psycopg.connect(database_url, autocommit=True)

    def _poll(self) -> None:
        for p in [
            *_server_pids(self.master),
            *(-q for q in _db_pids(self.conn, self.database_url)),
        ]:
            cpu = _cpu_seconds(abs(p))
            if cpu:
                self.first.setdefault(p, cpu)
                self.last[p] = cpu

    def _loop(self) -> None:
        while not self.done.wait(0.5):
            self._poll()

    def start(self) -> None:
        self._poll()
        self.seen_at_start = set(self.first)
        self.client = time.process_time()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def stop(self) -> dict[str, float]:
        self.done.set()
        self.thread.join()
        self._poll()
        if self.conn is not None:
            self.conn.close()
        # A backend first seen during the window counts from zero (it started then).
        started = set(self.first) - self.seen_at_start
        spent = {p: self.last[p] - (0.0 if p in started else self.first[p]) for p in self.last}
        return {
            "server": sum(v for p, v in spent.items() if p > 0),
            "db": sum(v for p, v in spent.items() if p < 0),
            "client": time.process_time() - self.client,
        }
