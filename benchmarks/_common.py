"""Shared helpers of the benchmark scripts: the machine, the target database, child processes."""

from __future__ import annotations

import os
import platform
import resource
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    """One line describing where the figures come from."""
    mem_kib = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} cores ({cpu or platform.processor()}), "
        f"{mem_kib / 1024 / 1024:.1f} GiB RAM, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, load average {load()}"
    )


def load() -> str:
    """The 1/5/15-minute load average: other work on the machine skews every figure."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f}/{five:.1f}/{fifteen:.1f}"


@dataclass(frozen=True)
class Target:
    """Where a benchmark writes: a data directory, and a PostgreSQL URL or SQLite in it."""

    data_dir: Path
    database_url: str = ""

    @property
    def label(self) -> str:
        return "postgresql" if self.database_url else "sqlite"

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            # Demo mode: key files are generated on first use, and unlike debug mode no query
            # is logged in memory (which would distort both time and peak RSS).
            "FANGKONG_DEMO": "1",
            "FANGKONG_DATA_DIR": str(self.data_dir),
            "DJANGO_SETTINGS_MODULE": "fangkong.settings",
            # The checkout these scripts belong to, ahead of any installed copy.
            "PYTHONPATH": str(ROOT),
        }
        for name in ("FANGKONG_TESTING", "FANGKONG_DEBUG"):
            env.pop(name, None)
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        else:
            env.pop("DATABASE_URL", None)
        return env

    def recreate(self) -> None:
        """An empty database (the keys in the data directory are kept)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.database_url:
            for suffix in ("", "-wal", "-shm"):
                (self.data_dir / f"fangkong.sqlite3{suffix}").unlink(missing_ok=True)
            return
        import psycopg

        parts = urlsplit(self.database_url)
        name = parts.path.lstrip("/")
        admin = parts._replace(path="/postgres").geturl()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')


def fangkong(target: Target, *args: str) -> None:
    """Run a `fangkong` command to completion (setup steps, not timed)."""
    subprocess.run(
        [sys.executable, "-m", "fangkong", *args], env=target.env(), cwd=ROOT, check=True
    )


def timed_child(argv: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Run a child process; return (wall seconds, its peak RSS in MiB, its stdout)."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed with exit code {proc.returncode}")
    # ru_maxrss is in KiB on Linux.
    return elapsed, usage.ru_maxrss // 1024, out


def self_peak_mib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
