"""Outside demo/debug mode the platform refuses to start without its secrets."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("FANGKONG_", "DATABASE_URL"))}
    clean.update({"FANGKONG_DATA_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-m", "fangkong", "check"],
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    result = _run(tmp_path)
    assert result.returncode != 0
    assert "FANGKONG_SECRET_KEY is required" in result.stderr


def test_refuses_to_start_without_encryption_keys(tmp_path: Path) -> None:
    result = _run(tmp_path, FANGKONG_SECRET_KEY="s" * 50)
    assert result.returncode != 0
    assert "Missing key file" in result.stderr
    assert not (tmp_path / "keys").exists()  # nothing was generated behind the operator's back


def test_starts_with_keys_from_the_environment(tmp_path: Path) -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    blind = base64.b64encode(os.urandom(32)).decode()
    result = _run(
        tmp_path,
        FANGKONG_SECRET_KEY="s" * 50,
        FANGKONG_ENCRYPTION_KEYS=f"k2:{key}",
        FANGKONG_BLIND_INDEX_KEY=blind,
    )
    assert result.returncode == 0, result.stderr
