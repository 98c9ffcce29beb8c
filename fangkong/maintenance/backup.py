"""Backup and restore of the operational database, SQLite or PostgreSQL.

A backup is one tar file: `manifest.json` (when, which database, the audit chain's head, the
app version, the key ids loaded, a fingerprint of the blind-index key, a SHA-256 of the dump)
and the dump itself (SQLite's online backup API; `pg_dump -Fc` on a snapshot exported by the
transaction that read the audit head, so the manifest describes exactly the dump). Keys are NOT
in the backup: they are backed up separately, and a backup is useless without them.

A restore puts the database back, then, before the command returns: shreds again every
person in the purge ledger file (purges made after the backup), applies the retention policy,
checks that every ciphertext has a key, and verifies the audit chain; a failure exits non-zero.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction

from fangkong.audit import services as audit
from fangkong.audit.selectors import audit_verify
from fangkong.core import clock, crypto
from fangkong.core.actor import Actor
from fangkong.maintenance import keys, ledger, retention

MANIFEST = "manifest.json"
MEMBER = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
FORMAT = 1


class RestoreError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class RestoreResult:
    manifest: dict[str, Any]
    reapplied: int
    retention_counts: dict[str, int]
    audit_entries: int


def blind_key_fingerprint() -> str:
    """Names the blind-index key without revealing it: indexes only match under the same key."""
    return hmac.new(crypto.keyring().blind_key, b"fangkong key fingerprint", "sha256").hexdigest()[
        :16
    ]


def _app_version() -> str:
    try:
        return metadata.version("fangkong")
    except metadata.PackageNotFoundError:  # pragma: no cover - a checkout without install
        return "unknown"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_args(cmd: str) -> tuple[list[str], dict[str, str]]:
    s = connection.settings_dict
    args = [shutil.which(cmd) or f"/usr/bin/{cmd}"]
    for flag, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
        if s.get(key):
            args += [flag, str(s[key])]
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    return args, env


def _dump_sqlite(target: Path) -> tuple[int, str]:
    source = sqlite3.connect(f"file:{connection.settings_dict['NAME']}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # a consistent copy while the server keeps running
        row = copy.execute("SELECT seq, hash FROM audit_audithead WHERE id = 1").fetchone()
    finally:
        copy.close()
        source.close()
    return (int(row[0]), str(row[1])) if row else (0, "0" * 64)


def _dump_postgres(target: Path) -> tuple[int, str]:
    args, env = _pg_args("pg_dump")
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cur.execute("SELECT pg_export_snapshot()")
        snapshot = cur.fetchone()[0]
        cur.execute("SELECT seq, hash FROM audit_audithead WHERE id = 1")
        row = cur.fetchone()
        subprocess.run(  # noqa: S603 - fixed program, arguments from settings
            [
                *args,
                "-Fc",
                f"--snapshot={snapshot}",
                "-f",
                str(target),
                connection.settings_dict["NAME"],
            ],
            env=env,
            check=True,
            capture_output=True,
        )
    return (int(row[0]), str(row[1])) if row else (0, "0" * 64)


def backup(*, actor: Actor, output: Path | None = None) -> Path:
    """Write a backup file (mode 0600); returns its path."""
    retention._require_operator(actor)
    vendor = connection.vendor
    if vendor not in MEMBER:
        raise RestoreError(f"unsupported database {vendor}")
    now = clock.now()
    if output is None:
        output = Path(settings.DATA_DIR) / "backups" / f"fangkong-{vendor}-{now:%Y%m%dT%H%M%SZ}.tar"
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent) as tmp:
        dump = Path(tmp) / MEMBER[vendor]
        seq, head = _dump_sqlite(dump) if vendor == "sqlite" else _dump_postgres(dump)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": now.isoformat(),
            "vendor": vendor,
            "app_version": _app_version(),
            "audit_head": {"seq": seq, "hash": head},
            "encryption_keys_loaded": list(crypto.keyring().keys),
            "blind_key_fingerprint": blind_key_fingerprint(),
            "purge_ledger_lines": ledger.line_count(),
            "database": {
                "member": dump.name,
                "sha256": _sha256(dump),
                "bytes": dump.stat().st_size,
            },
        }
        partial = Path(tmp) / "backup.tar"
        with tarfile.open(partial, "w") as tar:
            body = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(body), int(now.timestamp())
            tar.addfile(info, io.BytesIO(body))
            tar.add(dump, arcname=dump.name)
        partial.chmod(0o600)
        partial.replace(output)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="maintenance.backup",
            target_type="maintenance.backup",
            target_id=output.name[:64],
            detail={"audit_head_seq": seq, "sha256": manifest["database"]["sha256"]},
        )
    return output


def read_manifest(path: Path) -> dict[str, Any]:
    with tarfile.open(path, "r") as tar:
        member = tar.extractfile(MANIFEST)
        if member is None:
            raise RestoreError("the backup has no manifest")
        data: dict[str, Any] = json.loads(member.read())
    return data


def _extract(path: Path, manifest: dict[str, Any], into: Path) -> Path:
    name = str(manifest["database"]["member"])
    if name not in MEMBER.values():
        raise RestoreError(f"unexpected member {name!r} in the backup")
    target = into / name  # a fixed name: nothing in the archive chooses where files go
    with tarfile.open(path, "r") as tar:
        source = tar.extractfile(name)
        if source is None:
            raise RestoreError("the backup has no database dump")
        with target.open("wb") as out:
            shutil.copyfileobj(source, out)
    if _sha256(target) != manifest["database"]["sha256"]:
        raise RestoreError("the database dump does not match its checksum: the file is damaged")
    return target


def _restore_sqlite(dump: Path) -> None:
    # Through the backup API into the live file: pages, WAL and locks are handled by SQLite.
    source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    live = sqlite3.connect(connection.settings_dict["NAME"])
    try:
        source.backup(live)
    finally:
        live.close()
        source.close()


def _restore_postgres(dump: Path) -> None:
    args, env = _pg_args("pg_restore")
    done = subprocess.run(  # noqa: S603 - fixed program, arguments from settings
        [
            *args,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "-d",
            connection.settings_dict["NAME"],
            str(dump),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RestoreError(f"pg_restore failed: {done.stderr.strip()[-2000:]}")


def _check_keys() -> None:
    loaded = set(crypto.keyring().keys)
    missing = {
        kid: label
        for label, counts in keys.key_usage().items()
        for kid in counts
        if kid not in loaded
    }
    if missing:
        raise RestoreError(
            f"values are encrypted under keys that are not loaded: {sorted(missing)} "
            "(restore the key files that were current when the backup was made)"
        )


def restore(*, actor: Actor, path: Path) -> RestoreResult:
    """Restore a backup into the configured database, re-apply purges, verify. Stop the server
    and workers first. Raises RestoreError; after the database was replaced, a failure means
    the restored system must not serve requests until the cause is fixed."""
    retention._require_operator(actor)
    manifest = read_manifest(path)
    if manifest.get("format") != FORMAT:
        raise RestoreError(f"unknown backup format {manifest.get('format')!r}")
    if manifest["vendor"] != connection.vendor:
        raise RestoreError(f"a {manifest['vendor']} backup cannot go into {connection.vendor}")
    if manifest["blind_key_fingerprint"] != blind_key_fingerprint():
        raise RestoreError("the blind-index key differs from the backup's: lookups would fail")
    with tempfile.TemporaryDirectory(dir=settings.DATA_DIR) as tmp:
        dump = _extract(path, manifest, Path(tmp))
        connections.close_all()
        if connection.vendor == "sqlite":
            _restore_sqlite(dump)
        else:
            _restore_postgres(dump)
    _check_keys()
    reapplied = retention.ledger_reapply(actor=actor)
    report = retention.retention_run(actor=actor)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="maintenance.restore",
            target_type="maintenance.backup",
            target_id=path.name[:64],
            detail={
                "backup_created_at": manifest["created_at"],
                "backup_audit_head_seq": manifest["audit_head"]["seq"],
                "purges_reapplied": reapplied,
            },
        )
    verified = audit_verify()
    if not verified.ok:
        raise RestoreError(f"the audit chain does not verify: {verified.problem}")
    with contextlib.suppress(OSError):
        os.sync()
    return RestoreResult(manifest, reapplied, report.counts, verified.checked)
