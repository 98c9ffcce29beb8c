"""The command line, a worker killed mid-import, and two overlapping lists imported at the
same moment over real concurrent connections (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from conftest import Tree
from fangkong.core.actor import Actor
from fangkong.policy.models import RulebookVersion
from fangkong.screening.imports import ImportResult, import_file
from fangkong.screening.models import Arrival, ArrivalSource, ArrivalTally, ImportBatch
from fangkong.screening.tests.factories import resident_id
from fangkong.screening.tests.files import csv_bytes, person_row, xlsx


def _rows(n: int, *, start: int = 0) -> list[list[object]]:
    return [
        person_row(
            i, resident_id(seq=i % 1000, birth=dt.date(1970, 1, 1) + dt.timedelta(days=i // 1000))
        )
        for i in range(start, start + n)
    ]


@pytest.mark.django_db
def test_the_command_imports_and_reports(
    book: RulebookVersion, two_districts: Tree, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "push.xlsx"
    good.write_bytes(xlsx(_rows(3)))
    call_command("screening", "import", str(good), "--source", "省平台")
    assert "imported push.xlsx: 3 rows, 3 arrivals created, 0 merged" in capsys.readouterr().out
    call_command("screening", "import", str(good), "--source", "省平台")
    assert "was already imported" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    rows = _rows(3, start=10)
    rows[1][2] = "123"
    bad.write_bytes(csv_bytes(rows))
    report = tmp_path / "report.xlsx"
    with pytest.raises(CommandError, match="1 problems; nothing was imported"):
        call_command("screening", "import", str(bad), "--report", str(report))
    assert (
        "row 4, column 公民身份号码: ID number must have 18 characters" in capsys.readouterr().err
    )
    assert report.read_bytes()[:2] == b"PK"
    assert Arrival.objects.count() == 3


def _subprocess_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["FANGKONG_TESTING"] = "1"
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{s['NAME']}"
    else:
        password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
        env["DATABASE_URL"] = (
            f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
        )
    return env


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_import_leaves_nothing_behind(
    book: RulebookVersion, two_districts: Tree, tmp_path: Path
) -> None:
    import hashlib

    data = csv_bytes(_rows(30_000))
    path = tmp_path / "big.csv"
    path.write_bytes(data)
    progress = (
        settings.DATA_DIR / "screening" / f"import-{hashlib.sha256(data).hexdigest()[:16]}.json"
    )
    progress.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "fangkong", "screening", "import", str(path)],
        env=_subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    killed_in = ""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            state = json.loads(progress.read_text())
        except (OSError, ValueError):
            state = {}
        # Phase 1: the arrivals are inserted, the transaction not yet committed.
        if state.get("phase") == 1 or state.get("done", 0) >= 20_000:
            killed_in = "commit" if state.get("phase") == 1 else "validation"
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait(timeout=60)
    assert killed_in, f"the import finished before it could be killed: {proc.stderr.read()!r}"  # type: ignore[union-attr]
    assert proc.returncode == -signal.SIGKILL
    connections.close_all()
    assert Arrival.objects.count() == 0
    assert ArrivalSource.objects.count() == 0
    assert ImportBatch.objects.count() == 0
    assert ArrivalTally.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_overlapping_lists_imported_concurrently_make_no_duplicate_persons(
    book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    first = xlsx(_rows(300))
    second = csv_bytes(_rows(300, start=150))  # 150 persons on both lists
    results: dict[str, ImportResult] = {}
    failures: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run(name: str, data: bytes) -> None:
        try:
            barrier.wait(timeout=30)
            results[name] = import_file(
                actor=system, file=data, root=two_districts.city, source_name=name
            )
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=a) for a in (("铁路", first), ("机场", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not failures, failures
    assert Arrival.objects.count() == 450
    assert Arrival.objects.values("doc_bidx").distinct().count() == 450
    assert ArrivalSource.objects.count() == 600
    assert Arrival.objects.filter(source_count=2).count() == 150
    created = sum(r.created for r in results.values())
    merged = sum(r.merged for r in results.values())
    assert (created, merged) == (450, 150)
    tally = dict(
        ArrivalTally.objects.filter(node_path=two_districts.city.path).values_list("key", "count")
    )
    assert tally["received"] == 450
    assert tally["duplicates"] == 150
