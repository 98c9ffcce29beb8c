"""The whole check, as CI runs it: lint, format, types, import contracts, migrations, and the
test suite on SQLite and on PostgreSQL. Exits non-zero when any step fails.

Usage: python tools/check.py [--fast] [pytest args...]
  --fast   SQLite only, skip mypy (a quick local loop; CI never uses it)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_URL = os.environ.get("FANGKONG_TEST_PG_URL", "postgres://root@127.0.0.1:5432/test")


def run(name: str, argv: list[str], env: dict[str, str] | None = None) -> bool:
    print(f"\n=== {name}: {' '.join(argv)}", flush=True)
    started = time.monotonic()
    code = subprocess.call(argv, cwd=ROOT, env={**os.environ, **(env or {})})
    print(
        f"=== {name}: {'ok' if code == 0 else f'FAILED (exit {code})'} in {time.monotonic() - started:.1f}s",
        flush=True,
    )
    return code == 0


def counts(junit: Path) -> tuple[int, int, int]:
    """(passed, failed, skipped) from a junit xml report; a missing report counts as a failure."""
    if not junit.exists():
        return 0, 1, 0
    root = ET.parse(junit).getroot()  # noqa: S314 - our own pytest's report
    suites = [root] if root.tag == "testsuite" else list(root)
    tests = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return tests - failed - skipped, failed, skipped


def main() -> int:
    args = sys.argv[1:]
    fast = "--fast" in args
    pytest_args = [a for a in args if a != "--fast"]
    out = ROOT / "var" / "check"
    out.mkdir(parents=True, exist_ok=True)
    env = {"FANGKONG_TESTING": "1"}
    ok = True
    ok &= run("ruff lint", [str(BIN / "ruff"), "check", "."])
    ok &= run("ruff format", [str(BIN / "ruff"), "format", "--check", "."])
    ok &= run("import contracts", [str(BIN / "lint-imports")], env)
    ok &= run(
        "missing migrations",
        [str(BIN / "python"), "-m", "fangkong", "makemigrations", "--check", "--dry-run"],
        {**env, "FANGKONG_DATA_DIR": str(ROOT / "var" / "check" / "data")},
    )
    if not fast:
        ok &= run(
            "mypy",
            [str(BIN / "mypy"), "fangkong", "tools", "benchmarks", "tests", "conftest.py"],
            env,
        )
    targets = (
        [("sqlite", {})] if fast else [("sqlite", {}), ("postgresql", {"DATABASE_URL": PG_URL})]
    )
    totals = [0, 0, 0]
    for db, extra in targets:
        junit = out / f"junit-{db}.xml"
        junit.unlink(missing_ok=True)
        workers = os.environ.get("FANGKONG_TEST_WORKERS", "2")
        ok &= run(
            f"tests on {db}",
            [str(BIN / "pytest"), "-n", workers, f"--junitxml={junit}", *pytest_args],
            {**env, **extra, "FANGKONG_DATA_DIR": str(ROOT / "var" / f"test-{db}")},
        )
        for i, n in enumerate(counts(junit)):
            totals[i] += n
    print(f"\nall checks {'passed' if ok else 'FAILED'}")
    print(f"{totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return 0 if ok and totals[1] == 0 and totals[0] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
