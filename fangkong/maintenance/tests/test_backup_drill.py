"""The restore drill, run as an operator would: separate `fangkong` processes over a database
of their own (a SQLite file, or a scratch PostgreSQL database, matching the suite's vendor).

Back up; change data (register a person, purge another); restore; the purged person is purged
again, the later registration is gone, and the audit chain verifies.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connection

pytestmark = pytest.mark.slow

SEED = """
import json
from fangkong.core.actor import system_actor
from fangkong.jurisdictions.models import Jurisdiction, Level
from fangkong.people import services
from fangkong.people.tests.factories import resident_id
actor = system_actor("drill")
city = Jurisdiction.objects.create(code="4409", name="city", level=Level.CITY, path="/4409/")
ids = {}
for name, phone in (("欧阳明镜", "13912398765"), ("皇甫雪莲", "15011223344")):
    person, _ = services.person_register(
        actor=actor, doc_type="resident_id", doc_number=resident_id(), name=name, phone=phone,
        address="明镜巷77号", jurisdiction=city,
    )
    ids[name] = person.pk
print(json.dumps(ids))
"""

CHANGE = """
import json
from fangkong.core.actor import system_actor
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.people import services
from fangkong.people.tests.factories import resident_id
city = Jurisdiction.objects.get(code="4409")
person, _ = services.person_register(
    actor=system_actor("drill"), doc_type="resident_id", doc_number=resident_id(seq=777),
    name="司马后来", jurisdiction=city,
)
print(json.dumps(person.pk))
"""

CHECK = """
import json
from fangkong.audit.selectors import audit_verify
from fangkong.people.models import Person
print(json.dumps({
    "persons": {p.pk: [p.name, p.phone, p.doc_bidx] for p in Person.objects.order_by("pk")},
    "audit_ok": audit_verify().ok,
}))
"""


@pytest.fixture
def drill_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for `python -m fangkong` against a database of the drill's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["FANGKONG_TESTING"] = "1"
    env["FANGKONG_DATA_DIR"] = str(tmp_path / "data")
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'data' / 'drill.sqlite3'}"
        yield env
        return
    s = connection.settings_dict
    name = f"fk_drill_{uuid.uuid4().hex[:10]}"
    admin = {"host": s["HOST"] or None, "port": s["PORT"] or None, "user": s["USER"]}
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    env["DATABASE_URL"] = f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT']}/{name}"
    try:
        yield env
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **admin) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _fangkong(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "fangkong", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, f"fangkong {args[0]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _shell(env: dict[str, str], code: str) -> object:
    return json.loads(_fangkong(env, "shell", "-c", code).strip().splitlines()[-1])


def test_restore_drill(drill_env: dict[str, str], tmp_path: Path) -> None:
    env = drill_env
    _fangkong(env, "migrate", "--verbosity", "0")
    seeded = _shell(env, SEED)
    assert isinstance(seeded, dict)
    purged, kept = seeded["欧阳明镜"], seeded["皇甫雪莲"]
    backup_file = tmp_path / "drill.tar"
    _fangkong(env, "backup", "--output", str(backup_file))

    later = _shell(env, CHANGE)
    _fangkong(env, "retention", "purge", "--person", str(purged), "--reason", "erasure request")
    ledger = (Path(env["FANGKONG_DATA_DIR"]) / "purge-ledger.jsonl").read_text()
    assert str(purged) in ledger

    out = _fangkong(env, "restore", str(backup_file), "--yes")
    assert "re-applied purges: 1" in out

    state = _shell(env, CHECK)
    assert isinstance(state, dict)
    persons = state["persons"]
    assert persons[str(purged)] == ["", "", f"purged:{purged}"]  # purged again
    assert persons[str(kept)][:2] == ["皇甫雪莲", "15011223344"]  # the backup's data
    assert str(later) not in persons  # registered after the backup: not in it
    assert state["audit_ok"] is True
    assert "audit chain intact" in _fangkong(env, "audit", "verify")

    # Without --yes, or from a damaged file, nothing is restored.
    base = [sys.executable, "-m", "fangkong", "restore"]
    unconfirmed = subprocess.run(
        [*base, str(backup_file)], env=env, capture_output=True, text=True, check=False
    )
    assert unconfirmed.returncode != 0
    assert "--yes" in unconfirmed.stderr
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(backup_file) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith("database."))
    data = bytearray(backup_file.read_bytes())
    data[member.offset_data + member.size // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    refused = subprocess.run(
        [*base, str(damaged), "--yes"], env=env, capture_output=True, text=True, check=False
    )
    assert refused.returncode != 0
    assert "checksum" in refused.stderr

    if connection.vendor == "sqlite":
        # A backup whose audit chain was edited (and its checksum forged to match) is restored
        # but the command fails: the system must not serve until someone looks.
        forged = _forge_sqlite_backup(backup_file, tmp_path)
        broken = subprocess.run(
            [*base, str(forged), "--yes"], env=env, capture_output=True, text=True, check=False
        )
        assert broken.returncode != 0
        assert "audit chain does not verify" in broken.stderr


def _forge_sqlite_backup(original: Path, tmp_path: Path) -> Path:
    work = tmp_path / "forge"
    work.mkdir()
    with tarfile.open(original) as tar:
        manifest_member = tar.extractfile("manifest.json")
        dump_member = tar.extractfile("database.sqlite3")
        assert manifest_member is not None
        assert dump_member is not None
        manifest = json.loads(manifest_member.read())
        (work / "database.sqlite3").write_bytes(dump_member.read())
    db = sqlite3.connect(work / "database.sqlite3")
    db.execute("DROP TRIGGER audit_entry_no_update")
    db.execute("UPDATE audit_auditentry SET reason = 'nothing happened' WHERE seq = 1")
    db.commit()
    db.close()
    data = (work / "database.sqlite3").read_bytes()
    manifest["database"]["sha256"] = hashlib.sha256(data).hexdigest()
    (work / "manifest.json").write_text(json.dumps(manifest))
    forged = tmp_path / "forged.tar"
    with tarfile.open(forged, "w") as tar:
        tar.add(work / "manifest.json", arcname="manifest.json")
        tar.add(work / "database.sqlite3", arcname="database.sqlite3")
    return forged
